"""Train the MLP: python src/train.py [group=option] [key=value ...]."""

import os
import sys
from pathlib import Path

from omegaconf import DictConfig

from mlplab.cli import (
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    hydra_app,
    resume_command,
    run_dir,
    shown,
)
from mlplab.training.checks import validate


# A sweep (`-m`) ends with one table of its jobs: reporting/sweep.py, from their files.
@hydra_app("train", check=validate, multirun_end="mlplab.reporting.sweep.SweepSummary")
def main(cfg: DictConfig) -> None:
    cfg = validate(cfg)  # before importing torch: a typo costs a second, not a run
    from mlplab.evaluation.evaluate import report_test_metrics
    from mlplab.training.interrupt import Interrupted
    from mlplab.training.provenance import write_run_record
    from mlplab.training.run import train

    write_run_record(run_dir(), cfg)
    try:
        trainer_metrics = train(cfg, run_dir())
    except Interrupted as stop:
        print(_stopped(stop.checkpoint, stop.signal_name), file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED if stop.signal_name == "SIGINT" else EXIT_TERMINATED)
    report_test_metrics(cfg, run_dir(), trainer_metrics)


def _stopped(checkpoint: Path | None, signal_name: str) -> str:
    """The one line a Ctrl-C'd (or SIGTERM'd) run ends with: where its checkpoint is, how to
    continue."""
    stopped = "interrupted" if signal_name == "SIGINT" else f"stopped by {signal_name}"
    if checkpoint is None:
        return f"{stopped} before the first checkpoint: nothing to resume; run it again"
    if "DVC_STAGE" in os.environ:  # dvc repro / dvc exp run: the stage resumes by itself
        how = "run the same dvc command again (the train stage resumes it: resume=auto)"
    else:
        how = resume_command(run_dir())
    return f"{stopped}: checkpoints in {shown(checkpoint.parent)}/; to continue: {how}"


if __name__ == "__main__":
    main()

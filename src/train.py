"""Train the MLP: python src/train.py [group=option] [key=value ...]."""

import os
import sys
from collections.abc import Mapping
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


def report_test_metrics(cfg: DictConfig, out: Path, trainer_metrics: dict[str, float]) -> None:
    """The tested checkpoint scored as src/evaluate.py scores it: a table on stdout and, in a
    run's own directory, metrics/test.json and the plots evaluate writes. In the pipeline (run
    directory `.`) those files are the evaluate stage's outputs: the table only."""
    from mlplab.config.rules import plain
    from mlplab.data.store import prepared_dir
    from mlplab.evaluation.evaluate import evaluate_checkpoint, write_evaluation

    tested = out / "models" / f"{cfg.evaluate.weights}.ckpt"
    if not tested.is_file():  # its checkpoint callback disabled: the Trainer's test of the final
        print(_table("test metrics (final weights)", trainer_metrics))
        return
    data = cfg.data
    evaluation = evaluate_checkpoint(
        shown(tested),
        prepared_dir(cfg.paths.data_dir, data.name, plain(data.source), plain(data.split)),
        plain(data.split),
        cfg.evaluate.batch_size,
    )
    if out.resolve() != Path.cwd().resolve():
        write_evaluation(evaluation, out)
    print(_table(f"test metrics ({tested.name})", evaluation.metrics))


def _table(title: str, metrics: Mapping[str, object]) -> str:
    scalars = {k: v for k, v in metrics.items() if isinstance(v, float)}
    width = max((len(k) for k in scalars), default=0)
    return "\n".join([title, *(f"  {k:<{width}}  {v:.4f}" for k, v in scalars.items())])


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

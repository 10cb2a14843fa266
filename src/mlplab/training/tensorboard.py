"""TensorBoard for comparing runs: events straight in one directory, HParams from the run's config.

`RunTensorBoard` is Lightning's TensorBoardLogger without the `<name>/version_N` nesting: the
directory (training/naming.py) is the run, so `tensorboard --logdir logs` lists each run by
its name, and a resumed run appends to the same curves.

HParams tab: the logger writes the run's flattened config as an hparams *session* when the fit
starts and marks it finished after the test. It writes no hparams *experiment* summary (what
`log_hyperparams(params, metrics)` of Lightning writes): TensorBoard takes the first run's
experiment for the whole log directory, so runs with other keys or other metrics would lose
their columns. Without one it builds the table from every run's session, and its metric
columns are the scalar tags of the runs: `val/*`, `test/*`, and `best/val/*` (the epoch with
the lowest val/loss, logged by `log_results`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_only

# Config keys that do not change a result: where files go, whether to resume, what is shown.
NOT_HYPERPARAMETERS = (
    "paths",
    "resume",
    "logger",
    "evaluate.checkpoint",
    "evaluate.batch_size",
    "callbacks.progress_bar",
    "trainer.enable_model_summary",
    "trainer.enable_progress_bar",
    "trainer.profiler",
    "runtime.threads",
)

HParam = str | bool | int | float


def flat_hparams(config: dict[str, Any], name: str) -> dict[str, HParam]:
    """The resolved config as TensorBoard hparams: dotted keys, lists, booleans and nulls as
    their YAML text (`[256, 128]`, `true`, `null`), and the run's `name` first."""
    flat: dict[str, HParam] = {"name": name}

    def walk(node: Any, key: str) -> None:
        if key in NOT_HYPERPARAMETERS or key.endswith("._partial_"):
            return
        if isinstance(node, dict) and node:
            for k, v in node.items():
                walk(v, f"{key}.{k}" if key else str(k))
        elif isinstance(node, int | float | str) and not isinstance(node, bool):
            flat[key] = node
        else:  # lists, empty dicts, booleans, null
            flat[key] = json.dumps(node)

    walk(config, "")
    return flat


class RunTensorBoard(TensorBoardLogger):
    """TensorBoardLogger writing into `log_dir` itself, with the run's config as its hparams.

    `fresh` (a run not resumed from its own checkpoint) removes the event files a previous run
    left there (a forced re-run of a DVC experiment, `hydra.run.dir` reused), so one
    directory holds one run's curves.
    """

    def __init__(
        self, log_dir: str, run_hparams: dict[str, HParam], fresh: bool, **kwargs: Any
    ) -> None:
        super().__init__(save_dir=log_dir, name="", version="", default_hp_metric=False, **kwargs)
        self.run_hparams = run_hparams
        self.fresh = fresh

    @property
    def experiment(self) -> Any:
        if self._experiment is None and self.fresh and rank_zero_only.rank == 0:  # type: ignore[attr-defined]
            for old in Path(self.log_dir).glob("events.out.tfevents.*"):
                old.unlink()
        return super().experiment

    def log_hyperparams(self, params: Any, metrics: Any = None, step: int | None = None) -> None:
        """Lightning calls this when the fit starts with the LightningModule's arguments (nested,
        without seed, data, trainer or callbacks); the run's flattened config goes instead."""
        self._write_session(start=True)

    def log_results(self, metrics: dict[str, float], step: int) -> None:
        """Scalars for the HParams table's metric columns (e.g. best/val/acc), then the session's
        end: the run finished."""
        if metrics:
            self.log_metrics(metrics, step)
        self._write_session(start=False)
        if self._experiment is not None:
            self.experiment.close()

    def finalize(self, status: str) -> None:
        # Lightning closes the writer after fit and after test, and the next point opens a
        # new event file; one file per run process, closed by `log_results` (or at exit).
        if self._experiment is not None:
            self.experiment.flush()

    @rank_zero_only
    def _write_session(self, start: bool) -> None:
        from torch.utils.tensorboard.summary import hparams

        _, session_start, session_end = hparams(self.run_hparams, {})
        self.experiment._get_file_writer().add_summary(session_start if start else session_end)

    def save(self) -> None:
        # No hparams.yaml: run.json and .hydra/config.yaml hold the config.
        if self._experiment is not None:
            self.experiment.flush()

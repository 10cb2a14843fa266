"""mlplab's Hydra launcher: a `-m` sweep of train.py trains shape-compatible jobs together.

`hydra/launcher=batched` (train.py's default, configs/hydra/launcher/batched.yaml). Every job
runs as under Hydra's basic launcher, except that a train.py job whose run can share a stacked
network with others (training/batched.py) is set aside at `train()`; those with equal configs
outside the batchable keys then train as one group of at most `max_models`, and each job
finishes (test table, metrics/test.json) with its own run's result. `hydra/launcher=basic`
trains every job alone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.utils import JobReturn, configure_log, filter_overrides, run_job, setup_globals
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, open_dict

log = logging.getLogger(__name__)


class CheckedSweeper(BasicSweeper):
    """Hydra's basic sweeper without its second composition of every job before launching:
    the entry scripts (mlplab.cli.hydra_app) compose and check every job of a sweep before
    Hydra starts, and the launcher composes each again to run it (`hydra/sweeper=checked`)."""

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        return None


class BatchedLauncher(Launcher):
    def __init__(self, max_models: int) -> None:
        super().__init__()
        self.max_models = max_models
        self.config: DictConfig | None = None
        self.task_function: TaskFunction | None = None
        self.hydra_context: HydraContext | None = None

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.config, self.hydra_context, self.task_function = config, hydra_context, task_function

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        from mlplab.training import batched

        setup_globals()
        assert self.config is not None and self.hydra_context is not None
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        log.info(f"Launching {len(job_overrides)} jobs locally")
        returns: dict[int, JobReturn] = {}
        waiting: dict[str, list[tuple[int, DictConfig, Any]]] = {}
        for offset, overrides in enumerate(job_overrides):
            idx = initial_job_idx + offset
            log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")
            config = self.hydra_context.config_loader.load_sweep_config(
                self.config, list(overrides)
            )
            with open_dict(config):
                config.hydra.job.id = idx
                config.hydra.job.num = idx
            try:
                with batched.collecting():
                    returns[idx] = self._run(config)
            except batched.Deferred as deferred:
                configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
                waiting.setdefault(deferred.key, []).append((idx, config, deferred))
        for jobs in waiting.values():
            for start in range(0, len(jobs), self.max_models):
                chunk = jobs[start : start + self.max_models]
                if len(chunk) > 1:
                    from mlplab.training.group import train_group

                    train_group([(d.cfg, d.run_dir) for _, _, d in chunk])
                for idx, config, _ in chunk:  # each job ends as usual, with its run's result
                    returns[idx] = self._run(config)
        return [returns[idx] for idx in sorted(returns)]

    def _run(self, config: DictConfig) -> JobReturn:
        assert self.config is not None and self.hydra_context is not None
        assert self.task_function is not None
        ret = run_job(
            hydra_context=self.hydra_context,
            task_function=self.task_function,
            config=config,
            job_dir_key="hydra.sweep.dir",
            job_subdir_key="hydra.sweep.subdir",
        )
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        return ret

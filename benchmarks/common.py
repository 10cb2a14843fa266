"""What every benchmark child shares: the composed config and memory readings."""

from __future__ import annotations

import argparse
import contextlib
import resource
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

REPO = Path(__file__).resolve().parents[1]
DATA = "synthetic_classification"


def child_args(*extra: str) -> argparse.Namespace:
    """The arguments every benchmark child process takes from benchmarks/run.py."""
    parser = argparse.ArgumentParser()
    for name in ("--rows", "--features", "--batch-size"):
        parser.add_argument(name, type=int, required=True)
    for name in ("--data-dir", "--out", *extra):
        parser.add_argument(name, required=True)
    return parser.parse_args()


def bench_config(
    rows: int, features: int, batch_size: int, data_dir: str | Path, *extra: str
) -> DictConfig:
    """The default config on `rows` x `features` synthetic data: the same for every child, so
    the training children find the prepare child's arrays current and prepare nothing."""
    from mlplab.training.checks import validate

    overrides = [
        f"data={DATA}",
        f"data.source.n_samples={rows}",
        f"data.source.n_features={features}",
        f"data.batch_size={batch_size}",
        "trainer.max_epochs=1",
        "trainer.accelerator=cpu",
        f"paths.data_dir={data_dir}",
        *extra,
    ]
    with initialize_config_dir(config_dir=str(REPO / "configs"), version_base="1.3"):
        return validate(compose(config_name="train", overrides=overrides))


def _status_kb(field: str) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    return None


def rss_bytes() -> int:
    """Resident memory now (Linux); 0 where /proc is missing."""
    return (_status_kb("VmRSS") or 0) * 1024


def peak_rss_bytes() -> int:
    """The process's peak resident memory: VmHWM, else getrusage (kB on Linux)."""
    kb = _status_kb("VmHWM")
    return (kb if kb is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024

"""What the harness and its prepare child share: composing the config and memory readings."""

from __future__ import annotations

import contextlib
import resource
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

REPO = Path(__file__).resolve().parents[1]


def synthetic_overrides(rows: int, features: int, data_dir: str | Path) -> list[str]:
    """The synthetic dataset: `rows` x `features` Gaussian-mixture rows under `data_dir`."""
    return [
        "data=synthetic_classification",
        f"data.source.n_samples={rows}",
        f"data.source.n_features={features}",
        f"paths.data_dir={data_dir}",
    ]


def compose_config(overrides: list[str]) -> DictConfig:
    """configs/train.yaml with `overrides`, validated as src/train.py validates it."""
    from mlplab.training.checks import validate

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

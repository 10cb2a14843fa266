"""Shared fixtures: the repository root, composed configs, subprocess helpers, repo copies."""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


# A quiet CPU run of a few batches: `compose_cfg(*QUICK, ...)`.
QUICK = (
    "trainer.accelerator=cpu",
    "callbacks.progress_bar=null",
    "trainer.enable_model_summary=false",
    "++trainer.limit_train_batches=4",
    "++trainer.limit_val_batches=2",
    "++trainer.limit_test_batches=1",
    "trainer.log_every_n_steps=1",
)


def compose_cfg(*overrides: str) -> DictConfig:
    """Compose configs/train.yaml with overrides, as an entry script would (no hydra node)."""
    with initialize_config_dir(config_dir=str(REPO / "configs"), version_base="1.3"):
        return compose(config_name="train", overrides=list(overrides))


def group_options(group: str) -> list[str]:
    """The selectable options of a config group (`_base` files are shared settings, not options)."""
    return sorted(p.stem for p in (REPO / "configs" / group).glob("*.yaml") if p.stem[0] != "_")


@functools.cache
def _default_spec_values() -> dict:
    from mlplab.models.mlp import spec_from_config

    model = OmegaConf.to_container(compose_cfg().model, resolve=True)
    return spec_from_config(model, in_features=0, out_features=0).to_dict()


def make_spec(*args, **kwargs):
    """An MLPSpec: the given fields (positional in field order, or by name), every other one
    from the default `model` config (configs/model/mlp.yaml), the one home of its defaults."""
    from mlplab.models.mlp import MLPSpec

    names = [f.name for f in dataclasses.fields(MLPSpec)]
    return MLPSpec.from_dict(
        {**_default_spec_values(), **dict(zip(names[: len(args)], args, strict=True)), **kwargs}
    )


def make_module(spec: dict, meta: dict, **hparams):
    """An MLPModule for `meta["task"]` with the default config's optimizer, scheduler,
    objective and regularization, each replaceable through `hparams`."""
    from mlplab.models.module import MLPModule

    cfg = compose_cfg()
    nodes = ("optimizer", "scheduler", "objective", "regularization")
    defaults = {k: OmegaConf.to_container(cfg[k], resolve=True) for k in nodes}
    return MLPModule(
        spec=spec,
        task=meta["task"],
        meta=meta,
        split_digest="0" * 16,
        **{**defaults, **hparams},
    )


def cpu_run_cfg(data_dir: Path, *overrides: str) -> DictConfig:
    """A validated config for a quiet CPU run whose prepared data lives in `data_dir`."""
    from mlplab.training.checks import validate

    return validate(
        compose_cfg(
            "trainer.accelerator=cpu",
            f"paths.data_dir={data_dir}",
            "callbacks.progress_bar=null",
            "trainer.enable_model_summary=false",
            *overrides,
        )
    )


def subprocess_env() -> dict[str, str]:
    """The environment of a user with the venv activated."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["DVC_NO_ANALYTICS"] = "1"
    env.pop("MLPLAB_DEBUG", None)
    return env


def run(cmd: Sequence[str] | str, cwd: Path, check: bool = True, timeout: int = 600):
    """Run a command as a user would; on failure show its output in the test report."""
    result = subprocess.run(
        cmd,
        cwd=cwd,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        shell=isinstance(cmd, str),
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"{cmd} exited {result.returncode}\n--- stdout ---\n{result.stdout[-4000:]}"
            f"\n--- stderr ---\n{result.stderr[-4000:]}"
        )
    return result


def copy_repo(dest: Path) -> Path:
    """Copy the working tree (tracked and untracked, not ignored files) into a new git repo.

    mtimes are kept, so the Makefile sees the venv as installed for this lock file.
    """
    listed = (
        subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for rel in filter(None, listed):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=dest, check=True)
    subprocess.run(["git", "add", "-A"], cwd=dest, check=True)
    subprocess.run([*git, "commit", "-qm", "copy"], cwd=dest, check=True)
    return dest


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """data_dir holding prepared digits, shared by the whole session."""
    from mlplab.data.store import prepare

    data_dir = tmp_path_factory.mktemp("prepared")
    prepare(data_dir, "digits", {}, OmegaConf.to_container(compose_cfg().data.split))
    return data_dir

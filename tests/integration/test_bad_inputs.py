"""Every bad input to an entry script: exit code 2, one `error:` line naming the key or file,
and nothing written anywhere (no run directory, no .hydra/, no log), before any work starts.

All cases run at once, as real subprocesses of the real scripts, in one copy of the repo.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

from tests.conftest import copy_repo, subprocess_env

GPU = torch.cuda.is_available()

# (script, arguments, what the one line must contain)
CASES = [
    ("train.py", "data=nope", ["config group 'data' has no option 'nope'", "digits, iris"]),
    ("train.py", "optimizer=foo", ["config group 'optimizer'", "adamw, nadam"]),
    ("train.py", "scheduler=nope", ["config group 'scheduler'", "cosine"]),
    ("train.py", "callbacks=nope", ["config group 'callbacks'", "max_norm"]),
    ("train.py", "model.hiden_sizes=[8]", ["'model.hiden_sizes'", "'model.hidden_sizes'"]),
    ("train.py", "optimizer.lrr=0.1", ["'optimizer.lrr'", "did you mean 'optimizer.lr'"]),
    ("train.py", "max_epochs=3", ["'max_epochs'", "did you mean 'trainer.max_epochs'"]),
    ("train.py", "'model.hidden_sizes=[8,'", ["'model.hidden_sizes=[8,'", "syntax"]),
    ("train.py", "trainer.devices=0", ["'trainer.devices' is 0", "integer >= 1"]),
    ("train.py", "trainer.precision=bad", ["'trainer.precision' is 'bad'", "bf16-mixed"]),
    ("train.py", "trainer.max_epoch=3", ["'trainer.max_epoch'", "'trainer.max_epochs'"]),
    (
        "train.py",
        "callbacks.diagnostics.every_n_steps=0",
        ["'callbacks.diagnostics.every_n_steps' is 0", "integer >= 1"],
    ),
    (
        "train.py",
        "callbacks.diagnostics.update_ratio_range=[-2,-4]",
        ["'callbacks.diagnostics.update_ratio_range'", "low < high"],
    ),
    (
        "train.py",
        "callbacks.early_stopping.monitor=val/nope",
        ["'callbacks.early_stopping.monitor' is 'val/nope'", "val/loss"],
    ),
    (
        "train.py",
        "callbacks.early_stopping.monitor=null",
        ["'callbacks.early_stopping.monitor' is null"],
    ),
    (
        "train.py",
        "callbacks.last_checkpoint._target_=lightning.pytorch.callbacks.ModelCheckpoint "
        "callbacks.last_checkpoint.every_n_epochs=null callbacks.model_checkpoint.monitor=null",
        ["'callbacks.last_checkpoint.monitor'", "callbacks.model_checkpoint.monitor"],
    ),
    ("train.py", "paths.data_dir=README.md/prepared", ["'paths.data_dir'", "README.md"]),
    ("train.py", "optimizer=sgd optimizer.momentum=0", ["'optimizer.momentum' is 0", "nesterov"]),
    ("train.py", "runtime.threads=0", ["'runtime.threads' is 0", "integer >= 1"]),
    (
        "train.py",
        "callbacks.last_checkpoint.every_n_epochs=0",
        ["'callbacks.last_checkpoint.every_n_epochs' is 0", "integer >= 1"],
    ),
    ("train.py", "runtime.matmul_precision=low", ["'runtime.matmul_precision'", "highest"]),
    ("train.py", "runtime.compile=maybe", ["'runtime.compile'"]),
    ("train.py", "runtime.engine=fast", ["'runtime.engine'", "auto", "stacked"]),
    (
        "train.py",
        "runtime.engine=stacked model.norm=layernorm",
        ["'runtime.engine' is stacked", "model.norm=layernorm", "runtime.engine=auto"],
    ),
    ("train.py", "optimizer.foreach=2", ["'optimizer.foreach' is 2", "true, false or null"]),
    (
        "train.py",
        "trainer.precision=bf16-mixed",
        ["'trainer.precision' is 'bf16-mixed'", "optimizer.fused=null"],
    ),
    ("train.py", "-m model.dropout=0.1,0.2 optimizer.lrr=1", ["'optimizer.lr'"]),
    ("train.py", "-m model.dropout=0.1,1.5", ["'model.dropout' is 1.5"]),
    ("train.py", "model.activation=relux", ["config key 'model.activation' is 'relux'"]),
    ("train.py", "data.split.test=0.5", ["sum to 1.4"]),
    ("prepare.py", "+data.source.bogus=1", ["data.source.bogus"]),
    ("prepare.py", "data=nope", ["config group 'data' has no option 'nope'"]),
    ("evaluate.py", "evaluate.checkpoint=nowhere.ckpt", ["checkpoint nowhere.ckpt does not"]),
    ("evaluate.py", "evaluate.checkpoint=README.md", ["README.md", "is not a checkpoint"]),
    ("find_lr.py", "lr_find.num_training=5", ["'lr_find.num_training' is 5"]),
    ("report.py", "seed=abc", ["'seed'"]),
    ("predict.py", "", ["config key 'input'", "required"]),
    (
        "predict.py",
        "ckpt_path=README.md input=data/examples/fruit.csv",
        ["README.md (ckpt_path) is not a checkpoint"],
    ),
    ("predict.py", "input=nope.csv", ["input nope.csv does not exist"]),
]
if not GPU:
    CASES.append(("train.py", "trainer.accelerator=gpu", ["'trainer.accelerator' is 'gpu'"]))

IGNORED = {".git", ".venv", ".dvc/tmp", ".dvc/cache", ".pytest_cache", ".ruff_cache"}


def snapshot(root: Path) -> set[str]:
    """Every file and directory under `root`, but VCS, venv and tool caches."""
    found = set()
    for here, dirs, files in os.walk(root):
        rel = Path(here).relative_to(root)
        dirs[:] = [d for d in dirs if str(rel / d) not in IGNORED and d != "__pycache__"]
        found |= {str(rel / name) for name in [*dirs, *files]}
    return found


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Run every case at once in one repo copy: (results by case, paths the cases created)."""
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    before = snapshot(repo)

    def one(case):
        script, args, _ = case
        start = time.monotonic()
        done = subprocess.run(
            ["python", f"src/{script}", *shlex.split(args)],
            cwd=repo,
            env=subprocess_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        return done, time.monotonic() - start

    with ThreadPoolExecutor(max_workers=max(2, (os.cpu_count() or 2))) as pool:
        results = dict(zip(range(len(CASES)), pool.map(one, CASES), strict=True))
    return results, sorted(snapshot(repo) - before)


@pytest.mark.parametrize("index", range(len(CASES)), ids=[f"{s} {a}" for s, a, _ in CASES])
def test_bad_input_is_one_error_line_naming_it_with_exit_code_2(outcomes, index):
    results, _ = outcomes
    done, _seconds = results[index]
    _, _, expected = CASES[index]
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode == 2, lines
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    for text in expected:
        assert text in lines[0]


def test_bad_inputs_write_nothing_anywhere_in_the_repo(outcomes):
    _, created = outcomes
    assert created == []


def test_bad_inputs_that_read_no_data_are_refused_within_seconds(outcomes):
    """Each case alone takes 1-2 s; run together on few cores the slowest stays under 20 s,
    where training would take minutes."""
    results, _ = outcomes
    assert max(seconds for _, seconds in results.values()) < 20

"""Entry scripts: one-line errors before anything is written, a unique directory per run, and
the run's provenance in run.json and in its checkpoint.

tests/integration/test_bad_inputs.py runs the full table of bad inputs.
"""

from __future__ import annotations

import json
import subprocess
from importlib.metadata import version

import pytest
import torch
import yaml

from tests.conftest import REPO, copy_repo, run, subprocess_env

TINY = [
    "debug=fast",
    "trainer.max_epochs=1",
    "trainer.limit_train_batches=2",
    "trainer.enable_model_summary=false",
    "callbacks.progress_bar=null",
    "logger.tensorboard=null",
]


@pytest.mark.parametrize(
    ("script", "override", "expected"),
    [
        ("train.py", "model.activation=relux", "config key 'model.activation' is 'relux'"),
        ("evaluate.py", "evaluate.checkpoint=nowhere.ckpt", "checkpoint nowhere.ckpt does not"),
    ],
)
def test_user_error_is_one_line_on_stderr_with_exit_code_2(tmp_path, script, override, expected):
    out = tmp_path / "run"
    result = run(["python", f"src/{script}", override, f"hydra.run.dir={out}"], REPO, check=False)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert expected in lines[0]
    assert not out.exists()  # Hydra never started: no .hydra/, no log


def test_two_runs_started_together_get_their_own_directories_and_provenance(tmp_path):
    repo = copy_repo(tmp_path)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    command = ["python", "src/train.py", *TINY]
    procs = [
        subprocess.Popen(command, cwd=repo, env=subprocess_env(), stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    runs = sorted((repo / "logs" / "runs").iterdir())
    assert len(runs) == 2
    announced = sorted(out.splitlines()[0] for out in outputs)
    assert announced == [f"run directory: logs/runs/{d.name}" for d in runs]
    for run_dir in runs:
        # time to the millisecond, then the sorted overrides, cut at 80 characters
        assert run_dir.name[23:] == "_" + "+".join(sorted(TINY)).replace("=", "-")[:80]
        assert yaml.safe_load((run_dir / ".hydra" / "overrides.yaml").read_text()) == TINY
        record = json.loads((run_dir / "run.json").read_text())
        assert record["git"] == {"commit": head, "dirty": False}
        assert record["command"][1:] == command[1:]
        assert record["config"]["trainer"]["max_epochs"] == 1
        assert set(record["packages"]) >= {"torch", "lightning", "hydra-core", "dvc", "numpy"}
        assert record["packages"]["torch"] == version("torch")  # the installed distribution
        saved = torch.load(run_dir / "models" / "last.ckpt", map_location="cpu", weights_only=True)
        assert saved["provenance"]["git"]["commit"] == head
        assert saved["provenance"]["config"] == record["config"]


def test_a_multirun_makes_one_directory_per_job_named_by_its_overrides(tmp_path):
    repo = copy_repo(tmp_path)
    run(["python", "src/prepare.py", "-m", "data=iris,wine"], repo)
    (sweep,) = (repo / "logs" / "multiruns").iterdir()
    jobs = sorted(p.name for p in sweep.iterdir() if p.is_dir())
    assert jobs == ["0_data-iris", "1_data-wine"]
    for job, data in zip(jobs, ("iris", "wine"), strict=True):
        overrides = yaml.safe_load((sweep / job / ".hydra" / "overrides.yaml").read_text())
        assert overrides == [f"data={data}"]

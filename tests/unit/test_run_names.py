"""Where a run's TensorBoard events go and the name they show under `tensorboard --logdir logs`:
the run directory for train.py runs, logs/exps/<name> of the parent repository for DVC
experiments (queued ones run in a temporary copy), logs/pipeline for `dvc repro`."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlplab.training.naming import dvc_experiment, run_name, tensorboard_dir
from mlplab.training.tensorboard import flat_hparams


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DVC_EXP_NAME", raising=False)
    monkeypatch.delenv("DVC_ROOT", raising=False)
    return tmp_path


def test_an_ad_hoc_run_is_named_by_its_directory_under_logs(repo):
    run_dir = Path("logs/runs/2026-11-25_21-40-00.123_model.dropout-0.3")
    assert tensorboard_dir(run_dir) == run_dir
    assert run_name(run_dir) == "runs/2026-11-25_21-40-00.123_model.dropout-0.3"
    job = repo / "logs" / "multiruns" / "2026-11-25_21-40-00.123" / "3_seed-2"
    assert run_name(job) == "multiruns/2026-11-25_21-40-00.123/3_seed-2"
    assert run_name(repo / "elsewhere" / "mine") == "mine"
    assert dvc_experiment() is None


def test_the_dvc_pipeline_logs_to_logs_pipeline(repo):
    assert tensorboard_dir(Path(".")) == Path("logs/pipeline")
    assert run_name(Path(".")) == "pipeline"


def test_a_queued_dvc_experiment_logs_into_the_parent_repository(repo, monkeypatch, tmp_path):
    parent = tmp_path / "parent"
    workspace = tmp_path / "tmp-workspace"
    workspace.mkdir()
    monkeypatch.chdir(workspace)
    monkeypatch.setenv("DVC_EXP_NAME", "lucid-lamb")
    monkeypatch.setenv("DVC_ROOT", str(parent))
    assert tensorboard_dir(Path(".")) == parent / "logs" / "exps" / "lucid-lamb"
    assert run_name(Path(".")) == "exps/lucid-lamb"
    assert dvc_experiment() == "lucid-lamb"


def test_hparams_are_the_flat_config_without_paths_or_resume():
    config = {
        "seed": 7,
        "resume": False,
        "paths": {"data_dir": "data/prepared"},
        "model": {"hidden_sizes": [8, 8], "dropout": 0.3, "norm": None, "bias": True},
        "optimizer": {"_target_": "torch.optim.AdamW", "_partial_": True, "lr": 0.001},
    }
    assert flat_hparams(config, "runs/x") == {
        "name": "runs/x",
        "seed": 7,
        "model.hidden_sizes": "[8, 8]",
        "model.dropout": 0.3,
        "model.norm": "null",
        "model.bias": "true",
        "optimizer._target_": "torch.optim.AdamW",
        "optimizer.lr": 0.001,
    }

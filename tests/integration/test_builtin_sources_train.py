"""Every bundled and generated source trains through `train()`: two epochs lower the loss."""

from __future__ import annotations

import csv

import pytest

from mlplab.training.checks import validate
from mlplab.training.run import train
from tests.conftest import compose_cfg

pytestmark = pytest.mark.slow

CASES = {
    "iris": ["data.batch_size=16"],
    "wine": ["data.batch_size=16"],
    "blobs": ["data.source.n_samples=400"],
    "synthetic_classification": ["data.source.n_samples=3000", "data.batch_size=128"],
    "synthetic_regression": ["data.source.n_samples=3000", "data.batch_size=128"],
    "names": ["model=char_mlp", "data.batch_size=512"],
    "mnist1d": ["data.batch_size=128"],
}


@pytest.mark.parametrize("name", list(CASES))
def test_two_epochs_on_the_source_lower_the_training_loss(tmp_path, name):
    cfg = validate(
        compose_cfg(
            f"data={name}",
            *CASES[name],
            "trainer.max_epochs=2",
            "trainer.accelerator=cpu",
            f"paths.data_dir={tmp_path / 'data'}",
            "callbacks.progress_bar=null",
            "trainer.enable_model_summary=false",
        )
    )
    metrics = train(cfg, tmp_path / "run")
    with (tmp_path / "run" / "plots" / "history.csv").open() as f:
        losses = [float(row["train/loss"]) for row in csv.DictReader(f)]
    assert len(losses) == 2
    assert losses[1] < losses[0]
    assert "test/loss" in metrics

"""Pruning in rounds (Zhu & Gupta 2017) through the real Trainer on digits, and the model-size
facts of metrics/train.json: parameters, non-zero weights, FLOPs per example."""

from __future__ import annotations

import csv
import json
from itertools import pairwise
from pathlib import Path

import pytest
import torch

from mlplab.training.checks import validate
from mlplab.training.pruning import sparsity_targets
from mlplab.training.run import train
from tests.conftest import QUICK as CONFTEST_QUICK
from tests.conftest import compose_cfg

pytestmark = pytest.mark.slow

QUICK = (*CONFTEST_QUICK, "trainer.max_epochs=2")
# Three rounds, at the start of epochs 1, 2 and 3, then epoch 4 fine-tunes.
ROUNDS = (
    "callbacks.pruning.at_epoch=1",
    "callbacks.pruning.rounds=3",
    "callbacks.pruning.every=1",
    "trainer.max_epochs=5",
)
WIDTHS = (64, 256, 128, 10)  # digits' features, the default hidden sizes, its classes


def _train(run_dir: Path, data_dir: Path, *overrides: str) -> None:
    train(validate(compose_cfg(f"paths.data_dir={data_dir}", *QUICK, *overrides)), run_dir)


def _sparsity_per_epoch(run_dir: Path) -> list[float]:
    with (run_dir / "plots" / "history.csv").open() as f:
        return [float(row["train/hidden_sparsity"]) for row in csv.DictReader(f)]


def _state(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "models" / "last.ckpt", weights_only=True)["state_dict"]


def test_three_rounds_reach_the_amount_in_cubic_steps_and_fine_tune_between(tmp_path, digits_dir):
    _train(tmp_path, digits_dir, "callbacks=pruning", *ROUNDS)
    hidden = [WIDTHS[i] * WIDTHS[i + 1] for i in (0, 1)]  # 16384 + 32768 weights
    steps = [round(s * sum(hidden)) / sum(hidden) for s in sparsity_targets(0.5, 3, "cubic")]
    assert steps == pytest.approx([0.3518473, 0.4814860, 0.5])
    # Each epoch trained with the pruned fraction its round reached: 0, three steps, then held.
    assert _sparsity_per_epoch(tmp_path) == pytest.approx([0.0, *steps, 0.5])
    state = _state(tmp_path)
    zeros = sum(int((state[f"net.hidden_{i}.linear.weight"] == 0).sum()) for i in (0, 1))
    assert zeros == sum(hidden) // 2
    assert not any(k.endswith(("_orig", "_mask")) for k in state)  # plain weights, loadable
    # train.json: the size of the tested (last, pruned) weights. The dense network's FLOPs are
    # 2 per weight plus the output bias (the hidden Linears have none before BatchNorm).
    summary = json.loads((tmp_path / "metrics" / "train.json").read_text())
    weights = sum(a * b for a, b in pairwise(WIDTHS))
    assert summary["parameters"] == sum(t.numel() for t in _parameters(state))
    assert summary["flops"] == 2 * weights + 10
    assert summary["nonzero_weights"] == weights - zeros
    assert summary["sparse_flops"] == summary["flops"] - 2 * zeros
    assert summary["weight_sparsity"] == pytest.approx(zeros / weights)
    assert summary["final"]["train/hidden_sparsity"] == 0.5


def _parameters(state: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    """The network's trainable tensors: BatchNorm's running statistics are buffers."""
    stats = ("running_mean", "running_var", "num_batches_tracked")
    return [t for k, t in state.items() if k.startswith("net.") and not k.endswith(stats)]


def test_structured_rounds_remove_whole_units_per_layer_in_linear_steps(tmp_path, digits_dir):
    overrides = ("callbacks=pruning_structured", "callbacks.pruning.schedule=linear", *ROUNDS)
    _train(tmp_path, digits_dir, *overrides)
    fan_in = {256: 64, 128: 256}
    rows = {w: [round(s * w) for s in sparsity_targets(0.5, 3, "linear")] for w in fan_in}
    assert rows == {256: [43, 85, 128], 128: [21, 43, 64]}  # 1/6, 1/3, 1/2 of each layer
    pruned = [sum(rows[w][r] * fan_in[w] for w in fan_in) / 49152 for r in range(3)]
    assert _sparsity_per_epoch(tmp_path) == pytest.approx([0.0, *pruned, 0.5])
    state = _state(tmp_path)
    for i, width in enumerate((256, 128)):
        w = state[f"net.hidden_{i}.linear.weight"]
        dead = (w == 0).all(dim=1)
        assert int(dead.sum()) == width // 2
        assert int((w[~dead] == 0).sum()) == 0  # the surviving units keep every weight


def test_the_model_summary_runs_an_example_without_changing_any_number(tmp_path, digits_dir):
    # The summary (on) runs the example input through the model at fit start; off, it does not.
    for summary in ("true", "false"):
        _train(tmp_path / summary, digits_dir, f"trainer.enable_model_summary={summary}")
    on, off = tmp_path / "true", tmp_path / "false"
    history = (on / "plots" / "history.csv").read_text()
    assert history == (off / "plots" / "history.csv").read_text()
    assert "val/loss" in history.splitlines()[0]
    for key, tensor in _state(on).items():
        assert torch.equal(tensor, _state(off)[key]), key


def test_the_model_summary_counts_the_flops_of_one_token_window():
    from lightning.pytorch.utilities.model_summary import ModelSummary

    from tests.conftest import make_module, make_spec

    spec = make_spec(
        in_features=3,
        out_features=27,
        hidden_sizes=(200,),
        input_kind="embedding",
        vocab_size=27,
        context_length=3,
        embedding_dim=10,
    )
    meta = {"task": "multiclass", "class_names": [".", *"abcdefghijklmnopqrstuvwxyz"]}
    model = make_module(spec.to_dict(), meta)
    assert model.example_input_array.dtype == torch.int64
    # Two FLOPs per weight of Linear(30, 200) and Linear(200, 27); the lookup counts none.
    assert ModelSummary(model).total_flops == 2 * (30 * 200 + 200 * 27)

"""The diagnostics callback's measures on known tensors, its layer names, and its saved state."""

from __future__ import annotations

import io
import math

import pytest
import torch
from omegaconf import OmegaConf

from mlplab.models.mlp import build_mlp
from mlplab.training.diagnostics import (
    Diagnostics,
    dead_fraction,
    grad_data_ratio,
    histogram,
    host,
    saturated_fraction,
    update_ratio,
)
from tests.conftest import compose_cfg, make_spec


def _callback() -> Diagnostics:
    node = OmegaConf.to_container(compose_cfg().callbacks.diagnostics)
    node.pop("_target_")
    return Diagnostics(**node)


def test_update_ratio_of_an_sgd_step_is_log10_of_lr_times_grad_std_over_weight_std():
    torch.manual_seed(0)
    weight = torch.nn.Parameter(torch.randn(128, 64) * 0.1)
    weight.grad = torch.randn(128, 64) * 0.02
    lr = 0.05
    before = weight.detach().clone()
    torch.optim.SGD([weight], lr=lr).step()
    expected = math.log10(lr * weight.grad.std().item() / before.std().item())
    assert update_ratio(host(before), host(weight)) == pytest.approx(expected, abs=1e-5)
    assert grad_data_ratio(host(weight.grad), host(before)) == pytest.approx(0.2, rel=0.05)


def test_update_ratio_of_no_change_is_minus_infinity():
    weight = host(torch.randn(8, 8))
    assert update_ratio(weight, weight.copy()) == -math.inf


def test_saturation_counts_tanh_beyond_0_97_and_sigmoid_outside_0_03_to_0_97():
    tanh_out = host(torch.tensor([[0.99, -0.98, 0.5, 0.0]]))
    sigmoid_out = host(torch.tensor([[0.01, 0.995, 0.5, 0.2], [0.9, 0.96, 0.04, 0.029]]))
    assert saturated_fraction(tanh_out, "tanh", 0.97, 0.03) == 0.5
    assert saturated_fraction(sigmoid_out, "sigmoid", 0.97, 0.03) == pytest.approx(3 / 8)


def test_dead_fraction_is_the_share_of_units_never_positive_over_the_batch():
    act = torch.tensor([[0.0, 0.0, -1.0, 2.0], [0.0, 3.0, -0.5, 1.0], [0.0, 0.0, 0.0, 0.5]])
    assert dead_fraction(host(act)) == pytest.approx(2 / 4)  # units 0 and 2


def test_histogram_has_bins_plus_one_edges_and_counts_every_finite_value():
    values = torch.cat([torch.linspace(-2, 3, 1000), torch.tensor([math.nan, math.inf])])
    hist = histogram(host(values), 30)
    assert len(hist["edges"]) == 31 and len(hist["counts"]) == 30
    assert sum(hist["counts"]) == 1000
    assert hist["edges"][0] == pytest.approx(-2) and hist["edges"][-1] == pytest.approx(3)


def test_layers_are_named_hidden_0_to_n_then_output_with_their_activation_modules():
    net = build_mlp(make_spec(10, 3, (16, 8, 4), activation="tanh"))
    layers = Diagnostics.layers(net)
    assert [name for name, _, _ in layers] == ["hidden.0", "hidden.1", "hidden.2", "output"]
    assert [type(act).__name__ for _, _, act in layers] == ["Tanh", "Tanh", "Tanh", "NoneType"]
    assert layers[-1][1].out_features == 3


def test_saved_state_restores_rows_and_fired_warnings_through_torch_save():
    first = _callback()
    row = {
        "step": 0,
        "epoch": 0,
        "layer": "hidden.0",
        "act_mean": 0.5,
        "act_std": 0.4,
        "saturated": 0.9,
        "dead": None,
        "grad_norm": 1.0,
        "grad_data_ratio": 0.01,
        "update_ratio": -math.inf,
    }
    first.rows.append(row)
    first._check([row], 0)
    assert [w["condition"] for w in first.warnings] == ["saturated"]
    buffer = io.BytesIO()
    torch.save(first.state_dict(), buffer)
    buffer.seek(0)
    second = _callback()
    second.load_state_dict(torch.load(buffer, weights_only=True))
    assert second.layers_csv() == first.layers_csv()
    assert second.layers_csv().splitlines()[1] == "0,0,hidden.0,0.5,0.4,0.9,,1,0.01,"
    second._check([row], 0)  # fired before the checkpoint: not again
    assert second.warnings == first.warnings

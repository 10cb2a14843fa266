"""Initialisation schemes: variance, bounds, fans, orthogonality, and what `auto` picks."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys

import pytest
import torch
from torch import nn

from mlplab.models.initializers import init_linear, resolve_scheme
from mlplab.models.mlp import build_mlp
from tests.conftest import compose_cfg, make_spec

FAN_IN, FAN_OUT = 600, 300


def _layer(scheme: str, **kwargs) -> nn.Linear:
    """A FAN_IN -> FAN_OUT layer initialised by `scheme`; other arguments from the default
    `model.init` config, their one home."""
    init = {**compose_cfg().model.init, "gain": 1.0, **kwargs}
    torch.manual_seed(0)
    layer = nn.Linear(FAN_IN, FAN_OUT)
    init_linear(
        layer,
        scheme,
        init["distribution"],
        init["scale"],
        **{k: init[k] for k in ("mode", "value", "std", "a", "gain")},
    )
    return layer


@pytest.mark.parametrize(
    ("scheme", "variance"),
    [
        ("he", 2 / FAN_IN),
        ("lecun", 1 / FAN_IN),
        ("glorot", 2 / (FAN_IN + FAN_OUT)),
    ],
)
@pytest.mark.parametrize("distribution", ["normal", "uniform"])
def test_variance_scaling_weights_have_variance_gain_over_fan(scheme, variance, distribution):
    layer = _layer(scheme, distribution=distribution)
    assert layer.weight.std().item() == pytest.approx(math.sqrt(variance), rel=0.05)
    assert torch.all(layer.bias == 0)


@pytest.mark.parametrize(
    ("scheme", "bound"),
    [("he", math.sqrt(6 / FAN_IN)), ("glorot", math.sqrt(6 / (FAN_IN + FAN_OUT)))],
)
def test_uniform_variance_scaling_fills_but_never_exceeds_sqrt_3_std(scheme, bound):
    w = _layer(scheme, distribution="uniform").weight.abs().max().item()
    assert 0.99 * bound < w <= bound


@pytest.mark.parametrize(
    ("mode", "fan"), [("fan_in", FAN_IN), ("fan_out", FAN_OUT), ("fan_avg", (FAN_IN + FAN_OUT) / 2)]
)
def test_mode_override_replaces_the_fan(mode, fan):
    layer = _layer("he", mode=mode)
    assert layer.weight.std().item() == pytest.approx(math.sqrt(2 / fan), rel=0.05)


def test_uniform_scheme_draws_from_minus_a_to_a_and_normal_from_std():
    w = _layer("uniform", a=0.2).weight
    assert 0.199 < w.abs().max().item() <= 0.2
    assert w.mean().item() == pytest.approx(0, abs=0.01)
    assert _layer("normal", std=0.3).weight.std().item() == pytest.approx(0.3, rel=0.05)


def test_constant_and_zeros_fill_every_weight_and_zero_the_bias():
    assert torch.all(_layer("constant", value=0.25).weight == 0.25)
    assert torch.all(_layer("constant", value=0.25, scale=2.0).weight == 0.5)
    layer = _layer("zeros")
    assert torch.all(layer.weight == 0) and torch.all(layer.bias == 0)


def test_default_keeps_pytorchs_bounds_and_its_nonzero_bias():
    layer = _layer("default")
    bound = 1 / math.sqrt(FAN_IN)  # kaiming_uniform with a=sqrt(5), and U(-1/sqrt(fan_in), ..)
    assert layer.weight.abs().max().item() <= bound
    assert layer.bias.abs().max().item() > 0


@pytest.mark.parametrize(
    ("activation", "gain"), [("tanh", 5 / 3), ("relu", math.sqrt(2)), ("identity", 1.0)]
)
def test_orthogonal_rows_are_orthonormal_times_the_activation_gain(activation, gain):
    torch.manual_seed(0)
    net = build_mlp(make_spec(256, 10, (64,), activation, init_scheme="orthogonal"))
    w = net.hidden_0.linear.weight  # [64, 256]: 64 orthogonal rows
    torch.testing.assert_close(w @ w.T, gain**2 * torch.eye(64), atol=1e-4, rtol=0)


def test_orthogonal_gain_follows_leaky_relus_slope():
    spec = make_spec(128, 10, (32,), "leaky_relu", init_scheme="orthogonal")
    w = build_mlp(spec).hidden_0.linear.weight
    sloped = dataclasses.replace(spec, activation_args=(("negative_slope", 1.0),))
    w1 = build_mlp(sloped).hidden_0.linear.weight  # slope 1 is the identity: gain 1
    assert (w @ w.T).diagonal().mean().item() == pytest.approx(2 / (1 + 0.01**2), rel=1e-4)
    assert (w1 @ w1.T).diagonal().mean().item() == pytest.approx(1.0, rel=1e-4)


def test_scale_multiplies_every_scheme():
    for scheme in ("he", "orthogonal", "uniform", "default"):
        torch.manual_seed(0)
        base = build_mlp(make_spec(64, 2, (64,), init_scheme=scheme)).hidden_0.linear.weight
        torch.manual_seed(0)
        spec = make_spec(64, 2, (64,), init_scheme=scheme, init_scale=10.0)
        torch.testing.assert_close(build_mlp(spec).hidden_0.linear.weight, 10 * base)


@pytest.mark.parametrize(
    ("scheme", "activation", "resolved"),
    [
        ("auto", "relu", "he"),
        ("auto", "gelu", "he"),
        ("auto", "selu", "lecun"),
        ("auto", "elu", "lecun"),
        ("auto", "tanh", "glorot"),
        ("auto", "sigmoid", "glorot"),
        ("xavier", "relu", "glorot"),
        ("kaiming", "tanh", "he"),
        ("orthogonal", "relu", "orthogonal"),
    ],
)
def test_auto_picks_from_the_activation_and_aliases_resolve(scheme, activation, resolved):
    assert resolve_scheme(scheme, activation) == resolved


def test_name_registries_import_without_torch():
    code = (
        "import sys\n"
        "import mlplab.models.activations, mlplab.models.dropout, mlplab.models.initializers\n"
        "import mlplab.models.inputs, mlplab.models.norms\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

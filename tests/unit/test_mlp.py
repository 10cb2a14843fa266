"""The MLP builder: block structure, biases, initialisation statistics."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from mlplab.models.mlp import MLPSpec, build_mlp


def _linears(net: nn.Module) -> list[nn.Linear]:
    return [m for m in net.modules() if isinstance(m, nn.Linear)]


def test_hidden_blocks_are_named_and_ordered_linear_norm_activation_dropout():
    net = build_mlp(MLPSpec(8, 3, (16, 4), "tanh", "batchnorm", 0.2))
    assert [name for name, _ in net.named_children()] == ["hidden_0", "hidden_1", "output"]
    assert list(dict(net.hidden_0.named_children())) == ["linear", "norm", "activation", "dropout"]
    assert isinstance(net.hidden_0.activation, nn.Tanh)
    assert net(torch.randn(5, 8)).shape == (5, 3)


def test_no_linear_before_a_norm_has_a_bias():
    net = build_mlp(MLPSpec(8, 3, (16, 16), norm="batchnorm"))
    assert net.hidden_0.linear.bias is None and net.hidden_1.linear.bias is None
    assert net.output.bias is not None


def test_depth_zero_is_a_linear_model():
    net = build_mlp(MLPSpec(8, 3, ()))
    assert len(_linears(net)) == 1


def test_he_normal_weights_have_std_sqrt_2_over_fan_in():
    torch.manual_seed(0)
    net = build_mlp(MLPSpec(512, 10, (512,), "relu", init_scheme="auto"))
    w = net.hidden_0.linear.weight
    assert w.std().item() == pytest.approx(math.sqrt(2 / 512), rel=0.05)
    assert torch.all(net.hidden_0.linear.bias == 0)


def test_glorot_uniform_for_tanh_bounds_weights_at_sqrt_6_over_fan_sum():
    net = build_mlp(MLPSpec(300, 10, (100,), "tanh", init_distribution="uniform"))
    bound = math.sqrt(6 / (300 + 100))
    w = net.hidden_0.linear.weight
    assert w.abs().max().item() <= bound
    assert w.abs().max().item() > 0.95 * bound


def test_init_scale_multiplies_the_weights():
    torch.manual_seed(0)
    base = build_mlp(MLPSpec(256, 2, (256,), "relu")).hidden_0.linear.weight.std()
    torch.manual_seed(0)
    scaled = build_mlp(MLPSpec(256, 2, (256,), "relu", init_scale=10)).hidden_0.linear.weight
    assert scaled.std().item() == pytest.approx(10 * base.item(), rel=1e-5)

"""Max-norm, the hidden layers the weight callbacks act on, and weight sparsity."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mlplab.errors import ConfigError
from mlplab.models.mlp import build_mlp
from mlplab.training.checks import validate
from mlplab.training.max_norm import constrain
from mlplab.training.weights import hidden_linears, weight_sparsity
from tests.conftest import compose_cfg, make_spec


def test_hidden_linears_are_the_hidden_blocks_linears_and_not_the_output_layer():
    net = build_mlp(make_spec(6, 3, (5, 4), norm="batchnorm"))
    assert hidden_linears(net) == [net.hidden_0.linear, net.hidden_1.linear]
    assert hidden_linears(build_mlp(make_spec(6, 3, ()))) == []


def test_max_norm_scales_long_rows_to_c_and_leaves_short_rows_and_output_alone():
    torch.manual_seed(0)
    net = build_mlp(make_spec(6, 3, (5,), init_scale=10.0))
    with torch.no_grad():
        net.hidden_0.linear.weight[0] = 0.01  # a short row: norm 0.0245
    before = net.hidden_0.linear.weight.detach().clone()
    output = net.output.weight.detach().clone()
    constrain(hidden_linears(net), 1.5)
    after = net.hidden_0.linear.weight.detach()
    norms = after.norm(dim=1)
    assert torch.equal(after[0], before[0])
    assert (before[1:].norm(dim=1) > 1.5).all()
    assert torch.allclose(norms[1:], torch.full((4,), 1.5), rtol=1e-6)
    # Rescaled, not clipped: each row keeps its direction.
    cosine = nn.functional.cosine_similarity(after[1:], before[1:], dim=1)
    assert torch.allclose(cosine, torch.ones(4), atol=1e-6)
    assert torch.equal(net.output.weight, output)


@pytest.mark.parametrize("bound", [0, -3.0])
def test_max_norm_bound_must_be_positive(bound):
    with pytest.raises(ConfigError, match="'callbacks.max_norm.max_norm' is"):
        validate(compose_cfg("callbacks=max_norm", f"callbacks.max_norm.max_norm={bound}"))


def test_unknown_pruning_function_lists_the_allowed_ones():
    override = "callbacks.pruning.pruning_fn=l3_unstructured"
    with pytest.raises(ConfigError, match="allowed values: l1_unstructured, ln_structured"):
        validate(compose_cfg("callbacks=pruning", override))


def test_pruning_a_model_without_hidden_layers_is_refused_up_front():
    cfg = compose_cfg("callbacks=pruning", "model.hidden_sizes=[]", "model.dropout=0.0")
    with pytest.raises(ConfigError, match="'callbacks.pruning' prunes hidden layers; none exist"):
        validate(cfg)


def test_weight_sparsity_counts_zeros_of_weight_matrices_only():
    state = {
        "net.hidden_0.linear.weight": torch.tensor([[0.0, 1.0], [0.0, 2.0]]),
        "net.hidden_0.norm.weight": torch.zeros(2),  # 1-D: not a weight matrix
        "net.output.weight": torch.tensor([[3.0, 0.0]]),
        "net.output.bias": torch.zeros(1),
    }
    assert weight_sparsity(state) == pytest.approx(3 / 6)
    assert weight_sparsity({"net.output.bias": torch.zeros(3)}) == 0.0

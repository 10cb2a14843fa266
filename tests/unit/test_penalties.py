"""L1/L2 penalties: the formulas, and which parameters they (and weight decay) cover."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mlplab.models.module import MLPModule
from mlplab.models.penalties import l1_penalty, l2_penalty, penalties
from tests.conftest import make_module, make_spec

WEIGHTS = [torch.tensor([[1.0, -2.0], [0.5, 0.0]]), torch.tensor([[-3.0]])]


def test_l1_penalty_is_lambda_times_the_sum_of_absolute_weights():
    assert l1_penalty(WEIGHTS, 0.1).item() == pytest.approx(0.1 * (1 + 2 + 0.5 + 0 + 3))


def test_l2_penalty_is_lambda_times_the_sum_of_squared_weights():
    assert l2_penalty(WEIGHTS, 0.1).item() == pytest.approx(0.1 * (1 + 4 + 0.25 + 0 + 9))


def test_a_zero_coefficient_adds_no_term_and_both_zero_add_none():
    assert set(penalties(WEIGHTS, 0.0, 0.2)) == {"l2_penalty"}
    assert set(penalties(WEIGHTS, 0.3, 0.0)) == {"l1_penalty"}
    assert penalties(WEIGHTS, 0.0, 0.0) == {}


def test_penalty_gradient_is_sign_for_l1_and_twice_w_for_l2():
    w = torch.tensor([[2.0, -1.0]], requires_grad=True)
    (l1_penalty([w], 0.5) + l2_penalty([w], 0.25)).backward()
    assert torch.equal(w.grad, 0.5 * torch.sign(w.detach()) + 0.5 * w.detach())


def _module(norm: str, activation: str = "relu", **regularization: float) -> MLPModule:
    spec = make_spec(6, 3, (5, 4), activation=activation, norm=norm, dropout=0.0).to_dict()
    return make_module(
        spec,
        {"task": "multiclass", "class_names": ["a", "b", "c"]},
        optimizer={"_target_": "torch.optim.SGD", "_partial_": True, "lr": 0.1},
        regularization={"l1": 0.0, "l2": 0.0, **regularization},
    )


@pytest.mark.parametrize(("norm", "activation"), [("batchnorm", "relu"), ("none", "prelu")])
def test_penalised_tensors_are_exactly_the_linear_weight_matrices(norm, activation):
    module = _module(norm, activation)
    linears = [m for m in module.net.modules() if isinstance(m, nn.Linear)]
    assert module._weight_matrices() == [m.weight for m in linears]


@pytest.mark.filterwarnings("ignore:You are trying to `self.log")  # no Trainer here
def test_training_loss_is_data_loss_plus_both_penalties_over_all_linear_weights():
    torch.manual_seed(0)
    module = _module("none", l1=0.01, l2=0.001)
    x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
    loss = module.training_step((x, y), 0)
    weights = [m.weight for m in module.net.modules() if isinstance(m, nn.Linear)]
    data = nn.functional.cross_entropy(module(x), y)
    l1 = 0.01 * sum(w.abs().sum() for w in weights)
    l2 = 0.001 * sum(w.square().sum() for w in weights)
    assert loss.item() == pytest.approx((data + l1 + l2).item(), rel=1e-6)
    assert module.loss_parts["l1_penalty"].compute().item() == pytest.approx(l1.item())
    assert module.loss_parts["data_loss"].compute().item() == pytest.approx(data.item(), rel=1e-6)

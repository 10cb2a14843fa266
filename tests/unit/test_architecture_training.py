"""Every architecture switch builds a net that learns: 30 Adam steps on digits lower the loss.

No Trainer: a fixed, standardised batch of 256 digits rows and the bare network, so the whole
parametrised set runs in seconds.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mlplab.models.activations import ACTIVATIONS
from mlplab.models.initializers import INIT_SCHEMES
from mlplab.models.mlp import MLPSpec, build_mlp
from tests.conftest import make_spec

STEPS = 30


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tensors this small train ~50x faster on one thread than with threads contending."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def digits_batch() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    rows = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))[:256]
    X = torch.as_tensor(X, dtype=torch.float32)[rows]
    std = X.std(0)
    X = (X - X.mean(0)) / torch.where(std > 0, std, torch.ones_like(std))
    return X, torch.as_tensor(y)[rows]


def _loss(net: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    torch.manual_seed(1)  # the same dropout / RReLU noise for the before and after measurement
    with torch.no_grad():
        return F.cross_entropy(net(X), y).item()


def _train(
    spec: MLPSpec, batch: tuple[torch.Tensor, torch.Tensor]
) -> tuple[nn.Module, float, float]:
    """Build with seed 0, take STEPS Adam steps; return the net and the loss before and after."""
    X, y = batch
    torch.manual_seed(0)
    net = build_mlp(spec)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    before = _loss(net, X, y)
    for _ in range(STEPS):
        optimizer.zero_grad()
        F.cross_entropy(net(X), y).backward()
        optimizer.step()
    return net, before, _loss(net, X, y)


def _spec(**kwargs) -> MLPSpec:
    """A plain 64-64-32-10 MLP: no norm, no dropout, unless `kwargs` say otherwise."""
    plain = {"hidden_sizes": (64, 32), "norm": "none", "dropout": 0.0}
    return make_spec(64, 10, **{**plain, **kwargs})


CASES: dict[str, dict] = {
    **{f"activation={name}": {"activation": name} for name in ACTIVATIONS},
    "leaky_relu(negative_slope=0.1)": {
        "activation": "leaky_relu",
        "activation_args": (("negative_slope", 0.1),),
    },
    "gelu(approximate=tanh)": {"activation": "gelu", "activation_args": (("approximate", "tanh"),)},
    **{
        f"norm={norm},{position}": {"norm": norm, "norm_position": position}
        for norm in ("batchnorm", "layernorm")
        for position in ("before", "after")
    },
    "dropout=standard": {"dropout": 0.2, "dropout_type": "standard"},
    "dropout=alpha,selu": {"activation": "selu", "dropout": 0.1, "dropout_type": "alpha"},
    "dropout=auto,selu": {"activation": "selu", "dropout": 0.1},
    "dropout=per-layer": {"dropout": (0.1, 0.3)},
    **{f"init={scheme}": {"init_scheme": scheme} for scheme in INIT_SCHEMES},
    "init=glorot,uniform": {
        "activation": "tanh",
        "init_scheme": "glorot",
        "init_distribution": "uniform",
    },
    "init=he,fan_out": {"init_scheme": "he", "init_mode": "fan_out"},
    "init=constant,0.01": {"init_scheme": "constant", "init_value": 0.01},
    "init=he,scale=10": {"init_scheme": "he", "init_scale": 10.0},
    "depth=0": {"hidden_sizes": ()},
    "funnel": {"hidden_sizes": (128, 64, 32, 16)},
}


@pytest.mark.parametrize("kwargs", CASES.values(), ids=CASES.keys())
def test_thirty_adam_steps_on_digits_lower_the_loss(digits_batch, kwargs):
    _, before, after = _train(_spec(**kwargs), digits_batch)
    assert math.isfinite(before) and after < before


def test_zero_init_relu_net_learns_only_the_class_prior(digits_batch):
    # ReLU(0) = 0 with gradient 0: no hidden weight ever moves, only the output bias does, so
    # the loss falls from ln 10 towards the entropy of the batch's labels, never below it.
    net, before, after = _train(_spec(init_scheme="zeros"), digits_batch)
    prior = torch.bincount(digits_batch[1], minlength=10).float() / len(digits_batch[1])
    entropy = -(prior[prior > 0] * prior[prior > 0].log()).sum().item()
    assert before == pytest.approx(math.log(10), abs=1e-6)
    assert entropy - 1e-4 <= after < before
    assert all(torch.all(net[i].linear.weight == 0) for i in (0, 1))


def test_zero_init_never_breaks_symmetry_between_hidden_units(digits_batch):
    # Sigmoid(0) = 0.5, so weights do move, but every unit of a layer gets the same update.
    net, _, _ = _train(_spec(activation="sigmoid", init_scheme="zeros"), digits_batch)
    for block in (net.hidden_0, net.hidden_1):
        w = block.linear.weight
        assert w.abs().max() > 0
        torch.testing.assert_close(w, w[:1].expand_as(w), rtol=0, atol=1e-6)
    out = net.output.weight
    torch.testing.assert_close(out, out[:, :1].expand_as(out), rtol=0, atol=1e-6)

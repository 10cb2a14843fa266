"""Each task's output size, output activation and loss match the table in models/tasks.py."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mlplab.errors import ConfigError
from mlplab.models.objectives import Objective, check_objective
from mlplab.models.tasks import make_task

META = {"class_names": ["a", "b", "c"], "target_names": ["y"]}


def test_multiclass_is_one_logit_per_class_with_cross_entropy_and_label_smoothing():
    logits, y = torch.randn(8, 3), torch.randint(0, 3, (8,))
    plain, smooth = make_task("multiclass"), make_task("multiclass", {"label_smoothing": 0.2})
    assert plain.output_size(META) == 3
    assert plain.loss(logits, y) == pytest.approx(F.cross_entropy(logits, y).item())
    expected = F.cross_entropy(logits, y, label_smoothing=0.2).item()
    assert smooth.loss(logits, y) == pytest.approx(expected)
    assert torch.allclose(plain.class_probabilities(logits).sum(dim=1), torch.ones(8))


def test_binary_is_one_logit_with_bce_and_two_class_probabilities():
    task = make_task("binary")
    logits, y = torch.randn(8, 1), torch.randint(0, 2, (8,))
    assert task.output_size({"class_names": ["no", "yes"]}) == 1
    p = logits.squeeze(1).sigmoid()
    manual = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    assert task.loss(logits, y).item() == pytest.approx(manual.item(), rel=1e-5)
    probs = task.class_probabilities(logits)
    assert probs.shape == (8, 2) and torch.allclose(probs[:, 1], p)


def test_multilabel_is_a_sigmoid_bce_per_label():
    task = make_task("multilabel")
    logits, y = torch.randn(6, 3), torch.randint(0, 2, (6, 3))
    assert task.output_size(META) == 3
    expected = F.binary_cross_entropy(logits.sigmoid(), y.float()).item()
    assert task.loss(logits, y).item() == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize(
    ("loss", "reference"),
    [("auto", F.mse_loss), ("mse", F.mse_loss), ("mae", F.l1_loss), ("huber", F.huber_loss)],
)
def test_regression_losses_match_torch(loss, reference):
    task = make_task("regression", {"loss": loss})
    outputs, y = torch.randn(10, 1) * 3, torch.randn(10)
    assert task.output_size(META) == 1
    assert task.loss(outputs, y).item() == pytest.approx(reference(outputs.squeeze(1), y).item())


@pytest.mark.parametrize(
    ("bound", "low", "high"), [("tanh", -1, 1), ("sigmoid", 0, 1), ("softplus", 0, float("inf"))]
)
def test_bounded_regression_output_stays_in_range(bound, low, high):
    out = make_task("regression", {"output_bound": bound}).head(torch.linspace(-50, 50, 101))
    assert out.min() >= low and out.max() <= high
    assert make_task("regression").head(torch.tensor([-50.0])).item() == -50.0


def test_loss_the_task_cannot_use_is_a_config_error():
    with pytest.raises(ConfigError, match="allowed values: auto, bce"):
        check_objective("binary", Objective(loss="mae"))
    with pytest.raises(ConfigError, match="data.target_scaling=none"):
        check_objective("regression", Objective(output_bound="sigmoid"), "standard")
    check_objective("regression", Objective(loss="huber", output_bound="tanh"), "none")

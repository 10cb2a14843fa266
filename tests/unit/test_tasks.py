"""Each task's output size, loss, metrics, test scores and prediction columns; and a Task
subclass in TASKS is all the module, evaluate and predict need, under one set of names."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from omegaconf import OmegaConf
from sklearn.metrics import f1_score, r2_score
from torchmetrics import MetricCollection
from torchmetrics import regression as R

from mlplab.errors import ConfigError
from mlplab.evaluation.evaluate import score_rows
from mlplab.evaluation.predict import predict_table
from mlplab.models.objectives import Objective, check_objective
from mlplab.models.tasks import TASKS, Task, make_task
from tests.conftest import compose_cfg, make_module, make_spec

META = {"class_names": ["a", "b", "c"], "target_names": ["y"]}
OBJECTIVE = OmegaConf.to_container(compose_cfg().objective)  # configs/train.yaml's values


def _task(name: str, **objective):
    return make_task(name, {**OBJECTIVE, **objective})


def test_multiclass_is_one_logit_per_class_with_cross_entropy_and_label_smoothing():
    logits, y = torch.randn(8, 3), torch.randint(0, 3, (8,))
    plain, smooth = _task("multiclass"), _task("multiclass", label_smoothing=0.2)
    assert plain.output_size(META) == 3
    assert plain.loss(logits, y) == pytest.approx(F.cross_entropy(logits, y).item())
    expected = F.cross_entropy(logits, y, label_smoothing=0.2).item()
    assert smooth.loss(logits, y) == pytest.approx(expected)
    assert torch.allclose(plain.class_probabilities(logits).sum(dim=1), torch.ones(8))


def test_binary_is_one_logit_with_bce_and_two_class_probabilities():
    task = _task("binary")
    logits, y = torch.randn(8, 1), torch.randint(0, 2, (8,))
    assert task.output_size({"class_names": ["no", "yes"]}) == 1
    p = logits.squeeze(1).sigmoid()
    manual = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    assert task.loss(logits, y).item() == pytest.approx(manual.item(), rel=1e-5)
    probs = task.class_probabilities(logits)
    assert probs.shape == (8, 2) and torch.allclose(probs[:, 1], p)


def test_multilabel_is_a_sigmoid_bce_per_label():
    task = _task("multilabel")
    logits, y = torch.randn(6, 3), torch.randint(0, 2, (6, 3))
    assert task.output_size(META) == 3
    expected = F.binary_cross_entropy(logits.sigmoid(), y.float()).item()
    assert task.loss(logits, y).item() == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize(
    ("loss", "reference"),
    [("auto", F.mse_loss), ("mse", F.mse_loss), ("mae", F.l1_loss), ("huber", F.huber_loss)],
)
def test_regression_losses_match_torch(loss, reference):
    task = _task("regression", loss=loss)
    outputs, y = torch.randn(10, 1) * 3, torch.randn(10)
    assert task.output_size(META) == 1
    assert task.loss(outputs, y).item() == pytest.approx(reference(outputs.squeeze(1), y).item())


@pytest.mark.parametrize(
    ("bound", "low", "high"), [("tanh", -1, 1), ("sigmoid", 0, 1), ("softplus", 0, float("inf"))]
)
def test_bounded_regression_output_stays_in_range(bound, low, high):
    out = _task("regression", output_bound=bound).head(torch.linspace(-50, 50, 101))
    assert out.min() >= low and out.max() <= high
    assert _task("regression").head(torch.tensor([-50.0])).item() == -50.0


def test_loss_the_task_cannot_use_is_a_config_error():
    objective = {**OBJECTIVE, "loss": "mae"}
    with pytest.raises(ConfigError, match="allowed values: auto, bce"):
        check_objective("binary", Objective(**objective), "none")
    with pytest.raises(ConfigError, match="data.target_scaling=none"):
        check_objective("regression", Objective(**{**OBJECTIVE, "output_bound": "sigmoid"}), "std")
    bounded_huber = {**objective, "loss": "huber", "output_bound": "tanh"}
    check_objective("regression", Objective(**bounded_huber), "none")


# Test scores on small tensors whose answers are worked out by hand.


def test_multiclass_scores_three_of_four_rows_right_with_per_class_and_confusion():
    logits = torch.tensor([[4.0, 0, 0], [0, 4, 0], [0, 0, 4], [4, 0, 0]])
    y = torch.tensor([0, 1, 2, 2])
    scores = _task("multiclass").score(logits, y, META)
    assert scores.metrics["test/acc"] == 0.75
    assert scores.metrics["test/f1"] == pytest.approx(f1_score(y, [0, 1, 2, 0], average="macro"))
    assert scores.metrics["per_class"]["a"] == {"precision": 0.5, "recall": 1.0}
    assert scores.metrics["per_class"]["c"] == {"precision": 1.0, "recall": 0.5}
    assert scores.table["predicted"] == ["a", "b", "c", "a"]
    assert scores.table["actual"] == ["a", "b", "c", "c"]
    confidence = math.exp(4) / (math.exp(4) + 2)
    assert scores.table["confidence"] == pytest.approx([confidence] * 4)
    assert scores.confusion[3] == {"actual": "c", "predicted": "a"} and len(scores.confusion) == 4


def test_binary_f1_is_the_f1_of_the_second_class_as_logged():
    logits = torch.tensor([[3.0], [2.0], [-1.0], [1.0], [-2.0]])  # predicts 1, 1, 0, 1, 0
    y = torch.tensor([1, 0, 0, 1, 1])
    scores = _task("binary").score(logits, y, {"class_names": ["no", "yes"]})
    assert scores.metrics["test/acc"] == pytest.approx(3 / 5)
    assert scores.metrics["test/f1"] == pytest.approx(f1_score(y, [1, 1, 0, 1, 0]))  # 2/3
    assert scores.metrics["per_class"]["yes"]["precision"] == pytest.approx(2 / 3)
    assert scores.table["predicted"] == ["yes", "yes", "no", "yes", "no"]
    assert scores.table["confidence"][2] == pytest.approx(1 - torch.sigmoid(torch.tensor(-1.0)))


def test_multilabel_scores_labelwise_accuracy_exact_match_and_label_sets():
    logits = torch.tensor([[2.0, -2, 2], [1, 2, -2]])  # predicts {a, c}, {a, b}
    y = torch.tensor([[1, 0, 1], [0, 1, 0]])
    scores = _task("multilabel").score(logits, y, META)
    assert scores.metrics["test/acc"] == pytest.approx(5 / 6)
    assert scores.metrics["test/exact_match"] == 0.5
    assert scores.metrics["per_class"]["a"] == {"precision": 0.5, "recall": 1.0}
    assert scores.metrics["test/auroc"] == 1.0  # every label's scores rank it perfectly
    assert scores.table == {"actual": ["a;c", "b"], "predicted": ["a;c", "a;b"]}
    assert scores.confusion == []


def test_regression_scores_are_errors_in_target_units():
    outputs, y = torch.tensor([[1.0], [2.0], [4.0]]), torch.tensor([1.0, 3.0, 3.0])
    scores = _task("regression").score(outputs, y, META)
    assert scores.metrics["test/mae"] == pytest.approx(2 / 3)
    assert scores.metrics["test/rmse"] == pytest.approx(math.sqrt(2 / 3))
    assert scores.metrics["test/r2"] == pytest.approx(r2_score([1, 3, 3], [1, 2, 4]), rel=1e-5)
    assert scores.table == {"actual": [1.0, 3.0, 3.0], "predicted": [1.0, 2.0, 4.0]}


# One set of names: what the module logs is what evaluate writes, for every task in TASKS.

SETUPS = {
    "multiclass": ({"class_names": ["a", "b", "c"]}, 3, lambda n: torch.randint(0, 3, (n,))),
    "binary": ({"class_names": ["no", "yes"]}, 1, lambda n: torch.randint(0, 2, (n,))),
    "multilabel": ({"class_names": ["a", "b", "c"]}, 3, lambda n: torch.randint(0, 2, (n, 3))),
    "regression": ({"target_names": ["y"]}, 1, lambda n: torch.randn(n)),
}


def test_every_registered_task_has_a_setup_here():
    assert set(SETUPS) == set(TASKS)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_evaluate_writes_the_logged_names_and_values_with_the_test_prefix(name):
    torch.manual_seed(0)
    meta, out_features, targets = SETUPS[name]
    meta = {"task": name, **meta}
    module = make_module(make_spec(4, out_features, (8,)).to_dict(), meta).eval()
    X, y = torch.randn(40, 4), targets(40)
    rows = np.arange(5, 40)
    evaluation = score_rows(module, X.numpy(), y.numpy(), rows, batch_size=16)

    logged = {k.removeprefix("val/") for k in module.val_metrics}
    assert {f"test/{k}" for k in logged} == set(module.test_metrics.keys())
    extras = {"per_class"} if "class_names" in meta else set()
    assert set(evaluation.metrics) == {"test/loss", *module.test_metrics.keys(), "n_test", *extras}
    assert evaluation.metrics["n_test"] == 35

    # The values are the module's own test metrics on the same rows.
    with torch.no_grad():
        outputs = module(X[rows])
    module.test_metrics.update(module.task.metric_inputs(outputs, y[rows]), y[rows])
    for key, value in module.test_metrics.compute().items():
        assert evaluation.metrics[key] == pytest.approx(float(value), abs=1e-6), key
    loss = module.task.loss(outputs, y[rows])
    assert evaluation.metrics["test/loss"] == pytest.approx(loss.item(), rel=1e-6)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_predict_columns_are_evaluates_predicted_columns(name):
    torch.manual_seed(0)
    meta, out_features, targets = SETUPS[name]
    meta = {"task": name, **meta, "feature_names": ["f0", "f1", "f2", "f3"]}
    module = make_module(make_spec(4, out_features, (8,)).to_dict(), meta).eval()
    X = np.random.default_rng(0).standard_normal((12, 4)).astype(np.float32)
    evaluation = score_rows(module, X, targets(12).numpy(), np.arange(12), batch_size=5)
    frame = pd.DataFrame(X, columns=meta["feature_names"]).assign(id=range(12))
    predicted = predict_table(module, frame, "new.csv", batch_size=5)
    expected = ["predicted", "confidence"] if name in ("multiclass", "binary") else ["predicted"]
    assert list(predicted.columns) == ["id", *expected]
    for column in expected:
        if pd.api.types.is_numeric_dtype(predicted[column]):
            np.testing.assert_allclose(predicted[column], evaluation.table[column], atol=1e-6)
        else:
            assert predicted[column].tolist() == evaluation.table[column]


class Count(Task):
    """A task outside mlplab: Poisson counts, log-rate output, scored by MAE of the rate."""

    classification = False

    def output_size(self, meta):
        return 1

    def loss(self, outputs, targets):
        return F.poisson_nll_loss(outputs.squeeze(1), targets)

    def metrics(self, meta):
        return MetricCollection({"mae": R.MeanAbsoluteError()})

    def metric_inputs(self, outputs, targets):
        return outputs.squeeze(1).exp()

    def actual(self, targets, meta):
        return {"actual": targets.numpy()}

    def predictions(self, outputs, meta):
        return {"predicted": outputs.squeeze(1).exp().numpy()}


def test_a_new_task_is_one_class_registered_in_tasks(monkeypatch):
    monkeypatch.setitem(TASKS, "count", Count)
    torch.manual_seed(0)
    meta = {"task": "count", "feature_names": ["f0", "f1", "f2"]}
    module = make_module(make_spec(3, 1, (6,)).to_dict(), meta).eval()
    X = torch.randn(20, 3)
    y = torch.poisson(torch.full((20,), 3.0))
    evaluation = score_rows(module, X.numpy(), y.numpy(), np.arange(20), batch_size=8)
    with torch.no_grad():
        rate = module(X).squeeze(1).exp()
    assert set(evaluation.metrics) == {"test/loss", "test/mae", "n_test"}
    assert set(module.val_metrics.keys()) == {"val/mae"}
    assert evaluation.metrics["test/mae"] == pytest.approx((rate - y).abs().mean().item())
    frame = pd.DataFrame(X.numpy(), columns=meta["feature_names"])
    predicted = predict_table(module, frame, "new.csv", batch_size=8)
    np.testing.assert_allclose(predicted["predicted"], rate.numpy(), rtol=1e-6)

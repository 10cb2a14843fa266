"""Statistics over seeds (reporting/stats.py) and grouping runs by what differs but the seed
(reporting/runs.py): the numbers equal numpy's and scipy's, and repeats group as intended."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from mlplab.reporting.runs import metric_names, run_metrics, seed_groups
from mlplab.reporting.stats import spread

VALUES = [0.91, 0.93, 0.90, 0.95, 0.92]


def test_spread_is_numpys_mean_and_sample_std():
    s = spread(VALUES)
    assert s.n == 5
    assert s.mean == pytest.approx(np.mean(VALUES), abs=1e-15)
    assert s.std == pytest.approx(np.std(VALUES, ddof=1), abs=1e-15)


def test_interval_is_students_t_with_n_minus_1_degrees_of_freedom():
    s = spread(VALUES)
    low, high = scipy_stats.t.interval(
        0.95, len(VALUES) - 1, loc=np.mean(VALUES), scale=scipy_stats.sem(VALUES)
    )
    assert (s.low, s.high) == pytest.approx((low, high), abs=1e-12)
    # with 5 seeds the half-width is t(0.975, 4) = 2.776 standard errors, 1.24 std
    assert (s.high - s.mean) / s.std == pytest.approx(2.776 / math.sqrt(5), abs=1e-3)


def test_non_finite_and_missing_values_are_left_out_of_n():
    s = spread([*VALUES, math.nan, None, math.inf])
    assert s.n == 5 and s.mean == pytest.approx(np.mean(VALUES))


def test_one_run_has_a_mean_but_no_spread():
    s = spread([0.5])
    assert (s.n, s.mean) == (1, 0.5)
    assert math.isnan(s.std) and math.isnan(s.low)
    assert s.text() == "0.5000" and s.interval() == ""
    assert spread([]).n == 0


def test_text_is_mean_plus_minus_std_and_interval_in_brackets():
    s = spread([1.0, 3.0])
    assert s.text(2) == "2.00 ± 1.41"
    assert s.interval(1) == f"[{s.low:.1f}, {s.high:.1f}]"


def test_runs_group_by_the_differing_keys_other_than_seed():
    settings = [
        {"seed": s, "model.dropout": d, "model.norm": "none"} for d in (0.1, 0.5) for s in (0, 1, 2)
    ]
    found = seed_groups(settings, ["seed", "model.dropout"])
    assert found is not None
    keys, groups = found
    assert keys == ["model.dropout"]
    assert groups == [((0.1,), [0, 1, 2]), ((0.5,), [3, 4, 5])]


def test_only_seeds_differing_is_one_group_and_no_seed_is_no_grouping():
    settings = [{"seed": s} for s in range(4)]
    assert seed_groups(settings, ["seed"]) == ([], [((), [0, 1, 2, 3])])
    assert seed_groups(settings, ["model.dropout"]) is None


def test_metrics_are_test_scores_and_the_best_epochs_validation_scores():
    train = {"best": {"val/acc": 0.9, "train/loss": 0.1}, "diverged": False}
    test = {"test/acc": 0.8, "n_test": 15, "weights": "best"}
    metrics = run_metrics(train, test)
    assert metrics == {"test/acc": 0.8, "best/val/acc": 0.9}
    assert metric_names([{"best/val/acc": 1}, metrics]) == ["test/acc", "best/val/acc"]

"""The seeded split is exact, disjoint, stratified and a pure function of its inputs; its parts
are all fractions summing to 1 or all row counts."""

from __future__ import annotations

import numpy as np
import pytest

from mlplab.data.split import check_split_parts, min_rows, split_indices, split_sizes
from mlplab.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def digits_labels() -> np.ndarray:
    from sklearn.datasets import load_digits

    return load_digits().target


def test_digits_split_sizes_are_1437_180_180(digits_labels):
    split = split_indices(len(digits_labels), 0.8, 0.1, 0.1, seed=0, labels=digits_labels)
    assert split.sizes() == (1437, 180, 180)


@pytest.mark.parametrize("stratified", [True, False])
def test_splits_are_disjoint_and_cover_every_row(digits_labels, stratified):
    labels = digits_labels if stratified else None
    split = split_indices(len(digits_labels), 0.8, 0.1, 0.1, seed=3, labels=labels)
    together = np.concatenate([split.train, split.val, split.test])
    assert len(np.unique(together)) == len(together) == len(digits_labels)


def test_same_inputs_give_the_same_split_and_digest(digits_labels):
    a = split_indices(len(digits_labels), 0.8, 0.1, 0.1, seed=5, labels=digits_labels)
    b = split_indices(len(digits_labels), 0.8, 0.1, 0.1, seed=5, labels=digits_labels)
    c = split_indices(len(digits_labels), 0.8, 0.1, 0.1, seed=6, labels=digits_labels)
    for part in ("train", "val", "test"):
        assert np.array_equal(getattr(a, part), getattr(b, part))
    assert a.digest() == b.digest() != c.digest()


def test_stratified_class_counts_are_within_one_of_proportional(digits_labels):
    split = split_indices(len(digits_labels), 0.8, 0.1, 0.1, seed=0, labels=digits_labels)
    for part in (split.train, split.val, split.test):
        share = len(part) / len(digits_labels)
        for cls in range(10):
            expected = share * np.sum(digits_labels == cls)
            assert abs(np.sum(digits_labels[part] == cls) - expected) <= 1


def test_split_that_leaves_a_part_empty_names_the_key():
    with pytest.raises(DataError, match="data.split.val"):
        split_indices(10, 0.79, 0.01, 0.2, seed=0)


def test_class_too_small_to_stratify_is_a_data_error():
    labels = np.array([0] * 20 + [1])
    with pytest.raises(DataError, match="stratify"):
        split_indices(len(labels), 0.6, 0.2, 0.2, seed=0, labels=labels)


def test_counts_give_exact_sizes_and_leave_the_rest_out(digits_labels):
    split = split_indices(len(digits_labels), 1000, 200, 300, seed=0, labels=digits_labels)
    assert split.sizes() == (1000, 200, 300)
    together = np.concatenate([split.train, split.val, split.test])
    assert len(np.unique(together)) == 1500
    plain = split_indices(100, 50, 10, 20, seed=0)
    assert plain.sizes() == (50, 10, 20)


def test_counts_beyond_the_data_are_a_data_error():
    with pytest.raises(DataError, match="ask for 120 rows but the data has 100"):
        split_indices(100, 100, 10, 10, seed=0)


@pytest.mark.parametrize("parts", [(0.8, 0.1, 0.1), (0.7, 0.2, 0.1), (1000, 200, 300), (1, 1, 1)])
def test_fractions_summing_to_1_and_whole_counts_pass_the_split_rule(parts):
    check_split_parts(*parts)


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (
            (0.8, 10, 10),
            "config key 'data.split.val' is 10; it must be a fraction in (0, 1), "
            "or a row count >= 1 for all three parts",
        ),
        (
            (100, 0.5, 10),
            "config key 'data.split.train' is 100; it must be a fraction in (0, 1), "
            "or a row count >= 1 for all three parts",
        ),
        (
            (0.8, 0.2, 0.0),
            "config key 'data.split.test' is 0.0; it must be a fraction in (0, 1), "
            "or a row count >= 1 for all three parts",
        ),
        (
            (10.5, 2, 2),
            "config key 'data.split.train' is 10.5; it must be a fraction in (0, 1), "
            "or a row count >= 1 for all three parts",
        ),
        (
            (0.8, 0.1, 0.5),
            "config keys data.split.{train,val,test} sum to 1.4; they must sum to 1",
        ),
    ],
    ids=["fraction with counts", "count with a fraction", "zero", "half a row", "sum 1.4"],
)
def test_split_parts_breaking_the_rule_are_a_config_error_naming_the_key(parts, message):
    with pytest.raises(ConfigError) as raised:
        check_split_parts(*parts)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("parts", "fewest"),
    [((0.8, 0.1, 0.1), 6), ((0.6, 0.2, 0.2), 3), ((0.98, 0.01, 0.01), 51), ((5, 2, 3), 10)],
)
def test_min_rows_is_the_fewest_rows_that_leave_no_part_empty(parts, fewest):
    assert min_rows(*parts) == fewest
    assert min(split_sizes(fewest, *parts)) >= 1
    with pytest.raises(DataError):
        split_sizes(fewest - 1, *parts)

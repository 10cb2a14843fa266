"""Bundled and generated sources: every config gives exactly its source's arguments, shapes and
tasks, chunk-independent synthetic data, chunked writes in bounded memory, the names corpus's
windows and MNIST-1D's size."""

from __future__ import annotations

import inspect
import string
import tracemalloc

import numpy as np
import pytest
from omegaconf import OmegaConf

from mlplab.data import synthetic
from mlplab.data.checks import validate_data
from mlplab.data.sources import SOURCES, SPLIT_ARG, check_source_args
from mlplab.data.store import prepare, read_prepared
from mlplab.data.text import TOKENS, windows
from mlplab.errors import ConfigError
from tests.conftest import REPO, compose_cfg

SPLIT = {"train": 0.8, "val": 0.1, "test": 0.1, "seed": 0, "stratify": True}
DATA_CONFIGS = sorted(p.stem for p in (REPO / "configs" / "data").glob("[!_]*.yaml"))


def _args(name: str, **overrides) -> dict:
    """configs/data/<name>.yaml's source arguments with `overrides` on top."""
    return {**OmegaConf.to_container(compose_cfg(f"data={name}").data.source), **overrides}


@pytest.mark.parametrize("config", DATA_CONFIGS)
def test_each_data_config_gives_exactly_its_sources_arguments(config):
    data = compose_cfg(f"data={config}").data
    parameters = inspect.signature(SOURCES[data.name]).parameters
    assert sorted(data.source) == sorted(p for p in parameters if p != SPLIT_ARG)


def test_every_source_has_one_config_and_no_argument_defaults():
    assert sorted(SOURCES) == DATA_CONFIGS
    for name, source in SOURCES.items():
        for parameter in inspect.signature(source).parameters.values():
            assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, (name, parameter)
            assert parameter.default is inspect.Parameter.empty, (name, parameter)


def test_a_missing_source_argument_is_one_line_naming_the_key_and_the_config(tmp_path):
    args = _args("circles")
    del args["noise"]
    with pytest.raises(ConfigError) as raised:
        prepare(tmp_path, "circles", args, SPLIT)
    assert str(raised.value) == (
        "config key 'data.source.noise' is missing for data source 'circles'; "
        "configs/data/circles.yaml gives it"
    )
    assert not (tmp_path / "circles").exists()
    with pytest.raises(ConfigError, match=r"^config key 'data.source.task' is missing .*csv.yaml"):
        check_source_args("csv", {k: v for k, v in _args("csv").items() if k != "task"})


@pytest.mark.parametrize(
    "config", ["circles", "moons", "blobs", "multilabel", "synthetic_regression"]
)
def test_zero_samples_is_a_config_error_naming_n_samples_before_any_work(config):
    with pytest.raises(ConfigError) as raised:
        validate_data(compose_cfg(f"data={config}", "data.source.n_samples=0"))
    assert str(raised.value) == (
        "config key 'data.source.n_samples' is 0; it must be an integer >= 1"
    )


@pytest.mark.parametrize(
    ("n_samples", "split", "fewest", "parts"),
    [
        (5, SPLIT, 6, "0.8/0.1/0.1"),
        (1000, {**SPLIT, "train": 1000, "val": 200, "test": 300}, 1500, "1000/200/300"),
    ],
    ids=["fractions", "counts"],
)
def test_too_few_samples_for_the_split_names_n_samples_and_the_fewest_allowed(
    tmp_path, n_samples, split, fewest, parts
):
    with pytest.raises(ConfigError) as raised:
        prepare(tmp_path, "circles", _args("circles", n_samples=n_samples), split)
    assert str(raised.value) == (
        f"config key 'data.source.n_samples' is {n_samples}; it must be an integer >= {fewest} "
        f"so that data.split {parts} leaves no part empty"
    )
    assert not tmp_path.joinpath("circles").exists()
    stratify_off = {**split, "stratify": False}
    assert (
        read_prepared(
            prepare(tmp_path, "circles", _args("circles", n_samples=fewest), stratify_off)
        ).meta["split"]["sizes"][1]
        >= 1
    )


def test_an_unknown_source_argument_is_reported_before_the_missing_one_it_replaces():
    with pytest.raises(ConfigError, match="'data.source.n_sample' is not an argument"):
        check_source_args("moons", {"n_sample": 20, "noise": 0.2, "seed": 0})


# name, source args, X shape, X dtype, y dtype, task, classes (None: regression)
CASES = [
    ("digits", {}, (1797, 64), np.float32, np.int64, "multiclass", 10),
    ("breast_cancer", {}, (569, 30), np.float32, np.int64, "binary", 2),
    ("diabetes", {}, (442, 10), np.float32, np.float32, "regression", None),
    ("iris", {}, (150, 4), np.float32, np.int64, "multiclass", 3),
    ("wine", {}, (178, 13), np.float32, np.int64, "multiclass", 3),
    ("blobs", {"n_samples": 300, "centers": 2}, (300, 2), np.float32, np.int64, "binary", 2),
    (
        "synthetic_classification",
        {"n_samples": 3000, "n_features": 7, "n_classes": 5},
        (3000, 7),
        np.float32,
        np.int64,
        "multiclass",
        5,
    ),
    (
        "synthetic_regression",
        {"n_samples": 2500, "n_features": 6},
        (2500, 6),
        np.float32,
        np.float32,
        "regression",
        None,
    ),
    ("names", {}, (36122, 3), np.int64, np.int64, "multiclass", 27),
    ("mnist1d", {}, (5000, 40), np.float32, np.int64, "multiclass", 10),
]


@pytest.mark.parametrize(
    "name,args,shape,x_dtype,y_dtype,task,classes", CASES, ids=[c[0] for c in CASES]
)
def test_source_prepares_with_expected_shape_dtype_task_and_classes(
    tmp_path, name, args, shape, x_dtype, y_dtype, task, classes
):
    prepared = read_prepared(prepare(tmp_path, name, _args(name, **args), SPLIT))
    assert prepared.X.shape == shape and prepared.X.dtype == x_dtype
    assert prepared.y.shape == (shape[0],) and prepared.y.dtype == y_dtype
    assert prepared.meta["task"] == task
    assert prepared.meta["n_rows"] == shape[0] and prepared.meta["n_features"] == shape[1]
    assert len(prepared.meta["feature_names"]) == shape[1]
    if classes is not None:
        assert len(prepared.meta["class_names"]) == classes
        assert set(np.unique(prepared.y)) == set(range(classes))
    assert sum(prepared.meta["split"]["sizes"]) == shape[0]


def test_bundled_tables_keep_scikit_learns_feature_and_class_names(tmp_path):
    iris = read_prepared(prepare(tmp_path, "iris", {}))
    assert iris.meta["feature_names"][0] == "sepal length (cm)"
    assert iris.meta["class_names"] == ["setosa", "versicolor", "virginica"]
    diabetes = read_prepared(prepare(tmp_path, "diabetes", {}))
    assert diabetes.meta["target_names"] == ["progression"]
    assert diabetes.meta["feature_names"][:2] == ["age", "sex"]


def _synthetic(tmp_path, name: str, **args) -> tuple[np.ndarray, np.ndarray]:
    prepared = read_prepared(prepare(tmp_path, name, _args(name, **args)))
    return np.array(prepared.X), np.array(prepared.y)


@pytest.mark.parametrize("name", ["synthetic_classification", "synthetic_regression"])
def test_synthetic_data_is_identical_for_two_chunk_sizes_and_runs_and_differs_by_seed(
    tmp_path, monkeypatch, name
):
    args = {"n_samples": 20_000, "n_features": 5, "seed": 3}
    X, y = _synthetic(tmp_path / "a", name, **args)
    X_again, y_again = _synthetic(tmp_path / "b", name, **args)
    monkeypatch.setattr(synthetic, "CHUNK_ROWS", 3001)  # chunk edges inside blocks
    X_chunked, y_chunked = _synthetic(tmp_path / "c", name, **args)
    X_other, y_other = _synthetic(tmp_path / "d", name, **{**args, "seed": 4})
    np.testing.assert_array_equal(X, X_again)
    np.testing.assert_array_equal(y, y_again)
    np.testing.assert_array_equal(X, X_chunked)
    np.testing.assert_array_equal(y, y_chunked)
    assert not np.array_equal(X, X_other) and not np.array_equal(y, y_other)


def test_more_synthetic_rows_extend_fewer_rows(tmp_path):
    X_small, y_small = _synthetic(tmp_path / "a", "synthetic_classification", n_samples=9000)
    X_big, y_big = _synthetic(tmp_path / "b", "synthetic_classification", n_samples=20_000)
    np.testing.assert_array_equal(X_small, X_big[:9000])
    np.testing.assert_array_equal(y_small, y_big[:9000])


def test_chunked_prepare_of_200k_by_64_peaks_below_half_the_array_size(tmp_path):
    warm = _args("synthetic_classification", n_samples=100)
    prepare(tmp_path / "warm", "synthetic_classification", warm, SPLIT)  # imports
    args = _args("synthetic_classification", n_samples=200_000, n_features=64)
    tracemalloc.start()
    try:
        directory = prepare(tmp_path, "synthetic_classification", args, SPLIT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    array_bytes = (directory / "X.npy").stat().st_size
    assert array_bytes > 200_000 * 64 * 4
    assert peak < 0.5 * array_bytes, f"peak {peak / 1e6:.1f} MB for {array_bytes / 1e6:.1f} MB"


def test_synthetic_classes_are_learnable_from_their_centroids(tmp_path):
    """Nearest-centroid-of-the-training-rows accuracy is far above chance (1/4)."""
    X, y = _synthetic(tmp_path, "synthetic_classification", n_samples=8000, n_clusters_per_class=1)
    centroids = np.stack([X[:6000][y[:6000] == c].mean(axis=0) for c in range(4)])
    distances = ((X[6000:, None, :] - centroids[None]) ** 2).sum(axis=-1)
    assert (distances.argmin(axis=1) == y[6000:]).mean() > 0.8


def test_windows_of_emma_are_the_five_next_letter_examples():
    X, y = windows(["emma"], context_length=3)
    decode = ["".join(TOKENS[t] for t in row) for row in X]
    assert list(zip(decode, (TOKENS[t] for t in y), strict=True)) == [
        ("...", "e"),
        ("..e", "m"),
        (".em", "m"),
        ("emm", "a"),
        ("mma", "."),
    ]


def test_names_vocabulary_is_27_tokens_and_no_other_token_occurs(tmp_path):
    prepared = read_prepared(prepare(tmp_path, "names", _args("names", context_length=4)))
    assert prepared.meta["class_names"] == [".", *string.ascii_lowercase]
    assert prepared.meta["vocab_size"] == 27
    assert prepared.X.shape[1] == 4
    assert prepared.X.min() >= 0 and prepared.X.max() <= 26
    assert set(np.unique(prepared.y)) == set(range(27))
    # Every name ends with the boundary token: one `.` target per name.
    assert (np.asarray(prepared.y) == 0).sum() > 5000

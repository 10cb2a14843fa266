"""Prepared arrays: round trip, clear errors for missing/malformed files, atomic writes, one
folder per config (keyed by what determines it), and concurrent prepares that take turns."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from mlplab.data import store
from mlplab.data.scaling import fit_scaling
from mlplab.data.store import is_current, prepare, prepared_dir, read_prepared, source_record
from mlplab.errors import ConfigError, DataError
from tests.conftest import compose_cfg

# configs/data/moons.yaml and circles.yaml with fewer rows.
MOONS = {"n_samples": 20, "noise": 0.2, "seed": 0}
CIRCLES = {"n_samples": 40, "noise": 0.05, "factor": 0.5, "seed": 0}
SPLIT = {"train": 0.8, "val": 0.1, "test": 0.1, "seed": 0, "stratify": True}


@pytest.fixture
def digits(digits_dir) -> Path:
    """The session's prepared digits folder (prepared without a split)."""
    split = OmegaConf.to_container(compose_cfg().data.split)  # as the digits_dir fixture
    return prepared_dir(digits_dir, "digits", {}, split)


def test_prepared_digits_round_trip_memory_mapped(digits):
    prepared = read_prepared(digits)
    assert prepared.X.shape == (1797, 64) and prepared.X.dtype == np.float32
    assert isinstance(prepared.X, np.memmap)
    assert prepared.meta["task"] == "multiclass"
    assert prepared.meta["class_names"] == [str(i) for i in range(10)]


def test_prepare_writes_one_keyed_folder_and_its_lock_and_no_temporary_leftovers(tmp_path):
    directory = prepare(tmp_path, "moons", MOONS)
    assert directory == prepared_dir(tmp_path, "moons", MOONS)
    assert directory.parent == tmp_path / "moons" and len(directory.name) == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == ["moons"]
    assert sorted(p.name for p in directory.parent.iterdir()) == [
        directory.name,
        f"{directory.name}.lock",
    ]
    assert sorted(p.name for p in directory.iterdir()) == ["X.npy", "meta.json", "y.npy"]


def test_prepared_dir_depends_on_the_arguments_not_their_order():
    reordered = dict(reversed(list(CIRCLES.items())))
    assert prepared_dir("d", "circles", CIRCLES, SPLIT) == prepared_dir(
        "d", "circles", reordered, SPLIT
    )
    others = [
        prepared_dir("d", "circles", {**CIRCLES, "noise": 0.1}, SPLIT),
        prepared_dir("d", "circles", CIRCLES, {**SPLIT, "seed": 1}),
        prepared_dir("d", "circles", CIRCLES),
        prepared_dir("e", "circles", CIRCLES, SPLIT),
    ]
    assert len({prepared_dir("d", "circles", CIRCLES, SPLIT), *others}) == 5


def test_two_source_configs_get_two_folders_with_their_own_arrays(tmp_path):
    first = prepare(tmp_path, "circles", CIRCLES, SPLIT)
    more = {**CIRCLES, "n_samples": 41}
    second = prepare(tmp_path, "circles", more, SPLIT, force=False)
    assert first != second
    assert read_prepared(first).X.shape == (40, 2)  # not overwritten by the second config
    assert read_prepared(second).X.shape == (41, 2)
    assert is_current(first, source_record("circles", CIRCLES, SPLIT))
    assert not is_current(first, source_record("circles", more, SPLIT))


def test_missing_prepared_file_names_the_file(tmp_path):
    directory = prepare(tmp_path, "moons", MOONS)
    (directory / "y.npy").unlink()
    with pytest.raises(DataError, match=rf"moons/{directory.name}/y\.npy is missing"):
        read_prepared(directory)


def test_a_folder_with_a_file_missing_is_prepared_again(tmp_path):
    directory = prepare(tmp_path, "moons", MOONS)
    (directory / "X.npy").unlink()
    assert prepare(tmp_path, "moons", MOONS, force=False) == directory
    assert read_prepared(directory).X.shape == (20, 2)


def test_malformed_arrays_are_a_data_error(tmp_path):
    directory = prepare(tmp_path, "moons", MOONS)
    np.save(directory / "y.npy", np.zeros(7))
    with pytest.raises(DataError, match="malformed"):
        read_prepared(directory)
    (directory / "X.npy").write_text("not numpy")
    with pytest.raises(DataError, match="unreadable"):
        read_prepared(directory)


def test_unknown_source_argument_lists_the_allowed_ones(tmp_path):
    with pytest.raises(ConfigError, match="allowed keys: n_samples, noise, seed"):
        prepare(tmp_path, "moons", {**MOONS, "n_sample": 20})
    assert not (tmp_path / "moons").exists()


def test_standard_scaling_uses_train_rows_only(digits):
    X = read_prepared(digits).X
    rows = np.arange(0, 1797, 3)
    shift, scale = fit_scaling("standard", X, rows)
    np.testing.assert_allclose(shift, X[rows].mean(axis=0), rtol=1e-5, atol=1e-6)
    expected = X[rows].std(axis=0)
    np.testing.assert_allclose(scale, np.where(expected > 0, expected, 1), rtol=1e-4)
    assert json.loads((digits / "meta.json").read_text())["n_rows"] == 1797


def test_prepare_records_the_split_digest_and_redoes_data_when_the_split_changes(tmp_path):
    from mlplab.data.split import split_rows

    split = {"train": 0.6, "val": 0.2, "test": 0.2, "seed": 3, "stratify": True}
    args = {**MOONS, "n_samples": 50}
    directory = prepare(tmp_path, "moons", args, split)
    prepared = read_prepared(directory)
    expected = split_rows(prepared.y, "binary", split)
    assert prepared.meta["split"] == {"digest": expected.digest(), "sizes": [30, 10, 10]}
    assert not is_current(directory, source_record("moons", args, {**split, "seed": 4}))
    other = prepare(tmp_path, "moons", args, {**split, "seed": 4}, force=False)
    assert other != directory and read_prepared(directory).meta["split"] == prepared.meta["split"]


# 400 000 x 32 float32 (51 MB): writing takes long enough for the two processes to overlap.
BIG = {
    "n_samples": 400_000,
    "n_features": 32,
    "n_classes": 4,
    "n_clusters_per_class": 2,
    "class_sep": 0.5,
    "seed": 0,
}


def _prepare_in_child(data_dir: Path, log: Path, barrier, force: bool) -> None:
    """One of two processes preparing the same key: logs each write_prepared and the result."""
    real = store.write_prepared

    def counted(*args, **kwargs):
        with log.open("a") as f:
            f.write("write\n")
        return real(*args, **kwargs)

    store.write_prepared = counted
    barrier.wait()
    directory = store.prepare(data_dir, "synthetic_classification", BIG, SPLIT, force=force)
    with log.open("a") as f:
        f.write(f"done {directory}\n")


def test_two_processes_preparing_one_key_at_once_write_it_once_and_both_succeed(tmp_path):
    """One as the DataModule does (reuse a current folder), one as prepare.py does (force)."""
    context = multiprocessing.get_context("spawn")
    barrier, log = context.Barrier(2), tmp_path / "log"
    children = [
        context.Process(target=_prepare_in_child, args=(tmp_path / "data", log, barrier, force))
        for force in (False, True)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=120)
    assert [child.exitcode for child in children] == [0, 0]
    lines = log.read_text().splitlines()
    directory = prepared_dir(tmp_path / "data", "synthetic_classification", BIG, SPLIT)
    assert lines.count("write") == 1  # the second waited for the first and reused its folder
    assert sorted(line for line in lines if line != "write") == [f"done {directory}"] * 2
    prepared = read_prepared(directory)
    assert prepared.X.shape == (400_000, 32) and prepared.meta["n_rows"] == 400_000
    assert sorted(p.name for p in directory.parent.iterdir()) == [
        directory.name,
        f"{directory.name}.lock",
    ]

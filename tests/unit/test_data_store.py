"""Prepared arrays: round trip, clear errors for missing/malformed files, atomic writes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlplab.data.scaling import fit_scaling
from mlplab.data.store import is_current, prepare, read_prepared, source_record
from mlplab.errors import ConfigError, DataError

# configs/data/moons.yaml and circles.yaml with fewer rows.
MOONS = {"n_samples": 20, "noise": 0.2, "seed": 0}
CIRCLES = {"n_samples": 40, "noise": 0.05, "factor": 0.5, "seed": 0}


def test_prepared_digits_round_trip_memory_mapped(digits_dir):
    prepared = read_prepared(digits_dir / "digits")
    assert prepared.X.shape == (1797, 64) and prepared.X.dtype == np.float32
    assert isinstance(prepared.X, np.memmap)
    assert prepared.meta["task"] == "multiclass"
    assert prepared.meta["class_names"] == [str(i) for i in range(10)]


def test_prepare_writes_no_temporary_leftovers(tmp_path):
    prepare(tmp_path, "moons", MOONS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["moons"]
    assert sorted(p.name for p in (tmp_path / "moons").iterdir()) == ["X.npy", "meta.json", "y.npy"]


def test_prepare_skips_current_data_and_redoes_stale_data(tmp_path):
    prepare(tmp_path, "circles", CIRCLES)
    directory = tmp_path / "circles"
    more = {**CIRCLES, "n_samples": 41}
    assert is_current(directory, source_record("circles", CIRCLES))
    assert not is_current(directory, source_record("circles", more))
    prepare(tmp_path, "circles", more, force=False)
    assert read_prepared(directory).X.shape == (41, 2)


def test_missing_prepared_file_names_the_file(tmp_path):
    prepare(tmp_path, "moons", MOONS)
    (tmp_path / "moons" / "y.npy").unlink()
    with pytest.raises(DataError, match=r"moons/y\.npy is missing"):
        read_prepared(tmp_path / "moons")


def test_malformed_arrays_are_a_data_error(tmp_path):
    prepare(tmp_path, "moons", MOONS)
    np.save(tmp_path / "moons" / "y.npy", np.zeros(7))
    with pytest.raises(DataError, match="malformed"):
        read_prepared(tmp_path / "moons")
    (tmp_path / "moons" / "X.npy").write_text("not numpy")
    with pytest.raises(DataError, match="unreadable"):
        read_prepared(tmp_path / "moons")


def test_unknown_source_argument_lists_the_allowed_ones(tmp_path):
    with pytest.raises(ConfigError, match="allowed keys: n_samples, noise, seed"):
        prepare(tmp_path, "moons", {**MOONS, "n_sample": 20})
    assert not (tmp_path / "moons").exists()


def test_standard_scaling_uses_train_rows_only(digits_dir):
    X = read_prepared(digits_dir / "digits").X
    rows = np.arange(0, 1797, 3)
    shift, scale = fit_scaling("standard", X, rows)
    np.testing.assert_allclose(shift, X[rows].mean(axis=0), rtol=1e-5, atol=1e-6)
    expected = X[rows].std(axis=0)
    np.testing.assert_allclose(scale, np.where(expected > 0, expected, 1), rtol=1e-4)
    assert json.loads((digits_dir / "digits" / "meta.json").read_text())["n_rows"] == 1797


def test_prepare_records_the_split_digest_and_redoes_data_when_the_split_changes(tmp_path):
    from mlplab.data.split import split_rows

    split = {"train": 0.6, "val": 0.2, "test": 0.2, "seed": 3, "stratify": True}
    args = {**MOONS, "n_samples": 50}
    directory = prepare(tmp_path, "moons", args, split)
    prepared = read_prepared(directory)
    expected = split_rows(prepared.y, "binary", split)
    assert prepared.meta["split"] == {"digest": expected.digest(), "sizes": [30, 10, 10]}
    assert not is_current(directory, source_record("moons", args, {**split, "seed": 4}))

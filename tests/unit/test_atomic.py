"""Atomic writes leave either the old file or the new one, with an ordinary file mode."""

from __future__ import annotations

import os
import stat

import pytest

from mlplab.atomic import atomic_dir, atomic_path, write_json


def test_failed_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "metrics.json"
    write_json(target, {"acc": 1})
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == '{\n  "acc": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_files_and_directories_get_the_umask_mode_not_0600(tmp_path):
    mask = os.umask(0o022)
    try:
        write_json(tmp_path / "a.json", [])
        with atomic_dir(tmp_path / "d") as tmp:
            (tmp / "x").write_text("x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755

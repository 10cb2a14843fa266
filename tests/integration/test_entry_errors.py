"""Entry scripts turn expected errors into one stderr line and exit code 2, before training."""

from __future__ import annotations

import pytest

from tests.conftest import REPO, run


@pytest.mark.parametrize(
    ("script", "override", "expected"),
    [
        ("train.py", "model.activation=relux", "config key 'model.activation' is 'relux'"),
        ("train.py", "data.split.test=0.5", "sum to 1.4"),
        ("prepare.py", "+data.source.bogus=1", "data.source.bogus"),
        ("evaluate.py", "evaluate.checkpoint=nowhere.ckpt", "checkpoint nowhere.ckpt does not"),
    ],
)
def test_user_error_is_one_line_on_stderr_with_exit_code_2(tmp_path, script, override, expected):
    result = run(
        ["python", f"src/{script}", override, f"hydra.run.dir={tmp_path}"], cwd=REPO, check=False
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert expected in lines[0]
    assert not (tmp_path / "models").exists() and not (tmp_path / "metrics").exists()

"""Sampling names from a trained character-level model (Karpathy's makemore): seeded, a-z
only, mostly name-length; the same through src/sample.py."""

from __future__ import annotations

import string
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from mlplab.errors import DataError
from mlplab.evaluation.sample import sample, sample_names
from tests.conftest import REPO, cpu_run_cfg, make_module, make_spec, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def char_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """models/best.ckpt of char_mlp trained 3 epochs on the names data."""
    from mlplab.data.store import prepare
    from mlplab.training.run import train

    root = tmp_path_factory.mktemp("char")
    overrides = ("model=char_mlp", "data=names", "data.batch_size=512", "trainer.max_epochs=3")
    cfg = cpu_run_cfg(root / "data", *overrides)
    source, split = (OmegaConf.to_container(cfg.data[k]) for k in ("source", "split"))
    prepare(root / "data", cfg.data.name, source, split)
    train(cfg, root / "run")
    return root / "run" / "models" / "best.ckpt"


def test_samples_are_seeded_lowercase_names_of_name_length(char_checkpoint):
    names = sample_names(char_checkpoint, 200, seed=7, max_length=20)
    assert names == sample_names(char_checkpoint, 200, seed=7, max_length=20)
    assert names != sample_names(char_checkpoint, 200, seed=8, max_length=20)
    assert all(set(name) <= set(string.ascii_lowercase) for name in names)
    assert sum(2 <= len(name) <= 12 for name in names) > 100
    assert max(map(len, sample_names(char_checkpoint, 200, seed=7, max_length=4))) <= 4


def test_sample_script_writes_one_name_a_line(char_checkpoint, tmp_path):
    out = tmp_path / "names.txt"
    args = (f"ckpt_path={char_checkpoint}", "num_samples=5", "seed=3", f"output={out}")
    run([sys.executable, "src/sample.py", *args], cwd=REPO)
    assert out.read_text().splitlines() == sample_names(char_checkpoint, 5, 3, 20)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["names.txt"]  # and nothing else


def test_a_model_of_dense_features_is_refused():
    model = make_module(
        make_spec(4, 3).to_dict(), {"task": "multiclass", "class_names": list("abc")}
    )
    with pytest.raises(DataError, match="not a character-level model"):
        sample(model, 3, seed=0, max_length=5)

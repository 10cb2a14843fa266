"""A `-m` sweep of train.py trains shape-compatible jobs as one stacked network (the batched
launcher), and each of them is the run it would have been alone: same numbers, same files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from tests.conftest import REPO, run

pytestmark = pytest.mark.slow

BATCHED = "runs as one batched network"


def _sweep(out: Path, data_dir: Path, *overrides: str, check: bool = True):
    quiet = ["trainer.accelerator=cpu", "callbacks.progress_bar=null", f"paths.data_dir={data_dir}"]
    cmd = ["python", "src/train.py", "-m", *overrides, *quiet, f"hydra.sweep.dir={out}"]
    return run(cmd, REPO, check=check)


def _jobs(sweep: Path) -> list[Path]:
    return sorted((p for p in sweep.iterdir() if p.is_dir() and p.name[0].isdigit()), key=_num)


def _num(path: Path) -> int:
    return int(path.name.split("_", 1)[0])


def _history(job: Path) -> list[dict[str, str]]:
    with (job / "plots" / "history.csv").open() as f:
        return list(csv.DictReader(f))


def _floats(values: dict) -> dict[str, float]:
    return {k: float(v) for k, v in values.items() if isinstance(v, float | int | str) and v != ""}


@pytest.mark.parametrize(
    "sweep",
    [
        ["seed=1,2,3"],  # fused AdamW: an optimizer per run
        ["model.dropout=0.2,0.5", "optimizer.lr=0.001,0.01", "trainer.max_epochs=2"],
        ["seed=1,2,3", "optimizer=nadam", "trainer.max_epochs=2"],  # one shared optimizer
    ],
    ids=["seeds", "dropout-and-lr", "shared-optimizer"],
)
def test_runs_trained_batched_equal_each_run_trained_alone(tmp_path, digits_dir, sweep):
    small = ["trainer.max_epochs=3", "model.hidden_sizes=[32,16]", *sweep]
    batched = _sweep(tmp_path / "batched", digits_dir, *small)
    jobs = len(_jobs(tmp_path / "batched"))
    assert f"training {jobs} {BATCHED}" in batched.stdout
    alone = _sweep(tmp_path / "alone", digits_dir, *small, "hydra/launcher=basic")
    assert BATCHED not in alone.stdout
    pairs = list(zip(_jobs(tmp_path / "batched"), _jobs(tmp_path / "alone"), strict=True))
    assert len(pairs) == jobs >= 3
    for b, a in pairs:
        tested_b = json.loads((b / "metrics" / "test.json").read_text())
        tested_a = json.loads((a / "metrics" / "test.json").read_text())
        for key, value in tested_a.items():
            if isinstance(value, float):
                assert tested_b[key] == pytest.approx(value, abs=1e-5), key
        rows_b, rows_a = _history(b), _history(a)
        assert len(rows_b) == len(rows_a) and rows_b[0].keys() == rows_a[0].keys()
        for row_b, row_a in zip(rows_b, rows_a, strict=True):
            fb, fa = _floats(row_b), _floats(row_a)
            assert fb == pytest.approx(fa, abs=1e-5)
        # Checkpoints: Lightning's format, the same weights, loaded by evaluate (test.json above).
        for name in ("best", "last"):
            sb = torch.load(b / "models" / f"{name}.ckpt", weights_only=True)
            sa = torch.load(a / "models" / f"{name}.ckpt", weights_only=True)
            assert sb["state_dict"].keys() == sa["state_dict"].keys()
            assert sb["epoch"] == sa["epoch"] and sb["global_step"] == sa["global_step"]
            for key, tensor in sa["state_dict"].items():
                torch.testing.assert_close(sb["state_dict"][key], tensor, atol=1e-5, rtol=0)
        lr_b = (b / "plots" / "lr.csv").read_text().splitlines()
        assert lr_b == (a / "plots" / "lr.csv").read_text().splitlines()
        assert list(b.glob("events.out.tfevents.*")), "each batched run has its TensorBoard events"
        assert json.loads((b / "run.json").read_text())["name"].endswith(b.name)
    summary = (tmp_path / "batched" / "summary.csv").read_text()
    assert summary.count(",done,") == jobs


def test_jobs_of_different_shapes_train_in_separate_groups(tmp_path, digits_dir):
    result = _sweep(
        tmp_path / "sweep",
        digits_dir,
        "model.hidden_sizes=[16],[8]",
        "seed=1,2",
        "trainer.max_epochs=1",
    )
    assert result.stdout.count(f"training 2 {BATCHED}") == 2
    assert len(_jobs(tmp_path / "sweep")) == 4
    for job in _jobs(tmp_path / "sweep"):
        assert (job / "metrics" / "test.json").is_file()


def test_early_stopping_stops_each_batched_run_on_its_own(tmp_path, digits_dir):
    # min_delta 10: no epoch after the first counts as an improvement
    result = _sweep(
        tmp_path / "sweep",
        digits_dir,
        "callbacks.early_stopping.patience=1,100",
        "callbacks.early_stopping.min_delta=10",
        "trainer.max_epochs=4",
        "model.hidden_sizes=[16]",
    )
    assert f"training 2 {BATCHED}" in result.stdout
    trained = [
        json.loads((job / "metrics" / "train.json").read_text())["epochs_trained"]
        for job in _jobs(tmp_path / "sweep")
    ]
    assert trained == [2, 4]


def test_a_diverging_batched_run_fails_alone_with_exit_3_and_finite_checkpoints(
    tmp_path, digits_dir
):
    result = _sweep(
        tmp_path / "sweep",
        digits_dir,
        "optimizer.lr=0.001,1e12",
        "trainer.max_epochs=2",
        "model.hidden_sizes=[16]",
        check=False,
    )
    assert f"training 2 {BATCHED}" in result.stdout
    assert result.returncode == 3, result.stderr[-2000:]
    good, bad = _jobs(tmp_path / "sweep")
    assert (good / "metrics" / "test.json").is_file()
    assert "training diverged" in (bad / "error.txt").read_text()
    assert json.loads((bad / "metrics" / "train.json").read_text())["diverged"] is True
    for ckpt in (bad / "models").glob("*.ckpt"):
        weights = torch.load(ckpt, weights_only=True)["state_dict"].values()
        assert all(torch.isfinite(t).all() for t in weights if t.is_floating_point())


def test_one_run_on_the_stacked_engine_equals_its_lightning_run(tmp_path, digits_dir):
    quiet = [
        "trainer.accelerator=cpu",
        "callbacks.progress_bar=null",
        f"paths.data_dir={digits_dir}",
    ]
    small = ["trainer.max_epochs=2", "model.hidden_sizes=[32,16]", *quiet]
    runs = {}
    for engine in ("stacked", "lightning"):
        out = tmp_path / engine
        run(
            ["python", "src/train.py", *small, f"runtime.engine={engine}", f"hydra.run.dir={out}"],
            REPO,
        )
        runs[engine] = out
    stacked, alone = runs["stacked"], runs["lightning"]
    assert (stacked / "plots" / "history.csv").read_text() == (
        alone / "plots" / "history.csv"
    ).read_text()
    tested = [json.loads((r / "metrics" / "test.json").read_text()) for r in (stacked, alone)]
    assert {k: v for k, v in tested[0].items() if k != "checkpoint"} == {
        k: v for k, v in tested[1].items() if k != "checkpoint"
    }


def test_runtime_engine_lightning_trains_every_sweep_job_alone(tmp_path, digits_dir):
    result = _sweep(
        tmp_path / "s", digits_dir, "seed=1,2", "trainer.max_epochs=1", "runtime.engine=lightning"
    )
    assert BATCHED not in result.stdout
    assert len(_jobs(tmp_path / "s")) == 2

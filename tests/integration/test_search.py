"""src/search.py: an Optuna study whose trials are ordinary training runs, shared by workers
through its storage, reported as trials.csv, best.json and report.md."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import optuna
import pytest

from tests.conftest import REPO, run, subprocess_env

# Seconds-long trials: iris, small networks, three epochs, no per-layer diagnostics.
TINY = [
    "data=iris",
    "trainer.max_epochs=3",
    "trainer.accelerator=cpu",
    "callbacks.progress_bar=null",
    "callbacks.diagnostics=null",
    "search.space.model.hidden_sizes.choices=[[8],[16,8]]",
    "search.pruner.n_startup_trials=2",
    "search.pruner.n_warmup_steps=1",
    "search.sampler.n_startup_trials=3",
]


def _search(out: Path, *overrides: str) -> list[str]:
    return [
        "python",
        "src/search.py",
        *TINY,
        f"paths.data_dir={out / 'prepared'}",
        f"hydra.run.dir={out / 'search'}",
        f"search.storage=sqlite:///{out / 'study.db'}",
        *overrides,
    ]


def _trials(search_dir: Path) -> list[dict[str, str]]:
    with (search_dir / "trials.csv").open() as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_five_trials_report_the_best_complete_trial_with_its_params(tmp_path):
    result = run(_search(tmp_path, "n_trials=5", "search.study_name=five"), REPO)
    out = tmp_path / "search"
    rows = _trials(out)
    best = json.loads((out / "best.json").read_text())
    assert [int(r["number"]) for r in rows] == [0, 1, 2, 3, 4]
    complete = [r for r in rows if r["state"] == "complete"]
    assert complete and best["trials"]["complete"] == len(complete)
    assert best["value"] == pytest.approx(max(float(r["value"]) for r in complete), rel=1e-5)
    row = next(r for r in rows if int(r["number"]) == best["number"])
    assert row["state"] == "complete"
    for key, value in best["params"].items():  # best params are the best row's params
        assert row[key] == (f"{value:.6g}" if isinstance(value, float) else str(value))
    assert f"model.hidden_sizes={best['params']['model.hidden_sizes']}" in best["overrides"]
    for r in rows:  # every trial is a run directory of its own
        trial = out / f"trial_{r['number']}"
        assert (trial / "run.json").is_file() and (trial / "models" / "best.ckpt").is_file()
        assert (trial / "metrics" / "test.json").is_file()
        assert any(trial.glob("events.out.tfevents.*"))
    assert f"**Best: trial {best['number']}**" in (out / "report.md").read_text()
    assert (out / "history.png").stat().st_size > 0
    assert f"best: trial {best['number']}" in result.stdout


@pytest.mark.slow
def test_two_concurrent_workers_share_one_sqlite_study(tmp_path):
    workers = [
        subprocess.Popen(
            _search(
                tmp_path,
                f"n_trials={n}",
                f"search.sampler.seed={seed}",
                "search.study_name=shared",
            ),
            cwd=REPO,
            env=subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n, seed in ((3, 1), (2, 2))
    ]
    outputs = [w.communicate(timeout=600) for w in workers]
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err[-3000:]
    study = optuna.load_study(study_name="shared", storage=f"sqlite:///{tmp_path / 'study.db'}")
    numbers = sorted(t.number for t in study.trials)
    assert numbers == [0, 1, 2, 3, 4]  # 3 + 2 trials, no number twice
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    assert all(t.state in finished for t in study.trials)
    dirs = {t.user_attrs["run_dir"] for t in study.trials}
    assert dirs == {str(tmp_path / "search" / f"trial_{n}") for n in numbers}


def test_a_bad_space_is_one_line_naming_the_key_and_writes_nothing(tmp_path):
    bad = "search.space.optimizer.lr.low=0.5"  # above its high (3e-2)
    result = run(_search(tmp_path, bad, "search.study_name=bad"), REPO, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: config key 'search.space.optimizer.lr.low' is 0.5; "
        "it must be <= search.space.optimizer.lr.high (0.03)"
    ]
    assert list(tmp_path.iterdir()) == []

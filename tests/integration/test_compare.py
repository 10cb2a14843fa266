"""Statistics over seeds and run comparison, from the files runs write: a `-m` sweep's
summary_seeds.csv, src/compare.py on run directories and on a multirun (on DVC experiments:
tests/integration/test_dvc_plots.py, after its queued grid)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, run

SEEDS = 5
DROPOUTS = ("0.1", "0.5")
TINY = ["data=iris", "trainer.max_epochs=3", "model.hidden_sizes=[16]"]
QUIET = ["trainer.accelerator=cpu", "callbacks.progress_bar=null"]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> tuple[Path, str]:
    """Five seeds of two dropout rates on iris (10 runs, one batched group); its stdout."""
    out = tmp_path_factory.mktemp("sweep")
    cmd = [
        "python",
        "src/train.py",
        "-m",
        f"seed=range({SEEDS})",
        f"model.dropout={','.join(DROPOUTS)}",
        *TINY,
        *QUIET,
        f"paths.data_dir={out / 'data'}",
        f"hydra.sweep.dir={out / 'sweep'}",
    ]
    return out / "sweep", run(cmd, REPO).stdout


def _jobs(sweep: Path) -> list[Path]:
    return [p for p in sweep.iterdir() if (p / "run.json").is_file()]


def _config(job: Path) -> dict:
    return json.loads((job / "run.json").read_text())["config"]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def _compare(*args: str, check: bool = True):
    return run(["python", "src/compare.py", *args], REPO, check=check)


@pytest.mark.slow
def test_seed_summary_mean_and_std_equal_numpy_over_the_five_run_directories(sweep):
    folder, stdout = sweep
    rows = _rows(folder / "summary_seeds.csv")
    assert {r["model.dropout"] for r in rows} == set(DROPOUTS)
    for dropout in DROPOUTS:
        jobs = [j for j in _jobs(folder) if str(_config(j)["model"]["dropout"]) == dropout]
        assert sorted(_config(j)["seed"] for j in jobs) == list(range(SEEDS))
        tests = [json.loads((j / "metrics" / "test.json").read_text()) for j in jobs]
        for metric in ("test/acc", "test/loss", "test/f1"):
            values = np.array([t[metric] for t in tests])
            [row] = [r for r in rows if r["model.dropout"] == dropout and r["metric"] == metric]
            assert int(row["n"]) == SEEDS
            assert float(row["mean"]) == pytest.approx(values.mean(), abs=1e-12)
            assert float(row["std"]) == pytest.approx(values.std(ddof=1), abs=1e-12)
            assert float(row["ci_low"]) < values.mean() < float(row["ci_high"])
            printed = f"{values.mean():.4f} ± {values.std(ddof=1):.4f}"
            assert re.search(rf"{dropout}\s+{metric}\s+{SEEDS}\s+{printed}", stdout), printed


@pytest.mark.slow
def test_compare_pools_a_multirun_by_dropout_and_writes_an_offline_report(sweep):
    folder, _ = sweep
    result = _compare(str(folder))
    header, *lines = result.stdout.splitlines()[:3]
    assert header.split()[:2] == ["model.dropout", "runs"]
    tests: dict[str, list[float]] = {}
    for job in _jobs(folder):
        dropout = str(_config(job)["model"]["dropout"])
        tests.setdefault(dropout, []).append(
            json.loads((job / "metrics" / "test.json").read_text())["test/acc"]
        )
    for line, dropout in zip(lines, DROPOUTS, strict=True):
        acc = np.array(tests[dropout])
        assert line.split()[:5] == [
            dropout,
            str(SEEDS),
            f"{acc.mean():.4f}",
            "±",
            f"{acc.std(ddof=1):.4f}",
        ]
    report = folder / "compare"
    assert (report / "figures" / "curves.png").read_bytes()[:4] == b"\x89PNG"
    markdown = (report / "compare.md").read_text()
    assert "## Intervals over seeds" in markdown and "](figures/curves.png)" in markdown
    page = (report / "compare.html").read_text()
    assert "data:image/png;base64," in page and not re.search(r"(src|href)=\"(?!data:)", page)


@pytest.mark.slow
def test_compare_two_runs_lists_each_with_its_differing_keys(sweep, tmp_path):
    folder, _ = sweep
    jobs = _jobs(folder)
    a = next(j for j in jobs if _config(j)["seed"] == 0 and _config(j)["model"]["dropout"] == 0.1)
    b = next(j for j in jobs if _config(j)["seed"] == 1 and _config(j)["model"]["dropout"] == 0.5)
    result = _compare(str(a), str(b), "--out", str(tmp_path / "out"))
    header, first, second = result.stdout.splitlines()[:3]
    assert header.split()[:4] == ["run", "status", "seed", "model.dropout"]
    acc_a = json.loads((a / "metrics" / "test.json").read_text())["test/acc"]
    assert first.split()[1:5] == ["done", "0", "0.1", f"{acc_a:.4f}"]
    assert second.split()[1:4] == ["done", "1", "0.5"]
    assert (tmp_path / "out" / "compare.html").is_file()


@pytest.mark.parametrize(
    "args, says",
    [
        (["does/not/exist"], "does/not/exist does not exist"),
        (["{empty}"], "is not a run directory (no run.json) and holds none"),
        ([], "give run directories / a multirun folder, or --dvc-exps"),
        (["{empty}", "--dvc-exps"], "give run directories / a multirun folder, or --dvc-exps"),
    ],
    ids=["missing-path", "no-runs", "nothing-given", "both-given"],
)
def test_bad_input_is_one_error_line_exit_2_and_nothing_written(tmp_path, args, says):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "out"
    args = [a.replace("{empty}", str(empty)) for a in args]
    result = _compare(*args, "--out", str(out), check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert says in result.stderr and result.stdout == ""
    assert not out.exists() and list(empty.iterdir()) == []

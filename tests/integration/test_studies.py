"""The study presets on their quick budgets, through `python src/study.py` as a user runs them:
each reproduces its source's qualitative result, and its report's table holds the runs' own
numbers. The default budgets' reports are committed under reports/studies/."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, run

pytestmark = pytest.mark.slow


def _study(tmp_path: Path, name: str, *extra: str) -> tuple[Path, dict[str, dict[str, str]]]:
    """Run a study on its quick budget in tmp_path; its folder and results.csv by setting."""
    folder = tmp_path / name
    run(
        [
            "python",
            "src/study.py",
            f"study={name}",
            "budget=quick",
            f"dir={folder}",
            f"paths.data_dir={tmp_path / 'prepared'}",
            "trainer.accelerator=cpu",
            "callbacks.progress_bar=null",
            *extra,
        ],
        REPO,
    )
    with (folder / "report" / "results.csv").open() as f:
        rows = {row["setting"]: row for row in csv.DictReader(f)}
    return folder, rows


def _mean(cell: str) -> float:
    return float(cell.split(" ± ")[0])


def _runs(folder: Path, sweep: str, **settings: str) -> list[Path]:
    """The run directories of one sweep whose config has these values (dots as __)."""
    found = []
    for record in sorted((folder / sweep).glob("*/run.json")):
        config = json.loads(record.read_text())["config"]
        values = {}
        for key in settings:
            node = config
            for part in key.split("__"):
                node = node[part]
            values[key] = str(node)
        if values == settings:
            found.append(record.parent)
    return found


def _test_metric(run_dir: Path, name: str) -> float:
    return json.loads((run_dir / "metrics" / "test.json").read_text())[name]


def test_init_study_zero_init_stays_at_chance_and_he_learns_the_circles(tmp_path):
    folder, rows = _study(tmp_path, "init", "seeds=2")
    assert _mean(rows["zeros"]["test/acc (mean ± std)"]) <= 0.55
    assert _mean(rows["He"]["test/acc (mean ± std)"]) >= 0.9
    # The table is the runs' own numbers: He's mean and std over its two seeds.
    he = [_test_metric(r, "test/acc") for r in _runs(folder, "init", model__init__scheme="he")]
    assert len(he) == 2
    assert rows["He"]["test/acc (mean ± std)"] == f"{np.mean(he):.4f} ± {np.std(he, ddof=1):.4f}"
    assert rows["He"]["runs"] == "2"
    assert rows["N(0, 1) × 10"]["article"] == "0.86"
    report = folder / "report"
    assert (report / "curves_val_acc.png").stat().st_size > 10_000
    html = (report / "report.html").read_text()
    assert "data:image/png;base64," in html and "N(0, 1) × 10" in html
    assert not (REPO / "reports" / "studies" / "init" / str(tmp_path.name)).exists()


def test_batchnorm_study_bn_ends_with_a_lower_training_loss_and_reports_layers(tmp_path):
    folder, rows = _study(tmp_path, "batchnorm", "seeds=1")
    with_bn = _mean(rows["batchnorm"]["final/train/loss (mean ± std)"])
    without = _mean(rows["none"]["final/train/loss (mean ± std)"])
    assert with_bn < without
    # The per-layer figures come from the runs' diagnostics tables (Lightning loop).
    (bn_run,) = _runs(folder, "norm", model__norm="batchnorm")
    with (bn_run / "diagnostics" / "layers.csv").open() as f:
        layers = {row["layer"] for row in csv.DictReader(f)}
    assert len([name for name in layers if name.startswith("hidden")]) == 5
    assert (folder / "report" / "layers_saturated.png").is_file()


def test_dropout_study_rate_0_9_is_worse_than_0_1(tmp_path):
    folder, rows = _study(tmp_path, "dropout", "seeds=1")
    assert len(rows) == 10  # 0.0, 0.1, ..., 0.9
    assert _mean(rows["0.9"]["test/acc (mean ± std)"]) < _mean(rows["0.1"]["test/acc (mean ± std)"])
    assert (folder / "report" / "versus_test_acc_model.dropout.png").is_file()


def test_pruning_half_the_hidden_weights_costs_under_2_points_and_halves_nonzeros(tmp_path):
    folder, rows = _study(tmp_path, "pruning", "seeds=1")
    dense, half = rows["dense"], rows["unstructured: 0.5"]
    assert _mean(dense["test/acc (mean ± std)"]) - _mean(half["test/acc (mean ± std)"]) < 0.02
    (dense_run,) = _runs(folder, "dense")
    (half_run,) = _runs(folder, "unstructured", callbacks__pruning__amount="0.5")
    before = json.loads((dense_run / "metrics" / "train.json").read_text())
    after = json.loads((half_run / "metrics" / "train.json").read_text())
    assert after["nonzero_weights"] <= 0.55 * before["nonzero_weights"]
    assert after["sparse_flops"] < 0.55 * after["flops"]
    assert _mean(half["nonzero_weights (mean ± std)"]) == after["nonzero_weights"]
    assert not math.isnan(_mean(half["checkpoint_kb (mean ± std)"]))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["study=nope"], "study='nope' is not a study preset; options: activations, batchnorm"),
        (["study=init", "budget=huge"], "budget='huge' is not a budget of study init"),
        (["study=init", "seeds=0"], "seeds is 0; it must be a whole number >= 1"),
        (["study=init", "model.dropot=0.1"], "config key 'model.dropot' does not exist"),
    ],
)
def test_bad_study_arguments_are_one_line_and_write_nothing(tmp_path, args, message):
    result = run(["python", "src/study.py", *args, f"dir={tmp_path / 'out'}"], REPO, check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_study_whose_runs_diverge_reports_them_as_failed_and_exits_3(tmp_path):
    folder = tmp_path / "init"
    args = ["study=init", "budget=quick", "seeds=1", f"dir={folder}", "model.init.scale=1e6"]
    result = run(["python", "src/study.py", *args, "trainer.accelerator=cpu"], REPO, check=False)
    assert result.returncode == 3  # the sweep's exit code: a diverged run
    with (folder / "report" / "results.csv").open() as f:
        rows = {row["setting"]: row for row in csv.DictReader(f)}
    assert rows["He"]["runs"] == "0 (+1 failed)" and rows["He"]["test/acc (mean ± std)"] == "—"
    assert rows["zeros"]["runs"] == "1"  # zero weights stay finite at any scale

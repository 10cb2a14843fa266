"""The quickstart, for real: `make repro` (dvc repro) in a copy of the repository, then DVC's
up-to-date check and a tracked experiment."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from tests.conftest import copy_repo, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    # The test's own venv, never reinstalled from the copy (-o: its install stamp is current),
    # or an edited pyproject.toml would point the venv's editable install at this copy.
    venv = Path(sys.prefix)
    run(["make", "-o", str(venv / ".mlplab-installed"), "repro", f"VENV={venv}"], cwd=repo)
    return repo


def test_make_repro_writes_every_pipeline_output(repo):
    for rel in (
        "models/best.ckpt",
        "models/last.ckpt",
        "metrics/train.json",
        "metrics/test.json",
        "plots/history.csv",
        "plots/confusion.json",
        "plots/predictions.csv",
        "plots/lr.csv",
        "plots/calibration.csv",
        "plots/actual_vs_predicted.csv",
        "diagnostics/layers.csv",
        "diagnostics/histograms.json",
        "diagnostics/warnings.json",
        "reports/report.md",
        "reports/report.html",
    ):
        assert (repo / rel).is_file(), rel
    assert len(list((repo / "data" / "prepared" / "digits").glob("*/X.npy"))) == 1


def test_test_accuracy_on_digits_is_at_least_0_95(repo):
    metrics = json.loads((repo / "metrics" / "test.json").read_text())
    assert metrics["test/acc"] >= 0.95
    assert metrics["n_test"] == 180
    assert set(metrics["per_class"]) == {str(i) for i in range(10)}


def test_report_links_only_existing_figures(repo):
    report = repo / "reports" / "report.md"
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report.read_text())
    assert {Path(link).name for link in links} == {
        "learning_curves.png",
        "lr.png",
        "confusion_matrix.png",
        "activation_histograms.png",  # the default ReLU net: dead units, no saturation
        "dead_units.png",
        "update_ratio.png",
    }
    assert all((report.parent / link).is_file() for link in links)
    [meta_file] = (repo / "data" / "prepared" / "digits").glob("*/meta.json")  # one key
    meta = json.loads(meta_file.read_text())
    assert meta["split"]["sizes"] == [1437, 180, 180]
    assert meta["split"]["digest"] in report.read_text()


def test_confusion_plot_matches_the_test_accuracy(repo):
    pairs = json.loads((repo / "plots" / "confusion.json").read_text())
    metrics = json.loads((repo / "metrics" / "test.json").read_text())
    correct = sum(p["actual"] == p["predicted"] for p in pairs)
    assert correct / len(pairs) == pytest.approx(metrics["test/acc"], abs=1e-6)


def test_the_pipeline_logs_tensorboard_to_logs_pipeline(repo):
    assert list((repo / "logs" / "pipeline").glob("events.out.tfevents.*"))
    assert not (repo / "logs" / "tensorboard").exists()


def test_second_repro_is_up_to_date_and_status_clean(repo):
    assert "Data and pipelines are up to date" in run(["dvc", "repro"], cwd=repo).stdout
    assert "Data and pipelines are up to date" in run(["dvc", "status"], cwd=repo).stdout


def test_dvc_exp_run_with_a_changed_param_is_listed_with_its_metrics(repo):
    run(["dvc", "exp", "run", "-n", "dropout03", "-S", "model.dropout=0.3"], cwd=repo)
    shown = json.loads(run(["dvc", "exp", "show", "--json"], cwd=repo).stdout)
    experiments = [exp for commit in shown for exp in (commit.get("experiments") or [])]
    names = {exp.get("name") for exp in experiments}
    assert "dropout03" in names, names
    [exp] = [e for e in experiments if e.get("name") == "dropout03"]
    data = exp["revs"][0]["data"]
    params = data["params"]["params.yaml"]["data"]
    assert params["model"]["dropout"] == 0.3
    accuracy = data["metrics"]["metrics/test.json"]["data"]["test/acc"]
    assert 0.9 <= accuracy <= 1
    # TensorBoard names the experiment's run exps/<name> (DVC_EXP_NAME).
    assert list((repo / "logs" / "exps" / "dropout03").glob("events.out.tfevents.*"))

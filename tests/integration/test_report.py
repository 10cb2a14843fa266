"""End to end: a real `python src/train.py debug=fast` run (its test metrics and diagnostics
folder as the run writes them, or written by the evaluate code and per the file contract where
it does not), then `python src/report.py` on that run directory: the report describes the
run's own recorded config and repeats its files."""

from __future__ import annotations

import base64
import json
import re
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from tests.browser import chromium, render_page
from tests.conftest import REPO, compose_cfg, run
from tests.unit.test_report import PNG, headings, write_diagnostics

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reported_run(tmp_path_factory, digits_dir) -> Path:
    from mlplab.data.store import prepared_dir
    from mlplab.evaluation.evaluate import evaluate_checkpoint, write_evaluation

    run_dir = tmp_path_factory.mktemp("report") / "run"
    common = [f"hydra.run.dir={run_dir}", "hydra/job_logging=stdout"]
    train = [sys.executable, "src/train.py", "debug=fast", "trainer.accelerator=cpu"]
    train += [f"paths.data_dir={digits_dir}", "callbacks.progress_bar=null", *common]
    run(train, cwd=REPO)
    if not (run_dir / "metrics" / "test.json").is_file():  # evaluate's files for this run
        split = OmegaConf.to_container(compose_cfg().data.split)
        data = prepared_dir(digits_dir, "digits", {}, split)
        evaluation = evaluate_checkpoint(run_dir / "models" / "best.ckpt", data, split, 1024)
        write_evaluation(evaluation, run_dir)
    if not (run_dir / "diagnostics").is_dir():  # the diagnostics callback's files, by hand
        warning = {"condition": "dead", "layer": "hidden.1", "step": 8, "message": "Use GELU."}
        write_diagnostics(run_dir, [warning])
    report = [sys.executable, "src/report.py", "hydra.output_subdir=null", *common]
    run(report, cwd=REPO)
    return run_dir


def test_report_of_a_real_run_has_its_sections_and_recorded_config(reported_run):
    text = (reported_run / "reports" / "report.md").read_text()
    assert headings(text) == [
        "Run summary",
        "Metrics",
        "Learning curves",
        "Results by class (test split)",
        "Training diagnostics",
    ]
    record = json.loads((reported_run / "run.json").read_text())
    assert f"**Run**: `{record.get('name', 'run')}`" in text
    assert "train/val/test 1437/180/180 rows (split seed 0)" in text
    # debug=fast as recorded in run.json: 2 epochs, no early stopping (today's default has it)
    assert "**Training**: 2 epochs; max_epochs (2) reached" in text
    warnings = json.loads((reported_run / "diagnostics" / "warnings.json").read_text())
    for warning in warnings:
        assert f"**{warning['condition']}** in `{warning['layer'] or 'the network'}`" in text
    assert ("No warnings:" in text) == (warnings == [])
    assert re.search(r"^\| hidden\.0 \|.*\|$", text, re.M) and re.search(
        r"^\| output \|", text, re.M
    )


def test_per_class_rows_repeat_test_json_and_support_sums_to_the_test_rows(reported_run):
    text = (reported_run / "reports" / "report.md").read_text()
    test = json.loads((reported_run / "metrics" / "test.json").read_text())
    support = 0
    for name, scores in test["per_class"].items():
        row = re.search(rf"^\| {name} \| ([^|]+) \| ([^|]+) \| [^|]+ \| (\d+) \|$", text, re.M)
        assert row is not None
        assert float(row[1]) == pytest.approx(scores["precision"], abs=5e-5)
        assert float(row[2]) == pytest.approx(scores["recall"], abs=5e-5)
        support += int(row[3])
    assert support == test["n_test"] == 180


def test_html_page_inlines_each_markdown_figure_as_a_png(reported_run):
    reports = reported_run / "reports"
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", (reports / "report.md").read_text())
    page = (reports / "report.html").read_text()
    sources = re.findall(r'<img [^>]*src="data:image/png;base64,([^"]+)"', page)
    assert len(sources) == len(links) >= 6
    for link, source in zip(links, sources, strict=True):
        assert base64.b64decode(source) == (reports / link).read_bytes()
        assert (reports / link).read_bytes().startswith(PNG)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*https?:""", page, flags=re.I)


@pytest.mark.skipif(chromium() is None, reason="no Chromium on PATH (apt-get install chromium)")
def test_html_page_draws_every_figure_offline_in_chromium(reported_run):
    """The page as a browser shows it: no request leaves the machine, every image decodes."""
    reports = reported_run / "reports"
    figures = len(re.findall(r"!\[[^\]]*\]\(([^)]+)\)", (reports / "report.md").read_text()))
    page = render_page(reports / "report.html")
    assert page.external_requests == []
    assert page.console_errors == []
    images = [c for c in page.charts if c.kind == "img"]
    assert len(images) == figures >= 6
    assert all(c.marks == 1 for c in images), images

"""DVC's plots: each chart once, drawn offline from the pipeline's files; plots/lr.csv per
optimizer step; queued experiments keep their curves.

The browser checks run the page in headless Chromium (tests/browser.py) and are skipped without
one; the checks that need no browser always run: every script is inline, and every chart's spec
renders to SVG marks through vl-convert.
"""

from __future__ import annotations

import csv
import json
import re
import time
from pathlib import Path

import pytest
import vl_convert
import yaml
from dvc_render.html import PAGE_HTML
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from mlplab.reporting.vega_template import VEGA_LITE_VERSION, build_page
from mlplab.training.run import train
from tests.browser import chromium, render_page
from tests.conftest import copy_repo, cpu_run_cfg, run

pytestmark = pytest.mark.slow

# The charts of a digits (multiclass) run; the regression chart's file has no rows.
CLASSIFICATION_CHARTS = {
    "learning_curves",
    "validation_scores",
    "learning_rate",
    "confusion",
    "calibration",
}
needs_chromium = pytest.mark.skipif(
    chromium() is None, reason="no Chromium on PATH (apt-get install chromium)"
)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A copy of the repository with its committed pipeline outputs and the page `make install`
    builds (it is gitignored, so the copy lacks it)."""
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    (repo / ".dvc" / "offline_plots.html").write_text(build_page(), encoding="utf-8")
    return repo


def test_each_plot_file_is_drawn_once_by_a_named_chart(repo):
    shown = json.loads(run(["dvc", "plots", "show", "--json"], cwd=repo).stdout)
    assert not shown.get("errors"), shown["errors"]
    drawn = {name for name, plots in shown["data"].items() if plots}
    assert drawn == CLASSIFICATION_CHARTS
    assert shown["data"]["actual_vs_predicted"] == []  # regression only: skipped, no error
    stages = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    assert not any("plots" in stage for stage in stages.values())


def _show(repo: Path) -> Path:
    """`dvc plots show`'s page."""
    run(["dvc", "plots", "show", "-o", "shown"], cwd=repo)
    return repo / "shown" / "index.html"


def test_plots_page_has_only_inline_scripts_and_no_cdn(repo):
    html = _show(repo).read_text()
    assert not re.search(r"<script[^>]*\bsrc=", html)
    assert "cdn.jsdelivr" not in html
    assert html.count("vegaEmbed('#") == len(CLASSIFICATION_CHARTS) + 1  # + the empty one


def test_every_chart_spec_in_the_page_renders_to_svg_marks(repo):
    """Without a browser: each spec DVC put in the page draws marks through vl-convert."""
    html = _show(repo).read_text()
    found = re.findall(r"var spec = (\{.*?\});\s*vegaEmbed\('#([^']+)'", html, re.S)
    specs = {name: json.loads(spec) for spec, name in found}
    drawn = {name for name, spec in specs.items() if spec}
    assert drawn == CLASSIFICATION_CHARTS
    for name in drawn:
        svg = vl_convert.vegalite_to_svg(specs[name], vl_version=VEGA_LITE_VERSION)
        assert re.search(r'class="mark-\w+ role-mark', svg), name


@needs_chromium
def test_plots_show_page_draws_every_chart_offline_in_chromium(repo):
    page = render_page(_show(repo))
    assert page.external_requests == []
    assert page.console_errors == []
    assert {c.id for c in page.charts} == CLASSIFICATION_CHARTS
    assert all(c.kind == "svg" and c.marks > 0 for c in page.charts), page.charts


@needs_chromium
def test_plots_diff_page_draws_both_revisions_in_chromium(repo):
    """The workspace's val/loss changed against HEAD: the learning curves chart draws the
    lines of both revisions, offline."""
    alone = next(c for c in render_page(_show(repo)).charts if c.id == "learning_curves")
    history = repo / "plots" / "history.csv"
    committed = history.read_text()
    rows = _rows(history)
    for row in rows:
        row["val/loss"] = str(float(row["val/loss"]) * 1.5)
    with history.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    try:
        run(["dvc", "plots", "diff", "HEAD", "-o", "diffed"], cwd=repo)
    finally:
        history.write_text(committed)
    html = (repo / "diffed" / "index.html").read_text()
    assert '"rev": "HEAD"' in html and '"rev": "workspace"' in html
    page = render_page(repo / "diffed" / "index.html")
    assert page.external_requests == []
    assert page.console_errors == []
    both = next(c for c in page.charts if c.id == "learning_curves")
    assert both.marks > alone.marks


@needs_chromium
def test_chromium_check_catches_dvcs_default_cdn_page(repo, tmp_path):
    """DVC's own page (its CDN script tags in `{scripts}`): blocked, nothing drawn, errors."""
    default = tmp_path / "default.html"
    default.write_text(PAGE_HTML)
    out = tmp_path / "cdn"
    run(["dvc", "plots", "show", "-o", str(out), "--html-template", str(default)], cwd=repo)
    page = render_page(out / "index.html")
    assert any("cdn.jsdelivr.net" in url for url in page.external_requests)
    assert page.charts == []
    assert any("vegaEmbed is not defined" in e for e in page.console_errors)


def test_one_cycle_lr_csv_has_a_row_per_optimizer_step_peaking_mid_run(tmp_path, digits_dir):
    cfg = cpu_run_cfg(
        digits_dir,
        "scheduler=onecycle",
        "trainer.max_epochs=3",
        "trainer.limit_train_batches=10",
        "trainer.limit_val_batches=2",
        "callbacks.early_stopping=null",
    )
    train(cfg, tmp_path)
    rows = _rows(tmp_path / "plots" / "lr.csv")
    assert list(rows[0]) == ["step", "epoch", "lr"]  # both parameter groups share the LR
    assert [int(r["step"]) for r in rows] == list(range(30))
    assert [int(r["epoch"]) for r in rows] == [e for e in range(3) for _ in range(10)]
    lrs = [float(r["lr"]) for r in rows]
    peak = lrs.index(max(lrs))
    assert 0 < peak < 29  # warm-up (pct_start 0.3), then annealing
    assert max(lrs) == pytest.approx(1e-3)
    assert lrs[0] == pytest.approx(1e-3 / 25)  # max_lr / div_factor
    # history.csv keeps its per-epoch lr: the LR at each epoch's first step
    epoch_lr = [float(r["lr"]) for r in _rows(tmp_path / "plots" / "history.csv")]
    assert epoch_lr == pytest.approx([lrs[0], lrs[10], lrs[20]])


def _queue_done(repo: Path) -> bool:
    out = run(["dvc", "queue", "status"], cwd=repo).stdout
    return not re.search(r"\b(Queued|Running)\b", out)


def test_queued_experiments_run_two_at_a_time_keep_their_curves_and_compare(tmp_path):
    """`dvc exp run --queue` + `dvc queue start -j 2` in a clone: each experiment's commit
    carries its own plots/history.csv, so `dvc plots diff` shows both experiments' curves, and
    `src/compare.py --dvc-exps` lists both with their dropout and recorded test metrics."""
    repo = copy_repo(tmp_path / "repo")
    budget = ["-S", "trainer.max_epochs=2", "-S", "trainer.limit_train_batches=5"]
    for name, dropout in (("drop0", "0.0"), ("drop3", "0.3")):
        run(
            ["dvc", "exp", "run", "--queue", "-n", name, "-S", f"model.dropout={dropout}", *budget],
            cwd=repo,
        )
    run(["dvc", "queue", "start", "-j", "2"], cwd=repo)
    deadline = time.monotonic() + 540
    while not _queue_done(repo):
        assert time.monotonic() < deadline, run(["dvc", "queue", "status"], cwd=repo).stdout
        time.sleep(3)
    status = run(["dvc", "queue", "status"], cwd=repo).stdout
    assert "Failed" not in status, run(["dvc", "queue", "logs", "drop3"], cwd=repo, check=False)
    diff = json.loads(run(["dvc", "plots", "diff", "drop0", "drop3", "--json"], cwd=repo).stdout)
    [curves] = diff["data"]["learning_curves"]
    points = curves["content"]["data"]["values"]
    per_rev = {
        rev: sorted({int(p["epoch"]) for p in points if p["rev"] == rev})
        for rev in ("drop0", "drop3")
    }
    assert per_rev == {"drop0": [0, 1], "drop3": [0, 1]}
    losses = {
        rev: [
            p["dvc_inferred_y_value"]
            for p in points
            if p["rev"] == rev and p["field"] == "val/loss"
        ]
        for rev in ("drop0", "drop3")
    }
    assert losses["drop0"] != losses["drop3"]  # each experiment's own curve
    # TensorBoard events outlive the queue's temporary workspace: in the queuing repository,
    # one run per experiment, named by it.
    for name in ("drop0", "drop3"):
        tags = EventAccumulator(str(repo / "logs" / "exps" / name)).Reload().Tags()["scalars"]
        assert {"train/loss", "val/loss", "test/acc"} <= set(tags), name
    # src/compare.py --dvc-exps: one row per experiment, the test/acc `dvc exp show` records.
    shown = json.loads(run(["dvc", "exp", "show", "--json"], cwd=repo).stdout)
    recorded = {
        rev["name"]: rev["data"]["metrics"]["metrics/test.json"]["data"]["test/acc"]
        for commit in shown
        for exp in commit.get("experiments") or []
        for rev in exp["revs"]
    }
    out = tmp_path / "compare"
    compared = run(["python", "src/compare.py", "--dvc-exps", "--out", str(out)], cwd=repo)
    header, *lines = compared.stdout.splitlines()
    assert header.split()[:4] == ["run", "status", "model.dropout", "test/acc"]
    rows = {row[0]: row for row in (line.split() for line in lines) if row[0] in recorded}
    assert {name: row[2] for name, row in rows.items()} == {"drop0": "0.0", "drop3": "0.3"}
    assert all(row[3] == f"{recorded[name]:.4f}" for name, row in rows.items())
    assert "](figures/curves.png)" in (out / "compare.md").read_text()

"""The report is built from a run directory's files alone: each section is there when its
files are and absent when they are not, the HTML page holds every figure as a PNG data URI,
the metrics table compares with the committed file as `dvc metrics diff` does, and the
per-class table repeats test.json. Input files are written exactly as the shared file
contracts describe them (diagnostics/, plots/lr.csv, run.json's name)."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from pathlib import Path

import pytest
from omegaconf import DictConfig, OmegaConf
from torch import nn

from mlplab.data.store import prepared_dir
from mlplab.errors import DataError
from mlplab.reporting.report import write_report
from mlplab.reporting.runfiles import confusion_counts
from mlplab.reporting.summary import stop_line
from mlplab.training.history import HistoryRecorder
from tests.conftest import compose_cfg

PNG = b"\x89PNG\r\n\x1a\n"
SECTIONS = [
    "Run summary",
    "Metrics",
    "Learning curves",
    "Results by class (test split)",
    "Training diagnostics",
    "Learning-rate range test",
]
TEST = {
    "checkpoint": "models/best.ckpt",
    "n_test": 4,
    "per_class": {
        "a": {"precision": 1.0, "recall": 0.5},
        "b": {"precision": 0.666667, "recall": 1.0},
    },
    "test/acc": 0.75,
    "test/f1": 0.733333,
    "test/loss": 0.4,
    "weights": "best",
}
TRAIN = {
    "best": {"train/loss": 0.5, "val/acc": 0.75, "val/loss": 0.6},
    "best_epoch": 1,
    "diverged": False,
    "epochs_trained": 2,
    "final": {"train/loss": 0.5, "val/acc": 0.75, "val/loss": 0.6},
    "weight_sparsity": 0.0,
    "weights": "best",
}


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def write_classification_run(run: Path, test: dict | None = TEST) -> None:
    """train.py's and evaluate's files for a two-class run of two epochs."""
    write_json(run / "metrics" / "train.json", TRAIN)
    write_text(
        run / "plots" / "history.csv",
        "epoch,lr,train/loss,val/loss,val/acc\n0,0.1,1,1.1,0.5\n1,0.05,0.5,0.6,0.75\n",
    )
    if test is not None:
        write_json(run / "metrics" / "test.json", test)
        pairs = [("a", "a"), ("a", "b"), ("b", "b"), ("b", "b")]
        write_json(
            run / "plots" / "confusion.json", [{"actual": a, "predicted": p} for a, p in pairs]
        )
        rows = "".join(f"{i},{a},{p},0.9\n" for i, (a, p) in enumerate(pairs))
        write_text(run / "plots" / "predictions.csv", "row,actual,predicted,confidence\n" + rows)


def write_run_record(run: Path, name: str, experiment: str | None = None) -> None:
    """run.json as train.py writes it (contract 3: name and dvc_experiment)."""
    write_json(
        run / "run.json",
        {
            "name": name,
            "dvc_experiment": experiment,
            "python": "3.11.7",
            "packages": {"torch": "2.13.0", "lightning": "2.6.6"},
            "git": {"commit": "0123456789abcdef0123", "dirty": True},
            "command": ["python", "src/train.py", "model.activation=tanh"],
        },
    )


def write_lr_steps(run: Path) -> None:
    """plots/lr.csv (contract 2): one row per optimizer step."""
    rows = "".join(f"{s},{s // 3},{0.1 * (1 - s / 6):.4g}\n" for s in range(6))
    write_text(run / "plots" / "lr.csv", "step,epoch,lr\n" + rows)


def write_diagnostics(run: Path, warnings: list | None = None) -> None:
    """diagnostics/ (contract 1) of a tanh network with two hidden layers, logged at 3 steps."""
    lines = [
        "step,epoch,layer,act_mean,act_std,saturated,dead,grad_norm,grad_data_ratio,update_ratio"
    ]
    for step in (0, 5, 10):
        for layer, saturated in (("hidden.0", 0.05 * step), ("hidden.1", 0.01 * step)):
            ratio = -3 + step / 20
            lines.append(
                f"{step},{step // 5},{layer},0.01,0.6,{saturated:.4g},,0.2,0.01,{ratio:.4g}"
            )
        lines.append(f"{step},{step // 5},output,,,,,0.3,0.02,-2.8")
    write_text(run / "diagnostics" / "layers.csv", "\n".join(lines) + "\n")

    def histogram(shift: float) -> dict:
        return {"edges": [-1 + shift, -0.5, 0.0, 0.5, 1.0], "counts": [3, 10, 12, 4]}

    def layers(shift: float) -> dict:
        kinds = ("preactivation", "activation", "gradient")
        return {layer: {k: histogram(shift) for k in kinds} for layer in ("hidden.0", "hidden.1")}

    write_json(
        run / "diagnostics" / "histograms.json",
        {"first": {"step": 0, "layers": layers(0)}, "last": {"step": 10, "layers": layers(0.1)}},
    )
    write_json(run / "diagnostics" / "warnings.json", warnings if warnings is not None else [])


def write_lr_find(run: Path) -> None:
    lrs = [10 ** (-6 + i * 0.3) for i in range(20)]
    losses = [2.3 - 0.05 * i if i < 15 else 3.0 + i for i in range(20)]
    write_json(
        run / "lr_find.json",
        {
            "suggestion": lrs[12],
            "settings": {"min_lr": 1e-6, "max_lr": 1.0, "num_training": 20, "mode": "exponential"},
            "lr": lrs,
            "loss": losses,
        },
    )


def config(data_dir: Path, *overrides: str) -> DictConfig:
    """The composed config with prepared data's meta.json (only) in `data_dir`."""
    cfg = compose_cfg(f"paths.data_dir={data_dir}", *overrides)
    split = OmegaConf.to_container(cfg.data.split)
    folder = prepared_dir(data_dir, cfg.data.name, {}, split)
    meta = {"n_rows": 40, "n_features": 64, "task": "multiclass", "class_names": ["a", "b"]}
    write_json(
        folder / "meta.json", {**meta, "split": {"digest": "feedc0ffee123456", "sizes": [32, 4, 4]}}
    )
    return cfg


def headings(text: str) -> list[str]:
    return re.findall(r"^## (.+)$", text, flags=re.M)


@pytest.fixture
def full_run(tmp_path) -> Path:
    run = tmp_path / "run"
    write_classification_run(run)
    write_run_record(run, "runs/2026-11-25_21-40-00.123_model.activation-tanh", "brisk-owl")
    write_lr_steps(run)
    warning = {
        "condition": "saturated",
        "layer": "hidden.0",
        "step": 10,
        "message": "Lower the LR.",
    }
    write_diagnostics(run, [warning])
    write_lr_find(run)
    return run


def test_every_section_appears_in_order_when_its_files_exist(full_run, tmp_path):
    md, page = write_report(full_run, full_run / "reports", config(tmp_path / "data"))
    text = md.read_text()
    assert headings(text) == SECTIONS
    assert "**Run**: `runs/2026-11-25_21-40-00.123_model.activation-tanh`" in text
    assert "**DVC experiment**: `brisk-owl`" in text
    assert "train/val/test 32/4/4 rows (split seed 0)" in text and "`feedc0ffee123456`" in text
    # 64 -> 256 -> 128 -> 2 with batchnorm (no Linear bias before it): weights, norms, output
    params = 64 * 256 + 2 * 256 + 256 * 128 + 2 * 128 + 128 * 2 + 2
    assert "MLP 64 → 256 → 128 → 2" in text and f"{params:,} trainable parameters" in text
    assert "git 0123456789ab (uncommitted changes)" in text
    assert "Learning rate at every optimizer step" in text  # plots/lr.csv, not history's lr
    assert "**saturated** in `hidden.0` at step 10: Lower the LR." in text
    assert "| hidden.0 | 50.0 % | -2.50 |" in text  # the last logged step; no dead column
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert {Path(link).name for link in links} == {
        "learning_curves.png",
        "lr.png",
        "confusion_matrix.png",
        "activation_histograms.png",
        "saturation.png",
        "update_ratio.png",
        "lr_find.png",
    }
    assert all((md.parent / link).read_bytes().startswith(PNG) for link in links)
    assert page.read_text().count("<img ") == len(links)


def test_sections_without_files_are_left_out(tmp_path):
    run = tmp_path / "run"
    write_classification_run(run, test=None)
    text = write_report(run, run / "reports", config(tmp_path / "data"))[0].read_text()
    assert headings(text) == ["Run summary", "Metrics", "Learning curves"]
    assert "test/" not in text and "weight_sparsity" not in text
    assert "Learning rate of each epoch" in text  # history.csv's per-epoch lr without lr.csv
    assert "**DVC experiment**" not in text


def test_empty_warnings_file_says_no_warnings(tmp_path):
    run = tmp_path / "run"
    write_classification_run(run)
    write_diagnostics(run, [])
    text = write_report(run, run / "reports", config(tmp_path / "data"))[0].read_text()
    assert "Training diagnostics" in headings(text)
    assert "No warnings:" in text


def test_html_is_self_contained_with_every_image_a_png_data_uri(full_run, tmp_path):
    page = write_report(full_run, full_run / "reports", config(tmp_path / "data"))[1].read_text()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*https?:""", page, flags=re.I)
    assert "<script" not in page and "@import" not in page and "url(" not in page
    sources = re.findall(r'<img [^>]*src="([^"]+)"', page)
    assert len(sources) == 7
    for src in sources:
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix)
        assert base64.b64decode(src.removeprefix(prefix), validate=True).startswith(PNG)


def test_a_rerun_writes_identical_bytes(full_run, tmp_path):
    cfg = config(tmp_path / "data")
    first = write_report(full_run, tmp_path / "a", cfg)
    second = write_report(full_run, tmp_path / "b", cfg)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    figures = sorted(p.name for p in (tmp_path / "a" / "figures").iterdir())
    assert len(figures) == 7
    for name in figures:
        assert (tmp_path / "a" / "figures" / name).read_bytes() == (
            tmp_path / "b" / "figures" / name
        ).read_bytes()


def test_per_class_table_repeats_test_json_with_f1_and_support(full_run, tmp_path):
    text = write_report(full_run, full_run / "reports", config(tmp_path / "data"))[0].read_text()
    # a: P 1, R 0.5 -> F1 2/3, 2 test rows; b: P 0.666667, R 1 -> F1 0.8, 2 rows
    assert "| a | 1.0000 | 0.5000 | 0.6667 | 2 |" in text
    assert "| b | 0.6667 | 1.0000 | 0.8000 | 2 |" in text


def _git(repo: Path, *args: str) -> None:
    ident = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", *ident, *args], cwd=repo, check=True, capture_output=True)


def test_metrics_table_shows_committed_value_this_runs_and_change(tmp_path):
    repo = tmp_path / "repo"
    write_classification_run(repo, test={**TEST, "test/acc": 0.5, "n_test": 3})
    _git(repo, "init", "-q")
    _git(repo, "add", "metrics")
    _git(repo, "commit", "-qm", "previous")
    write_json(repo / "metrics" / "test.json", TEST)  # this run: 0.75, 4 rows
    text = write_report(repo, repo / "reports", config(tmp_path / "data"))[0].read_text()
    assert "| metric | committed (HEAD) | this run | change |" in text
    assert "| Test accuracy (`test/acc`) | 0.5000 | 0.7500 | +0.2500 |" in text
    assert "| Test rows (`n_test`) | 3 | 4 | +1 |" in text
    assert "| Epochs trained | 2 | 2 | 0 |" in text


def test_metrics_table_has_no_change_column_outside_git(tmp_path):
    run = tmp_path / "run"
    write_classification_run(run)
    text = write_report(run, run / "reports", config(tmp_path / "data"))[0].read_text()
    assert "| metric | value |" in text and "| change |" not in text
    assert "| Test accuracy (`test/acc`) | 0.7500 |" in text


def test_regression_run_gets_a_residual_figure_and_no_class_table(tmp_path):
    run = tmp_path / "run"
    write_classification_run(run, test=None)
    write_json(run / "metrics" / "test.json", {"n_test": 3, "test/loss": 0.2, "test/r2": 0.8})
    rows = "0,1.5,1.25\n1,2.0,2.5\n2,3.0,2.75\n"
    write_text(run / "plots" / "predictions.csv", "row,actual,predicted\n" + rows)
    write_json(run / "plots" / "confusion.json", [])
    text = write_report(run, run / "reports", config(tmp_path / "data"))[0].read_text()
    assert "Regression results (test split)" in headings(text)
    assert "figures/residuals.png" in text and "precision" not in text


def test_weight_sparsity_row_only_for_pruned_runs(tmp_path):
    run = tmp_path / "run"
    write_classification_run(run)
    cfg = config(tmp_path / "data", "callbacks=pruning")
    text = write_report(run, run / "reports", cfg)[0].read_text()
    assert "| Weight sparsity of the tested weights | 0.0000 |" in text


def test_stop_reason_names_early_stopping_max_epochs_or_divergence():
    cfg = compose_cfg("trainer.max_epochs=40")
    early = {"epochs_trained": 27, "best_epoch": 16}
    assert "early stopping at epoch 26: val/loss had not improved for 10 validations" in (
        stop_line(cfg, early)
    )
    assert "max_epochs (40) reached" in stop_line(cfg, {"epochs_trained": 40, "best_epoch": 39})
    assert "diverged in epoch 3" in stop_line(cfg, {"epochs_trained": 3, "diverged": True})


def test_report_figures_left_from_an_earlier_report_are_removed(full_run, tmp_path):
    stale = full_run / "reports" / "figures" / "predicted_vs_actual.png"
    write_text(stale, "old")
    write_report(full_run, full_run / "reports", config(tmp_path / "data"))
    assert not stale.exists()


def test_confusion_counts_rows_are_actual_columns_predicted():
    pairs = [{"actual": a, "predicted": p} for a, p in (("a", "a"), ("a", "b"), ("b", "b"))]
    assert confusion_counts(pairs, ["a", "b"]).tolist() == [[1, 1], [0, 1]]


def test_train_json_keeps_the_history_names_for_the_best_and_last_epoch():
    recorder = HistoryRecorder(Path("unused.csv"), Path("unused.json"))
    recorder.rows = [
        {"epoch": 0, "lr": 0.1, "train/loss": 1.0, "val/loss": 0.9, "val/acc": 0.5},
        {"epoch": 1, "lr": 0.05, "train/loss": 0.5, "val/loss": 0.4, "val/acc": 0.75},
        {"epoch": 2, "lr": 0.01, "train/loss": 0.25, "val/loss": 0.6, "val/acc": 0.7},
    ]
    weights = nn.Sequential(nn.Linear(2, 2))
    nn.init.zeros_(weights[0].weight[0])  # half the weight matrix is zero
    summary = recorder.summary({f"net.{k}": v for k, v in weights.state_dict().items()})
    assert summary == {
        "epochs_trained": 3,
        "best_epoch": 1,
        "best": {"train/loss": 0.5, "val/loss": 0.4, "val/acc": 0.75},
        "final": {"train/loss": 0.25, "val/loss": 0.6, "val/acc": 0.7},
        "weight_sparsity": 0.5,
        "parameters": 6,  # 4 weights + 2 biases
        "nonzero_weights": 2,
        "flops": 10,  # 2 per weight (multiply, add) + 1 per bias
        "sparse_flops": 6,  # the zero row skipped
    }
    header = recorder.history_csv().splitlines()[0].split(",")
    assert header == ["epoch", "lr", "train/loss", "val/loss", "val/acc"]
    assert set(summary["best"]) == set(header) - {"epoch", "lr"}


def test_missing_train_json_names_the_file(tmp_path):
    with pytest.raises(DataError, match=r"train\.json is missing"):
        write_report(tmp_path, tmp_path / "reports", config(tmp_path / "data"))


def test_run_that_diverged_in_its_first_epoch_still_gets_a_report(tmp_path):
    run = tmp_path / "run"
    diverged = {"diverged": True, "epochs_trained": 0, "weight_sparsity": None, "weights": "best"}
    write_json(run / "metrics" / "train.json", diverged)
    write_text(run / "plots" / "history.csv", "epoch,lr,train/loss,val/loss\n")
    text = write_report(run, run / "reports", config(tmp_path / "data"))[0].read_text()
    assert "**Training**: 0 epochs; diverged in epoch 0" in text
    assert "No epoch finished: plots/history.csv has no rows." in text

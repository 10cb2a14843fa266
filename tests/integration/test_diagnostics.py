"""Diagnostics through real `python src/train.py` runs: a sick network (sigmoid, six layers,
initial scale 10, no norm) is reported saturated, its updates too small, in layers.csv,
warnings.json and the run's log; the default (ReLU, He, BatchNorm) network is not; TensorBoard's
reader finds the `diag/` tags; a killed and resumed run writes the uninterrupted run's table."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.conftest import REPO, run
from tests.integration.test_resume import STEPS_PER_EPOCH, _kill_mid_epoch

pytestmark = pytest.mark.slow

COLUMNS = "step,epoch,layer,act_mean,act_std,saturated,dead,grad_norm,grad_data_ratio,update_ratio"
SICK = [
    "model.activation=sigmoid",
    "model.hidden_sizes=[64,64,64,64,64,64]",
    "model.init.scale=10",
    "model.norm=none",
]


def _cmd(run_dir: Path, data_dir: Path, *overrides: str, epochs: int = 3) -> list[str]:
    return [
        "python",
        "src/train.py",
        "trainer.accelerator=cpu",
        f"trainer.max_epochs={epochs}",
        "callbacks.diagnostics.every_n_steps=5",
        "callbacks.progress_bar=null",
        "trainer.enable_model_summary=false",
        f"paths.data_dir={data_dir}",
        f"hydra.run.dir={run_dir}",
        *overrides,
    ]


def _rows(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "diagnostics" / "layers.csv").open() as f:
        return list(csv.DictReader(f))


def _warnings(run_dir: Path) -> list[dict]:
    return json.loads((run_dir / "diagnostics" / "warnings.json").read_text())


@pytest.fixture(scope="module")
def sick(tmp_path_factory, digits_dir):
    run_dir = tmp_path_factory.mktemp("sick")
    result = run(_cmd(run_dir, digits_dir, *SICK), cwd=REPO)
    return run_dir, result.stdout + result.stderr


@pytest.fixture(scope="module")
def healthy(tmp_path_factory, digits_dir):
    run_dir = tmp_path_factory.mktemp("healthy")
    result = run(_cmd(run_dir, digits_dir), cwd=REPO)
    return run_dir, result.stdout + result.stderr


def test_sick_network_is_over_half_saturated_with_update_ratios_below_minus_4(sick):
    rows = [r for r in _rows(sick[0]) if r["layer"] != "output"]
    assert {r["layer"] for r in rows} == {f"hidden.{i}" for i in range(6)}
    assert all(float(r["saturated"]) > 0.5 for r in rows if r["step"] == "0")
    assert all(r["dead"] == "" for r in rows)  # sigmoid has no dead units, only saturated ones
    # Healthy is near -3 (the default network's rows stay above -4, below); these fall below.
    assert min(float(r["update_ratio"]) for r in rows) < -4


def test_sick_network_warnings_are_in_warnings_json_and_in_the_run_log(sick):
    run_dir, output = sick
    warnings = _warnings(run_dir)
    saturated = {w["layer"] for w in warnings if w["condition"] == "saturated"}
    assert saturated == {f"hidden.{i}" for i in range(6)}
    assert any(
        w["condition"] == "update_ratio" and "raise optimizer.lr" in w["message"] for w in warnings
    )
    assert len({(w["condition"], w["layer"]) for w in warnings}) == len(warnings)  # once each
    log = (run_dir / "train.log").read_text()
    for warning in warnings:
        assert f"[mlplab.diagnostics][WARNING] - {warning['message']}" in log
        assert warning["message"] in output


def test_default_network_has_no_warnings_and_no_dead_units(healthy):
    run_dir, output = healthy
    assert _warnings(run_dir) == []
    assert "mlplab.diagnostics" not in output
    rows = _rows(run_dir)
    assert (run_dir / "diagnostics" / "layers.csv").read_text().splitlines()[0] == COLUMNS
    assert sorted({int(r["step"]) for r in rows}) == list(range(0, 3 * STEPS_PER_EPOCH, 5))
    assert [r["layer"] for r in rows[:3]] == ["hidden.0", "hidden.1", "output"]
    hidden = [r for r in rows if r["layer"] != "output"]
    assert all(float(r["dead"]) < 0.5 and r["saturated"] == "" for r in hidden)
    assert all(-4 < float(r["update_ratio"]) < -1.5 for r in rows)
    output_rows = [r for r in rows if r["layer"] == "output"]
    assert all(r["act_mean"] == r["dead"] == "" and float(r["grad_norm"]) > 0 for r in output_rows)


def test_histograms_json_holds_the_first_and_last_logged_steps_of_each_hidden_layer(healthy):
    hists = json.loads((healthy[0] / "diagnostics" / "histograms.json").read_text())
    assert hists["first"]["step"] == 0 and hists["last"]["step"] == 65
    layer = hists["first"]["layers"]["hidden.0"]
    assert sorted(layer) == ["activation", "gradient", "preactivation"]
    for hist in layer.values():  # one batch of 64 rows x 256 units
        assert len(hist["edges"]) == 31 and sum(hist["counts"]) == 64 * 256
    assert min(hists["last"]["layers"]["hidden.1"]["activation"]["edges"]) == 0  # ReLU


def test_tensorboard_reader_finds_diag_scalars_and_histograms(healthy):
    [event_file] = healthy[0].rglob("events.out.tfevents.*")  # wherever the logger puts it
    events = EventAccumulator(str(event_file), size_guidance={"scalars": 0, "histograms": 0})
    events.Reload()
    scalars, histograms = set(events.Tags()["scalars"]), set(events.Tags()["histograms"])
    for layer in ("hidden.0", "hidden.1"):
        assert {f"diag/{layer}/{m}" for m in ("act_mean", "dead", "update_ratio")} <= scalars
        assert {f"diag/{layer}/{h}" for h in ("activation", "preactivation", "gradient")} <= (
            histograms
        )
    assert "diag/output/grad_norm" in scalars
    steps = [e.step for e in events.Scalars("diag/hidden.0/update_ratio")]
    assert steps == list(range(0, 3 * STEPS_PER_EPOCH, 5))
    assert events.Histograms("diag/hidden.0/activation")[0].histogram_value.num == 64 * 256


def test_a_killed_and_resumed_run_writes_the_uninterrupted_runs_diagnostics(tmp_path, digits_dir):
    full, killed = tmp_path / "full", tmp_path / "killed"
    every = "callbacks.last_checkpoint.every_n_train_steps=4"
    run(_cmd(full, digits_dir, every, epochs=2), cwd=REPO)
    last = killed / "models" / "last.ckpt"
    _kill_mid_epoch(_cmd(killed, digits_dir, every, epochs=2), last, after_step=25)
    run(_cmd(killed, digits_dir, every, "resume=true", epochs=2), cwd=REPO)
    for name in ("layers.csv", "histograms.json", "warnings.json"):
        expected = (full / "diagnostics" / name).read_bytes()
        assert (killed / "diagnostics" / name).read_bytes() == expected, name

"""What every `python src/train.py` run leaves: its test metrics (table and metrics/test.json, as
the evaluate stage writes them), its name in run.json, a multirun's summary table, and a clean
stop on Ctrl-C that resumes to the same result."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch

from tests.conftest import REPO, run, subprocess_env

pytestmark = pytest.mark.slow

STEPS_PER_EPOCH = 23  # digits: 1437 train rows in batches of 64


def _quiet(data_dir: Path) -> list[str]:
    return [
        "trainer.accelerator=cpu",
        "callbacks.progress_bar=null",
        "trainer.enable_model_summary=false",
        f"paths.data_dir={data_dir}",
    ]


def test_train_prints_and_writes_the_test_metrics_the_evaluate_stage_writes(tmp_path, digits_dir):
    out = tmp_path / "run"
    cmd = ["python", "src/train.py", "trainer.max_epochs=2", *_quiet(digits_dir)]
    printed = run([*cmd, f"hydra.run.dir={out}"], REPO).stdout
    written = json.loads((out / "metrics" / "test.json").read_text())
    evaluated = tmp_path / "evaluated"
    checkpoint = f"evaluate.checkpoint={out / 'models' / 'best.ckpt'}"
    run(
        [
            "python",
            "src/evaluate.py",
            *_quiet(digits_dir),
            checkpoint,
            f"hydra.run.dir={evaluated}",
        ],
        REPO,
    )
    expected = json.loads((evaluated / "metrics" / "test.json").read_text())
    assert {k: v for k, v in written.items() if k != "checkpoint"} == {
        k: v for k, v in expected.items() if k != "checkpoint"
    }
    assert written["n_test"] == 180 and "per_class" in written
    # One table at the end: a row per scalar metric, the value to 4 decimals.
    table = printed[printed.index("test metrics (best.ckpt)") :].splitlines()[1:]
    rows = dict(line.split() for line in table)
    assert set(rows) == {k for k, v in written.items() if isinstance(v, float)}
    assert rows["test/acc"] == f"{written['test/acc']:.4f}"


def test_run_json_and_checkpoints_carry_the_run_name(tmp_path, digits_dir):
    out = tmp_path / "some-run"
    cmd = ["python", "src/train.py", "debug=fast", *_quiet(digits_dir), f"hydra.run.dir={out}"]
    run(cmd, REPO)
    record = json.loads((out / "run.json").read_text())
    # Outside logs/ a run is named by its directory (under logs/: runs/<name>, see
    # test_tensorboard.py); no DVC experiment here.
    assert record["name"] == "some-run"
    assert record["dvc_experiment"] is None
    saved = torch.load(out / "models" / "last.ckpt", map_location="cpu", weights_only=True)
    assert saved["provenance"]["name"] == "some-run"


def test_a_multirun_ends_with_one_summary_table_and_lists_a_diverged_job(tmp_path, digits_dir):
    sweep = tmp_path / "sweep"
    cmd = ["python", "src/train.py", "-m", "debug=fast", "optimizer.lr=0.001,1e12"]
    result = run([*cmd, *_quiet(digits_dir), f"hydra.sweep.dir={sweep}"], REPO, check=False)
    assert result.returncode == 3, result.stderr[-2000:]  # the diverged job's exit code, at the end
    with (sweep / "summary.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [(r["job"], r["status"], r["optimizer.lr"]) for r in rows] == [
        ("0", "done", "0.001"),
        ("1", "diverged", "1000000000000.0"),
    ]
    assert "debug" not in rows[0]  # the same in every job
    test = json.loads((sweep / rows[0]["directory"] / "metrics" / "test.json").read_text())
    assert float(rows[0]["test/acc"]) == test["test/acc"]
    assert 0 < float(rows[0]["best/val/acc"]) <= 1
    assert rows[1]["test/acc"] == ""
    summary = result.stdout[result.stdout.index("summary of 2 runs") :].splitlines()
    assert summary[1].split()[:3] == ["job", "status", "optimizer.lr"]
    assert summary[2].split()[:2] == ["0", "done"] and summary[3].split()[:2] == ["1", "diverged"]


def _global_step(path: Path) -> int | None:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)["global_step"]
    except (FileNotFoundError, RuntimeError, EOFError):
        return None


def _signal_mid_training(sig: int, overrides: list[str], run_dir: Path) -> tuple[int, str]:
    """Start train.py in `run_dir`, send `sig` once its first last.ckpt exists (training is
    under way), and return its exit code and stderr."""
    proc = subprocess.Popen(
        ["python", "src/train.py", *overrides, f"hydra.run.dir={run_dir}"],
        cwd=REPO,
        env=subprocess_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    last = run_dir / "models" / "last.ckpt"
    deadline = time.monotonic() + 120
    while _global_step(last) is None and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=120)
    return proc.returncode, stderr


def test_ctrl_c_saves_last_ckpt_exits_130_and_the_printed_command_resumes_it(tmp_path, digits_dir):
    overrides = ["trainer.max_epochs=12", "callbacks.early_stopping=null", *_quiet(digits_dir)]
    full, stopped = tmp_path / "full", tmp_path / "stopped"
    run(["python", "src/train.py", *overrides, f"hydra.run.dir={full}"], REPO)
    returncode, stderr = _signal_mid_training(signal.SIGINT, overrides, stopped)
    assert returncode == 130, stderr
    last = stopped / "models" / "last.ckpt"
    [line] = stderr.strip().splitlines()  # one line, no traceback, no Lightning shutdown text
    assert line.startswith(f"interrupted: checkpoints in {stopped / 'models'}/; to continue: ")
    step = _global_step(last)
    assert step is not None and STEPS_PER_EPOCH <= step < 12 * STEPS_PER_EPOCH
    assert not (stopped / "metrics" / "train.json").exists()
    command = line.split("to continue: ", 1)[1]
    assert command.endswith(f"hydra.run.dir={stopped} resume=true")
    run(command, REPO)
    # The stop point resumes exactly: the same history, summary and test metrics as a run
    # never stopped.
    for rel in ("metrics/train.json", "plots/history.csv", "metrics/test.json"):
        got, want = json_or_text(stopped / rel), json_or_text(full / rel)
        assert got == want, rel


def test_sigterm_stops_like_ctrl_c_with_exit_143_and_the_printed_command_finishes(
    tmp_path, digits_dir
):
    """`kill`, `timeout` or a scheduler's preemption: Lightning's own SIGTERM stop would exit
    0 as if the run had finished."""
    overrides = ["trainer.max_epochs=6", "callbacks.early_stopping=null", *_quiet(digits_dir)]
    stopped = tmp_path / "stopped"
    returncode, stderr = _signal_mid_training(signal.SIGTERM, overrides, stopped)
    assert returncode == 143, stderr
    line = stderr.strip().splitlines()[-1]
    assert line.startswith(f"stopped by SIGTERM: checkpoints in {stopped / 'models'}/; ")
    assert not (stopped / "metrics" / "train.json").exists()
    run(line.split("to continue: ", 1)[1], REPO)
    assert json.loads((stopped / "metrics" / "train.json").read_text())["epochs_trained"] == 6


def json_or_text(path: Path) -> object:
    if path.suffix != ".json":
        return path.read_text()
    data = json.loads(path.read_text())
    data.pop("checkpoint", None)  # the path of the run's own checkpoint
    return data

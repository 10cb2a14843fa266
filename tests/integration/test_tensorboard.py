"""A real TensorBoard server over a real logs/ directory: the runs are listed by their names, the
scalars and histograms are there, and the HParams tab compares the runs with their metrics."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import VENV_BIN, copy_repo, run, subprocess_env

pytestmark = pytest.mark.slow

STATUSES = ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"]


@pytest.fixture(scope="module")
def logs(tmp_path_factory, digits_dir) -> tuple[Path, dict[str, str]]:
    """A repository whose logs/ holds an ad-hoc run and a multirun job; their run.json names."""
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    shutil.copytree(digits_dir, repo / "data" / "prepared", dirs_exist_ok=True)
    run(["python", "src/train.py", "debug=fast", "model.dropout=0.3"], repo)
    run(["python", "src/train.py", "-m", "debug=fast", "seed=2"], repo)
    records = [json.loads(p.read_text()) for p in (repo / "logs").glob("**/run.json")]
    return repo / "logs", {r["name"]: r for r in records}


@pytest.fixture(scope="module")
def server(logs):
    """`tensorboard --logdir logs` on a free port; its base URL once it answers."""
    proc = subprocess.Popen(
        [str(VENV_BIN / "tensorboard"), "--logdir", str(logs[0]), "--host", "127.0.0.1"]
        + ["--port", "0", "--load_fast", "false", "--reload_interval", "1"],
        env=subprocess_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            found = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
            url = found.group(1) if found else None
            if not line and proc.poll() is not None:
                pytest.fail(f"tensorboard exited {proc.returncode}")
        assert url, "tensorboard announced no URL"
        # Wait until it has read both runs' hparams sessions.
        while time.monotonic() < deadline:
            try:
                groups = _post(url, "hparams/session_groups", _groups_request())
                if len(groups.get("sessionGroups", [])) == 2:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _get(url: str, route: str) -> Any:
    with urllib.request.urlopen(f"{url}/data/{route}", timeout=30) as response:
        return json.load(response)


def _post(url: str, route: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        f"{url}/data/plugin/{route}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def _groups_request(*metrics: str) -> dict[str, Any]:
    columns = [{"metric": {"tag": m, "group": ""}} for m in metrics]
    return {
        "experimentName": "",
        "allowedStatuses": STATUSES,
        "colParams": columns,
        "startIndex": 0,
        "sliceSize": 100,
    }


def test_tensorboard_lists_each_run_by_the_name_in_its_run_json(server, logs):
    names = set(logs[1])
    assert set(_get(server, "runs")) == names
    [adhoc] = [n for n in names if n.startswith("runs/")]
    [job] = [n for n in names if n.startswith("multiruns/")]
    assert "model.dropout-0.3" in adhoc and adhoc.endswith("debug-fast+model.dropout-0.3")
    assert re.fullmatch(r"multiruns/[\d_.-]+/0_debug-fast\+seed-2", job)
    for name in names:  # the events lie in the run directory itself
        assert list((logs[0] / name).glob("events.out.tfevents.*"))


def test_every_run_has_loss_accuracy_lr_test_and_best_val_scalars(server, logs):
    tags = _get(server, "plugin/scalars/tags")
    expected = {"train/loss", "val/loss", "val/acc", "lr-AdamW/weights", "test/acc"}
    for name in logs[1]:
        assert expected | {"best/val/loss", "best/val/acc"} <= set(tags[name]), name


def test_diagnostics_histograms_reach_tensorboard(server, logs):
    tags = _get(server, "plugin/histograms/tags")
    for name in logs[1]:
        assert any(tag.startswith("diag/") for tag in tags[name]), name


def test_hparams_experiment_lists_the_config_and_the_final_metrics(server):
    experiment = _post(server, "hparams/experiment", {"experimentName": ""})
    hparams = {h["name"]: h for h in experiment["hparamInfos"]}
    assert {"name", "seed", "model.dropout", "optimizer.lr", "data.batch_size"} <= set(hparams)
    assert {
        "trainer.max_epochs",
        "model.hidden_sizes",
        "callbacks.divergence.check_weights",
    } <= set(hparams)
    assert "paths.data_dir" not in hparams and "resume" not in hparams
    # The two runs differ in dropout and seed, not in the learning rate.
    assert hparams["model.dropout"]["differs"] and hparams["seed"]["differs"]
    assert not hparams["optimizer.lr"].get("differs", False)
    metrics = {m["name"]["tag"] for m in experiment["metricInfos"]}
    assert {"test/acc", "test/loss", "best/val/acc", "best/val/loss", "val/loss"} <= metrics


def test_each_hparams_session_finished_with_its_metric_values(server, logs):
    response = _post(server, "hparams/session_groups", _groups_request("test/acc", "best/val/loss"))
    groups = response["sessionGroups"]
    assert {g["name"] for g in groups} == set(logs[1])
    for group in groups:
        record = logs[1][group["name"]]
        assert group["hparams"]["seed"] == record["config"]["seed"]
        assert group["hparams"]["model.dropout"] == record["config"]["model"]["dropout"]
        assert group["hparams"]["model.hidden_sizes"] == "[256, 128]"
        [session] = group["sessions"]
        assert session["status"] == "STATUS_SUCCESS"
        values = {m["name"]["tag"]: m["value"] for m in session["metricValues"]}
        assert 0 < values["test/acc"] <= 1
        assert values["best/val/loss"] > 0

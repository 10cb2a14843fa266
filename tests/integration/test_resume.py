"""`resume=true`: a run SIGKILLed mid-epoch and resumed ends exactly where the uninterrupted run
ends: the same bytes of metrics/train.json and plots/history.csv, the same weights."""

from __future__ import annotations

import itertools
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from mlplab.training.resume import ResumeState, config_hash, resume_checkpoint
from tests.conftest import REPO, cpu_run_cfg, run, subprocess_env

STEPS_PER_EPOCH = 23  # digits: 1437 train rows in batches of 64, the last one of 29 rows


def _train_cmd(run_dir: Path, data_dir: Path, *extra: str) -> list[str]:
    return [
        "python",
        "src/train.py",
        "trainer.accelerator=cpu",
        "trainer.max_epochs=2",
        "callbacks.progress_bar=null",
        "trainer.enable_model_summary=false",
        "callbacks.last_checkpoint.every_n_train_steps=4",
        f"paths.data_dir={data_dir}",
        f"hydra.run.dir={run_dir}",
        *extra,
    ]


def _global_step(path: Path) -> int | None:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)["global_step"]
    except (FileNotFoundError, RuntimeError, EOFError):
        return None


def _kill_mid_epoch(cmd: list[str], last: Path, after_step: int) -> int:
    """Start `cmd`, SIGKILL it once last.ckpt holds a step past `after_step`; that step."""
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=subprocess_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            step = _global_step(last)
            if step is not None and step > after_step:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return step
            time.sleep(0.05)
        pytest.fail(f"no checkpoint past step {after_step}: {proc.stderr.read().decode()[-2000:]}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]


@pytest.mark.slow
def test_a_run_killed_mid_epoch_and_resumed_equals_the_uninterrupted_run(tmp_path, digits_dir):
    full, killed = tmp_path / "full", tmp_path / "killed"
    run(_train_cmd(full, digits_dir), cwd=REPO)
    last = killed / "models" / "last.ckpt"
    _kill_mid_epoch(_train_cmd(killed, digits_dir), last, after_step=STEPS_PER_EPOCH)
    saved_step = _global_step(last)
    assert saved_step is not None and saved_step % STEPS_PER_EPOCH != 0  # inside the second epoch
    assert not (killed / "metrics" / "train.json").exists()
    run(_train_cmd(killed, digits_dir, "resume=true"), cwd=REPO)

    for rel in ("metrics/train.json", "plots/history.csv"):
        assert (killed / rel).read_bytes() == (full / rel).read_bytes(), rel
    for name in ("best.ckpt", "last.ckpt"):
        expected, resumed = _weights(full / "models" / name), _weights(killed / "models" / name)
        assert expected.keys() == resumed.keys()
        for key, tensor in expected.items():
            assert torch.equal(tensor, resumed[key]), f"{name}: {key}"
    # One TensorBoard curve: the resumed run appends to the events in the run directory, which
    # hold epoch 1's point (flushed when the checkpoint was saved) and epoch 2's.
    assert not (killed / "logs").exists()
    events = EventAccumulator(str(killed))
    events.Reload()
    assert sorted({e.step for e in events.Scalars("val/loss")}) == [22, 45]


def test_resume_true_refuses_a_checkpoint_written_with_another_config(tmp_path, digits_dir):
    from mlplab.errors import ConfigError

    cfg = cpu_run_cfg(digits_dir)
    models = tmp_path / "models"
    models.mkdir()
    state = ResumeState(config_hash(cfg), models).state_dict()
    torch.save({"callbacks": {"ResumeState": state}}, models / "last.ckpt")
    assert resume_checkpoint(True, tmp_path, config_hash(cfg)) == models / "last.ckpt"
    other = config_hash(cpu_run_cfg(digits_dir, "model.dropout=0.3"))
    with pytest.raises(ConfigError, match="different config"):
        resume_checkpoint(True, tmp_path, other)
    # The DVC stage (resume=auto) continues only a fit that never finished (the mark a fit
    # leaves until it ends), written with this config; else it starts fresh.
    assert resume_checkpoint("auto", tmp_path, config_hash(cfg)) is None  # finished
    (models / ".unfinished").touch()
    assert resume_checkpoint("auto", tmp_path, other) is None
    assert resume_checkpoint("auto", tmp_path, config_hash(cfg)) == models / "last.ckpt"
    assert resume_checkpoint("auto", tmp_path / "new", config_hash(cfg)) is None
    assert resume_checkpoint(False, tmp_path, config_hash(cfg)) is None


def test_resume_hash_ignores_only_the_resume_key(digits_dir):
    cfg = cpu_run_cfg(digits_dir)
    assert config_hash(cfg) == config_hash(cpu_run_cfg(digits_dir, "resume=auto"))
    assert config_hash(cfg) != config_hash(cpu_run_cfg(digits_dir, "trainer.max_epochs=41"))


def test_a_sampler_resumed_mid_epoch_yields_the_batches_it_had_not_yet_yielded():
    from mlplab.data.batches import ShardedBatchSampler

    def sampler():
        return ShardedBatchSampler(np.arange(100), 8, shuffle=True, seed=3, rank=0, world_size=1)

    full = sampler()
    full.set_epoch(2)
    batches = list(full)
    killed = sampler()
    killed.set_epoch(2)
    consumed = list(itertools.islice(killed, 5))
    state = killed.state_dict()
    assert state == {"epoch": 2, "yielded": 5}
    resumed = sampler()
    resumed.load_state_dict(state)
    resumed.set_epoch(2)
    rest = list(resumed)
    assert [b.tolist() for b in consumed + rest] == [b.tolist() for b in batches]
    # Only once, and only for that epoch: the next epoch is whole again.
    resumed.set_epoch(3)
    assert len(list(resumed)) == len(batches)


def test_resume_must_be_false_true_auto_or_an_existing_checkpoint(tmp_path, digits_dir):
    from mlplab.errors import ConfigError

    with pytest.raises(ConfigError, match="config key 'resume'"):
        cpu_run_cfg(digits_dir, f"resume={tmp_path / 'missing.ckpt'}")
    (tmp_path / "a.ckpt").write_bytes(b"")
    assert cpu_run_cfg(digits_dir, f"resume={tmp_path / 'a.ckpt'}").resume.endswith("a.ckpt")

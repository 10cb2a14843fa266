"""Hydra's submitit launcher (hydra-submitit-launcher): the plugin's submitit_slurm and
submitit_local and the shipped submitit_cluster compose, and submitit_local really runs a sweep."""

from __future__ import annotations

import pytest

from tests.conftest import REPO, run

SLURM = "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"


@pytest.mark.parametrize("launcher", ["submitit_slurm", "submitit_cluster"])
def test_slurm_launchers_compose_with_the_plugins_schema(launcher):
    launcher_cfg = _launcher(f"hydra/launcher={launcher}")
    assert launcher_cfg._target_ == SLURM
    assert "qos" in launcher_cfg and "partition" in launcher_cfg  # the plugin schema's keys
    assert _launcher()._target_.endswith("BatchedLauncher")  # the default is still batched


def _launcher(*overrides: str):
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(REPO / "configs"), version_base="1.3"):
        return compose("train", list(overrides), return_hydra_config=True).hydra.launcher


@pytest.mark.slow
def test_a_submitit_local_sweep_runs_both_jobs_to_their_test_metrics(tmp_path, digits_dir):
    cmd = [
        "python", "src/train.py", "-m", "hydra/launcher=submitit_local", "debug=fast",
        "seed=1,2", "trainer.accelerator=cpu", "callbacks.progress_bar=null",
        f"paths.data_dir={digits_dir}", f"hydra.sweep.dir={tmp_path}",
    ]  # fmt: skip
    run(cmd, REPO)
    jobs = sorted(p for p in tmp_path.iterdir() if p.is_dir() and p.name[0].isdigit())
    assert len(jobs) == 2
    assert all((job / "metrics" / "test.json").is_file() for job in jobs)
    # submitit's own folder per job (named by its job id): it, not Hydra's launcher, ran them
    assert len([p for p in (tmp_path / ".submitit").iterdir() if p.name.isdigit()]) == 2

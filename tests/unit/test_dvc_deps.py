"""Every module a DVC stage can run is one of its deps, so editing it makes the stage stale.

The import graph is read from the source (tests/import_graph.py: lazy imports and the
`_target_`s of configs included); a run of the prepare stage's real script checks that the
modules it actually loads are all in that graph.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, subprocess_env
from tests.import_graph import SRC, closure, config_targets, modules

STAGES = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


def stage_script(stage: dict) -> Path:
    return REPO / re.search(r"python (src/\w+\.py)", stage["cmd"]).group(1)


def stage_files(name: str) -> set[Path]:
    """The source files stage `name` can run: its script and the modules it can import."""
    script = stage_script(STAGES[name])
    found = closure(script, config_targets() if name == "train" else set())
    return {script, *(modules()[m] for m in found)}


def uncovered(files: set[Path], deps: list[str]) -> list[str]:
    def covered(path: Path) -> bool:
        return any(path == REPO / d or (REPO / d) in path.parents for d in deps)

    return sorted(str(f.relative_to(REPO)) for f in files if not covered(f))


@pytest.mark.parametrize("name", sorted(STAGES))
def test_each_stage_lists_every_module_it_runs_as_a_dep(name):
    missing = uncovered(stage_files(name), STAGES[name]["deps"])
    assert not missing, (
        f"dvc.yaml stage {name!r} runs these files but does not list them: {missing}"
    )


def test_a_data_module_missing_from_prepare_deps_is_caught():
    deps = [d for d in STAGES["prepare"]["deps"] if d != "src/mlplab/data"]
    deps += [
        str(p.relative_to(REPO))
        for p in (SRC / "mlplab" / "data").glob("*.py")
        if p.stem != "split"
    ]
    assert uncovered(stage_files("prepare"), deps) == ["src/mlplab/data/split.py"]


def test_modules_the_prepare_script_really_loads_are_in_its_graph(tmp_path):
    """Run src/prepare.py as the stage does (into a temporary data dir) and list what it loaded."""
    probe = (
        "import atexit, json, runpy, sys\n"
        "atexit.register(lambda: print(json.dumps(sorted(n for n in sys.modules"
        " if n == 'mlplab' or n.startswith('mlplab.')))))\n"
        f"sys.argv = ['src/prepare.py', 'paths.data_dir={tmp_path / 'data'}',"
        f" 'hydra.run.dir={tmp_path / 'run'}']\n"
        "runpy.run_path('src/prepare.py', run_name='__main__')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert len(list((tmp_path / "data" / "digits").glob("*/X.npy"))) == 1
    assert "mlplab.data.store" in loaded
    assert loaded <= closure(stage_script(STAGES["prepare"])) | {"mlplab"}

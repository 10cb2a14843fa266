"""Run a study preset and write its report: python src/study.py study=NAME [budget=quick]
[seeds=N] [dir=PATH] [key=value ...]

Each sweep of configs/study/NAME.yaml is one `python src/train.py -m` over its overrides and
seeds 0..N-1 (shape-compatible runs train together as one stacked network), under
logs/studies/NAME/<time>_<budget>/<sweep>/. Every run's config is checked before the first one
starts. The report (report.md, report.html, figures, results.csv) goes to reports/studies/NAME/
for the preset's default budget, seeds and no extra overrides (and the README's Results block is
rewritten from it), else to <study dir>/report/.

  study=all               every preset in turn (`make studies`); with dir=PATH, PATH/<study>
  runs=STUDY_DIR          only write the report of runs made earlier
  key=value               any train.py override, given to every run (e.g. trainer.accelerator=gpu)
"""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
from pathlib import Path

from mlplab.cli import (
    CONFIG_PATH,
    EXIT_INTERRUPTED,
    checked_argv,
    clock_stamp,
    fail,
    new_dir,
    shown,
)
from mlplab.config.study import Study, load, names, seeds
from mlplab.errors import ConfigError, MlplabError
from mlplab.training.checks import validate

ROOT = Path(__file__).resolve().parent.parent
TRAIN = Path(__file__).resolve().parent / "train.py"
CONFIGS = ROOT / "configs"
REPORTS = ROOT / "reports" / "studies"
OWN_KEYS = ("study", "budget", "seeds", "dir", "runs")


def main(argv: list[str]) -> int:
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return 0
    args, extra = _parse(argv)
    chosen = args.get("study")
    if chosen is None:
        raise ConfigError(f"study=NAME is required; options: {', '.join([*names(CONFIGS), 'all'])}")
    studies = [load(CONFIGS, n) for n in (names(CONFIGS) if chosen == "all" else [chosen])]
    if "runs" in args:
        return report_only(studies[0], Path(args["runs"]))
    plans = [plan(s, args, extra) for s in studies]  # every run checked before any starts
    code = 0
    for study, (budget, n, sweeps) in zip(studies, plans, strict=True):
        directory = args.get("dir")
        if directory and chosen == "all":  # one folder per study below it
            directory = str(Path(directory) / study.name)
        code = max(code, run_study(study, budget, n, sweeps, directory, extra))
    return code


def _parse(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    args, extra = {}, []
    for token in argv:
        key, sep, value = token.partition("=")
        if not sep:
            raise ConfigError(f"argument {token!r} is not key=value; see python src/study.py -h")
        if key in OWN_KEYS:
            args[key] = value
        else:
            extra.append(token)
    return args, extra


def plan(
    study: Study, args: dict[str, str], extra: list[str]
) -> tuple[str, int, dict[str, list[str]]]:
    """The budget, seed count and each sweep's train.py arguments, every job's config checked."""
    budget = args.get("budget", "default")
    if budget not in study.budgets:
        options = ", ".join(study.budgets)
        raise ConfigError(
            f"budget={budget!r} is not a budget of study {study.name}; options: {options}"
        )
    n = seeds(args["seeds"]) if "seeds" in args else study.seeds
    sweeps = {}
    for name in study.budget_sweeps[budget]:
        argv = [  # the sweep's overrides after the budget's: they are the more specific
            "-m",
            f"experiment={study.experiment}",
            *study.budgets[budget],
            *study.sweeps[name],
            f"seed=range(0,{n})",
            *extra,
        ]
        checked_argv([*argv, "hydra.sweep.dir=unused"], str(TRAIN), CONFIG_PATH, "train", validate)
        sweeps[name] = argv
    return budget, n, sweeps


def run_study(
    study: Study,
    budget: str,
    n: int,
    sweeps: dict[str, list[str]],
    directory: str | None,
    extra: list[str],
) -> int:
    fresh = Path("logs") / "studies" / study.name / f"{clock_stamp()}_{budget}"
    here = Path(directory) if directory else new_dir(fresh)
    here.mkdir(parents=True, exist_ok=True)
    command = _command(study.name, budget, n, study, extra)
    record = {"study": study.name, "budget": budget, "seeds": n, "extra": extra, "command": command}
    (here / "study.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"study {study.name} ({budget} budget, {n} seeds): {shown(here)}", flush=True)
    code = 0
    for name, argv in sweeps.items():
        words = [sys.executable, str(TRAIN), *argv, f"hydra.sweep.dir={here / name}"]
        print(f"\n$ python {shown(TRAIN)} {shlex.join(words[2:])}", flush=True)
        done = _run_child(words)
        if done.returncode in (EXIT_INTERRUPTED, 143):
            print(f"study {study.name} stopped; its runs so far are in {shown(here)}", flush=True)
            return done.returncode
        code = max(code, done.returncode)
    if study.samples:
        _sample(here, study.samples)
    default = budget == "default" and n == study.seeds and not extra and directory is None
    _report(study, here, REPORTS / study.name if default else here / "report", record, default)
    return code


def _run_child(words: list[str]) -> subprocess.CompletedProcess[bytes]:
    """The sweep as a child process. Ctrl-C reaches it from the terminal and it stops cleanly
    (last.ckpt, exit 130); meanwhile this process waits for it instead of killing it."""
    previous = signal.signal(signal.SIGINT, lambda *_: None)  # not SIG_IGN: the child inherits that
    try:
        return subprocess.run(words)
    finally:
        signal.signal(signal.SIGINT, previous)


def report_only(study: Study, here: Path) -> int:
    record_path = here / "study.json"
    if not record_path.is_file():
        raise ConfigError(f"runs={here}: no study.json there; give a folder src/study.py made")
    record = json.loads(record_path.read_text())
    if record["study"] != study.name:
        raise ConfigError(f"runs={here} holds study {record['study']!r}, not {study.name!r}")
    default = (
        record["budget"] == "default" and record["seeds"] == study.seeds and not record["extra"]
    )
    _report(study, here, REPORTS / study.name if default else here / "report", record, default)
    return 0


def _report(study: Study, here: Path, out: Path, record: dict, committed: bool) -> None:
    from mlplab.reporting.study import update_readme, write_report

    arms = write_report(study, here, out, record)
    if not arms:
        raise ConfigError(f"no runs of study {study.name} under {here}")
    print((out / "results.md").read_text())
    print(f"report: {shown(out / 'report.md')} and report.html")
    if committed and update_readme(ROOT / "README.md", REPORTS):
        print("README.md: Results rewritten from reports/studies/")


def _sample(here: Path, count: int) -> None:
    """makemore's samples from each run's tested checkpoint: <run>/samples.txt, drawn with
    src/sample.py's seed and max_length (configs/sample.yaml)."""
    from omegaconf import OmegaConf

    from mlplab.evaluation.sample import sample_names, write_names

    defaults = OmegaConf.load(CONFIGS / "sample.yaml")
    for record in sorted(here.glob("*/*/run.json")):
        run = record.parent
        weights = json.loads(record.read_text())["config"]["evaluate"]["weights"]
        checkpoint = run / "models" / f"{weights}.ckpt"
        if checkpoint.is_file():
            names = sample_names(checkpoint, count, defaults.seed, defaults.max_length)
            write_names(names, run / "samples.txt")


def _command(name: str, budget: str, n: int, study: Study, extra: list[str]) -> str:
    words = ["python", "src/study.py", f"study={name}"]
    words += [] if budget == "default" else [f"budget={budget}"]
    words += [] if n == study.seeds else [f"seeds={n}"]
    return shlex.join(words + extra)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except MlplabError as err:
        fail(err)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)

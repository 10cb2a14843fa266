"""The diagnostics callback's cost: training throughput on digits with it on (the default
config) and off (`callbacks.diagnostics=null`), in alternating child processes.

`python -m benchmarks.diagnostics_overhead all --out F` (what benchmarks/run.py runs) measures
every batch size and writes {"results": [...], "section": markdown} to F; each of its
children, `... one --batch-size 64 --diagnostics on --out F`, is one `train()` run (default
callbacks and loggers) of a fixed number of epochs, early stopping off, timed by
benchmarks.timing.TrainPhaseTimer.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def one(args: argparse.Namespace) -> None:
    """One timed `train()` run; writes {samples, seconds} to args.out."""
    from hydra import compose, initialize_config_dir

    from mlplab.training.checks import validate

    timer = Path(args.run_dir) / "timer.json"
    overrides = [
        "data=digits",
        f"data.batch_size={args.batch_size}",
        f"trainer.max_epochs={args.epochs}",
        "trainer.accelerator=cpu",
        "callbacks.early_stopping=null",  # every run trains the same number of steps
        "+callbacks.train_timer._target_=benchmarks.timing.TrainPhaseTimer",
        f"+callbacks.train_timer.path={timer}",
    ]
    if args.diagnostics == "off":
        overrides.append("callbacks.diagnostics=null")
    else:  # the same callback, timing its own hooks
        overrides.append("callbacks.diagnostics._target_=benchmarks.timing.TimedDiagnostics")
    with initialize_config_dir(config_dir=str(REPO / "configs"), version_base="1.3"):
        cfg = validate(compose(config_name="train", overrides=overrides))
    from mlplab.training.run import train

    train(cfg, Path(args.run_dir))
    from benchmarks.timing import TimedDiagnostics

    result = {**json.loads(timer.read_text()), "diagnostics_seconds": TimedDiagnostics.seconds}
    Path(args.out).write_text(json.dumps(result))


def _run(batch: int, epochs: int, diagnostics: str, work: Path) -> dict:
    """{samples, seconds, diagnostics_seconds} of one child run."""
    out, log = work / "result.json", work / "child.log"
    cmd = [sys.executable, "-m", "benchmarks.diagnostics_overhead", "one"]
    cmd += ["--batch-size", str(batch)]
    cmd += ["--epochs", str(epochs), "--diagnostics", diagnostics]
    cmd += ["--run-dir", str(work / f"run-{batch}-{diagnostics}"), "--out", str(out)]
    # One torch thread: on a shared 2-core machine, each parallel op of a two-thread process
    # waits for a busy core, and runs of one config varied 20x in samples/s.
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with log.open("w") as f:
        done = subprocess.run(cmd, cwd=REPO, env=env, stdout=f, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        sys.exit(f"benchmarks.diagnostics_overhead failed (exit {done.returncode}); see {log}")
    return json.loads(out.read_text())


def measure(batch_sizes: list[int], epochs: int, repeats: int, work: Path) -> list[dict]:
    """Per batch size: median samples/s with diagnostics on and off over alternating runs, and
    the median share of the "on" runs' training time spent in the callback's hooks."""
    every = _configured_every_n_steps()
    results = []
    for batch in batch_sizes:
        on, off = [], []
        for i in range(repeats):  # alternate, so drift in machine load hits both alike
            print(f"batch {batch}, repeat {i + 1}/{repeats}: diagnostics off, then on", flush=True)
            off.append(_run(batch, epochs, "off", work))
            on.append(_run(batch, epochs, "on", work))
        hooks = [r["diagnostics_seconds"] / (r["seconds"] - r["diagnostics_seconds"]) for r in on]
        results.append(
            {
                "batch_size": batch,
                "epochs": epochs,
                "repeats": repeats,
                "every_n_steps": every,
                "off": statistics.median(r["samples"] / r["seconds"] for r in off),
                "on": statistics.median(r["samples"] / r["seconds"] for r in on),
                "hook_share": statistics.median(hooks),
            }
        )
    return results


def _configured_every_n_steps() -> int:
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(REPO / "configs"), version_base="1.3"):
        return int(compose(config_name="train").callbacks.diagnostics.every_n_steps)


HEADING = "## Diagnostics overhead"


def render(results: list[dict], machine: str) -> str:
    lines = [
        HEADING,
        "",
        "Training samples/s of `train()` on `data=digits` (1,437 training rows) with the default",
        "config (diagnostics on) and with `callbacks.diagnostics=null`, early stopping off so",
        "both train every epoch. Time is the training epochs less validation",
        "(benchmarks/timing.py's TrainPhaseTimer); each samples/s cell is the median of",
        "`repeats` alternating child runs, each with one torch thread (`OMP_NUM_THREADS=1`: two",
        "threads on a shared 2-core machine made single runs up to 20x slower). Even so, runs",
        "of one config vary by 10-20% here, so the end-to-end overhead (off / on - 1) is noisy;",
        "`hooks` is the time the callback's own hooks took, as a share of the rest of the",
        'training time, measured inside each "on" run (benchmarks/timing.py\'s',
        "TimedDiagnostics; median). Written by `make bench` or",
        "`python benchmarks/run.py --diagnostics-only`. Target: overhead < 10%.",
        "",
        "| batch | epochs (steps) | every_n_steps | off samples/s | on samples/s "
        "| overhead (end to end) | hooks | repeats | machine |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        steps = r["epochs"] * -(-1437 // r["batch_size"])
        lines.append(
            f"| {r['batch_size']} | {r['epochs']} ({steps}) | {r['every_n_steps']} "
            f"| {r['off']:,.0f} | {r['on']:,.0f} | {r['off'] / r['on'] - 1:.1%} "
            f"| {r['hook_share']:.1%} | {r['repeats']} | {machine} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    single = commands.add_parser("one", help="one timed train() run")
    single.add_argument("--batch-size", type=int, required=True)
    single.add_argument("--epochs", type=int, required=True)
    single.add_argument("--diagnostics", choices=("on", "off"), required=True)
    single.add_argument("--run-dir", required=True)
    single.add_argument("--out", required=True)
    every = commands.add_parser("all", help="alternating runs for every batch size")
    every.add_argument("--batch-sizes", type=int, nargs="+", required=True)
    every.add_argument("--epochs", type=int, required=True)
    every.add_argument("--repeats", type=int, required=True)
    every.add_argument("--machine", required=True)
    every.add_argument("--work-dir", required=True)
    every.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.command == "one":
        one(args)
        return
    results = measure(args.batch_sizes, args.epochs, args.repeats, Path(args.work_dir))
    section = render(results, args.machine)
    Path(args.out).write_text(json.dumps({"results": results, "section": section}))


if __name__ == "__main__":
    main()

"""`make bench`: samples/s of `train()` against a hand-written loop, written to
reports/benchmarks.md (tables) and reports/benchmarks.json (every measurement).

One process measures every case: dataset (digits; synthetic 1 M x 64, prepared once by a
child process that also reports its peak memory) x batch size x model x diagnostics on/off.
Each repeat runs every case's `train()` (the real entry path on a composed config, several
epochs) and its raw loop (benchmarks/raw_loop.py) back to back, the order turned each repeat,
so drift in machine load hits both sides alike; tables show medians over repeats. Two measures:
train phase (the training batches only) and full epoch (train, validation, checkpoints,
logging), both over the epochs after the first. Quick mode (default) fits in under 3 minutes on
2 cores; `--full` runs more epochs, batches and repeats.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python benchmarks/run.py`: import benchmarks.* from the root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
from omegaconf import DictConfig

from benchmarks.common import REPO, compose_config, synthetic_overrides
from benchmarks.report import KEPT_SECTIONS, kept_sections, render

REPORT, RESULTS = REPO / "reports" / "benchmarks.md", REPO / "reports" / "benchmarks.json"
MODELS = {"mlp": [], "64-64-128-64": ["model.hidden_sizes=[64,64,128,64]"]}
DIAGNOSTICS = {  # "on" is the configured callback, adding up its hooks' time as it runs
    "on": "callbacks.diagnostics._target_=benchmarks.timing.TimedDiagnostics",
    "off": "callbacks.diagnostics=null",
}

# Per mode: epochs per train() call (the first is excluded from the figures), repeats, and the
# synthetic set's batch caps per epoch (train, validation; digits always runs whole epochs).
MODES = {
    "quick": {"epochs": 5, "repeats": 3, "train_batches": 40, "val_batches": 4},
    "full": {"epochs": 6, "repeats": 5, "train_batches": 200, "val_batches": 20},
}


def _cpu() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores"
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"


@contextlib.contextmanager
def _output_to(log: Path) -> Iterator[None]:
    """File descriptors 1 and 2 into `log`: train()'s progress bar and logs stay off the
    terminal, where the harness prints its own progress lines."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log.open("a") as f:
        os.dup2(f.fileno(), 1)
        os.dup2(f.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def measure_train(cfg: DictConfig, threads: int, work: Path) -> dict[str, Any]:
    """One `train()` call; rates over the epochs after the first."""
    from benchmarks.timing import TimedDiagnostics
    from mlplab.training.run import train

    clock, run_dir = Path(cfg.callbacks.bench_clock.path), work / "run"
    torch.set_num_threads(threads)
    TimedDiagnostics.seconds = 0.0
    start = time.perf_counter()
    try:
        with _output_to(work / "train.log"):
            train(cfg, run_dir)
    except BaseException:
        print(f"train() failed; its output is in {work / 'train.log'}", file=sys.stderr)
        raise
    done = time.perf_counter()
    record = json.loads(clock.read_text())
    shutil.rmtree(run_dir)
    starts = record["starts"]
    full = [b - a for a, b in itertools.pairwise([*starts, record["end"]])]
    samples, train_seconds = record["samples"], record["train_seconds"]
    steady = sum(samples[1:])
    return {
        "train_rate": steady / sum(train_seconds[1:]),
        "full_rate": steady / sum(full[1:]),
        "epochs": len(starts),
        "samples_per_epoch": samples[0],
        "startup_seconds": starts[0] - start,
        "first_epoch_seconds": full[0],
        "steady_epoch_seconds": statistics.mean(full[1:]),
        "after_fit_seconds": done - record["end"],  # test, final writes
        "hooks_share": TimedDiagnostics.seconds / sum(train_seconds),
        "threads": record["threads"],
    }


def measure_stacked(cfg: DictConfig, threads: int, work: Path) -> dict[str, Any]:
    """One run on the stacked loop (`runtime.engine=stacked`), timed between validations."""
    from benchmarks.timing import TimedGroup

    run_dir = work / "stacked"
    torch.set_num_threads(threads)
    group = TimedGroup([(cfg, run_dir)])
    start = time.perf_counter()
    with _output_to(work / "train.log"):
        group.fit()
    done = time.perf_counter()
    shutil.rmtree(run_dir)
    marks = group.marks
    ends = [group.started, *(end for _, end in marks)]
    train_seconds = [s - e for (s, _), e in zip(marks, ends, strict=False)]
    full = [b - a for a, b in itertools.pairwise(ends)]
    samples = group.samples_per_epoch()
    return {
        "train_rate": samples * (len(marks) - 1) / sum(train_seconds[1:]),
        "full_rate": samples * (len(marks) - 1) / sum(full[1:]),
        "epochs": len(marks),
        "samples_per_epoch": samples,
        "startup_seconds": group.started - start,
        "first_epoch_seconds": full[0],
        "steady_epoch_seconds": statistics.mean(full[1:]),
        "after_fit_seconds": done - ends[-1],
        "hooks_share": 0.0,
        "threads": torch.get_num_threads(),
    }


def measure_raw(cfg: Any, data: Any, threads: int) -> dict[str, Any]:
    from benchmarks.raw_loop import raw_epochs

    out = raw_epochs(cfg, data, threads)
    steady = sum(out["samples"][1:])
    return {
        "train_rate": steady / sum(out["train_seconds"][1:]),
        "full_rate": steady / sum(out["full_seconds"][1:]),
        "samples_per_epoch": out["samples"][0],
        "first_epoch_seconds": out["full_seconds"][0],
        "steady_epoch_seconds": statistics.mean(out["full_seconds"][1:]),
        "val_acc": out["val_acc"][-1],
    }


def cases(batch_sizes: list[int]) -> list[dict[str, Any]]:
    return [
        {"dataset": d, "batch_size": b, "model": m}
        for d in ("digits", "synthetic")
        for b in batch_sizes
        for m in MODELS
    ]


def case_configs(
    case: dict[str, Any], mode: dict[str, Any], data: list[str], clock: Path
) -> dict[str, DictConfig]:
    """A case's composed configs, diagnostics "on" and "off"; the raw loop reads "off"'s.

    Composed before any measurement, so config edits made while the benchmark runs miss it.
    """
    overrides = [
        *data,
        f"data.batch_size={case['batch_size']}",
        *MODELS[case["model"]],
        f"trainer.max_epochs={mode['epochs']}",
        "trainer.accelerator=cpu",
        "+callbacks.bench_clock._target_=benchmarks.timing.EpochClock",
        f"+callbacks.bench_clock.path={clock}",
    ]
    if case["dataset"] == "synthetic":
        overrides += [
            f"trainer.limit_train_batches={mode['train_batches']}",
            f"trainer.limit_val_batches={mode['val_batches']}",
            f"trainer.limit_test_batches={mode['val_batches']}",
        ]
    configs = {side: compose_config([*overrides, extra]) for side, extra in DIAGNOSTICS.items()}
    stacked = [o for o in overrides if "bench_clock" not in o]  # the loop times itself
    configs["stacked"] = compose_config([*stacked, "runtime.engine=stacked", DIAGNOSTICS["off"]])
    return configs


def summarise(case: dict[str, Any], runs: dict[str, list[dict[str, Any]]]) -> list[dict]:
    """A case's two table rows (diagnostics on, off): medians over repeats, and every run."""
    raw, rows = runs["raw"], []
    for side in [*DIAGNOSTICS, "stacked"]:
        ours = runs[side]
        rows.append(
            {
                **case,
                "engine": "stacked" if side == "stacked" else "lightning",
                "diagnostics": "off" if side == "stacked" else side,
                "train_rate": _median(ours, "train_rate"),
                "raw_train_rate": _median(raw, "train_rate"),
                "full_rate": _median(ours, "full_rate"),
                "raw_full_rate": _median(raw, "full_rate"),
                "hooks_share": _median(ours, "hooks_share") if side == "on" else None,
                "startup_seconds": _median(ours, "startup_seconds"),
                "first_epoch_seconds": _median(ours, "first_epoch_seconds"),
                "steady_epoch_seconds": _median(ours, "steady_epoch_seconds"),
                "after_fit_seconds": _median(ours, "after_fit_seconds"),
                "samples_per_epoch": ours[0]["samples_per_epoch"],
                "raw_samples_per_epoch": raw[0]["samples_per_epoch"],
                "runs": ours,
                "raw_runs": raw,
            }
        )
    return rows


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from benchmarks.raw_loop import load_tensors

    mode = MODES["full" if args.full else "quick"]
    data_dir, clock = work / "data", work / "clock.json"
    datasets = {
        "digits": ["data=digits", f"paths.data_dir={data_dir}"],
        "synthetic": synthetic_overrides(args.rows, 64, data_dir),
    }
    todo = cases(args.batch_sizes)
    configs = [case_configs(c, mode, datasets[c["dataset"]], clock) for c in todo]
    print(f"preparing {args.rows:,} x 64 synthetic rows (child process, for its peak RSS) ...")
    prepared = _prepare(args.rows, data_dir, work)
    print("warm-up: one train() and one raw loop on digits (not measured) ...", flush=True)
    measure_train(configs[0]["off"], args.threads, work)  # also prepares digits
    tensors = {name: load_tensors(compose_config(o)) for name, o in datasets.items()}
    measure_raw(configs[0]["off"], tensors["digits"], args.threads)

    runs: list[dict[str, list[dict[str, Any]]]] = [
        {"on": [], "off": [], "stacked": [], "raw": []} for _ in todo
    ]
    total, n = mode["repeats"] * len(todo) * 4, 0
    started = time.perf_counter()
    for repeat in range(mode["repeats"]):
        for i, case in enumerate(todo):
            sides = ["raw", "off", "on", "stacked"]
            sides = sides if (repeat + i) % 2 == 0 else sides[::-1]  # neither always goes first
            for side in sides:
                n += 1
                if side == "raw":
                    # The thread count train() ran with (a config may set its own).
                    done = runs[i]["off"] or runs[i]["on"]
                    threads = done[-1]["threads"] if done else args.threads
                    result = measure_raw(configs[i]["off"], tensors[case["dataset"]], threads)
                elif side == "stacked":
                    result = measure_stacked(configs[i][side], args.threads, work)
                else:
                    result = measure_train(configs[i][side], args.threads, work)
                runs[i][side].append(result)
                label = {"raw": "raw loop", "stacked": "stacked loop"}.get(
                    side, f"train(), diagnostics {side}"
                )
                print(
                    f"[{n}/{total} {time.perf_counter() - started:4.0f} s] repeat "
                    f"{repeat + 1}/{mode['repeats']}: {case['dataset']}, batch "
                    f"{case['batch_size']}, {case['model']}, {label}: train phase "
                    f"{result['train_rate']:,.0f}/s, full epoch {result['full_rate']:,.0f}/s",
                    flush=True,
                )
    threads = sorted({r["threads"] for case in runs for s in DIAGNOSTICS for r in case[s]})
    return {
        "machine": {
            "cpu": _cpu(),
            "device": "cpu",
            "torch": torch.__version__,
            "threads": threads,
            "deterministic": bool(configs[0]["off"].trainer.deterministic),
        },
        "settings": {
            "mode": "full" if args.full else "quick",
            **mode,
            "synthetic_rows": args.rows,
            "batch_sizes": args.batch_sizes,
        },
        "prepare": prepared,
        "cases": [row for c, r in zip(todo, runs, strict=True) for row in summarise(c, r)],
        "seconds": time.perf_counter() - started,
    }


def _prepare(rows: int, data_dir: Path, work: Path) -> dict[str, Any]:
    out, log = work / "prepare.json", work / "prepare.log"
    cmd = [sys.executable, "-m", "benchmarks.prepare_memory", "--rows", str(rows)]
    cmd += ["--features", "64", "--data-dir", str(data_dir), "--out", str(out)]
    with log.open("w") as f:
        done = subprocess.run(cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        sys.exit(f"benchmarks.prepare_memory failed (exit {done.returncode}); see {log}")
    return {"rows": rows, "features": 64, **json.loads(out.read_text())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="more epochs, batches and repeats")
    parser.add_argument("--rows", type=int, default=1_000_000, help="synthetic rows")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 512])
    # One thread: on a shared 2-core machine, each parallel op of a two-thread process waits for
    # a busy core, and runs of one config varied 20x in samples/s.
    parser.add_argument("--threads", type=int, default=1, help="torch threads, both sides")
    parser.add_argument("--work-dir", help="where data and runs go (default: a temporary dir)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mlplab-bench-", dir=args.work_dir))
    wall = time.perf_counter()
    try:
        results = run(args, work)
    except BaseException:
        print(f"benchmark stopped; its logs are in {work}", file=sys.stderr)
        raise
    shutil.rmtree(work, ignore_errors=True)

    from mlplab.atomic import write_json, write_text

    old = REPORT.read_text() if REPORT.is_file() else ""
    text = render(results, kept_sections(old))
    write_json(RESULTS, results)
    write_text(REPORT, text)
    print(text.split("\n" + KEPT_SECTIONS[0], 1)[0])
    seconds = time.perf_counter() - wall
    print(f"wrote {REPORT.relative_to(REPO)} and {RESULTS.relative_to(REPO)} in {seconds:.0f} s")


if __name__ == "__main__":
    main()

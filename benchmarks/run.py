"""Run the benchmarks and write reports/benchmarks.md: `make bench` (1 M rows) or
`python benchmarks/run.py --rows 10000000`.

Each measurement runs in its own process on one prepared synthetic dataset: (a) the prepare
itself, for its peak RSS against the arrays' size on disk; (b) one training epoch of the
hand-written loop and of `train()`, for samples/s and their ratio. A run replaces the table
rows of its own size and keeps the others (reports/benchmarks.json holds the numbers).
(c) The diagnostics callback's overhead on digits (benchmarks/diagnostics_overhead.py), its
section replaced whole; `--diagnostics-only` runs just that one, `--no-diagnostics` skips it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REPORT, RESULTS = REPO / "reports" / "benchmarks.md", REPO / "reports" / "benchmarks.json"
OVERHEAD = "## Diagnostics overhead"  # benchmarks/diagnostics_overhead.py's section heading


def _child(module: str, args: list[str], out: Path, log: Path) -> dict:
    """Run `python -m benchmarks.<module>` from the repository root; its output goes to `log`."""
    cmd = [sys.executable, "-m", f"benchmarks.{module}", *args, "--out", str(out)]
    with log.open("w") as f:
        done = subprocess.run(cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        sys.exit(f"benchmarks.{module} failed (exit {done.returncode}); see {log}")
    return json.loads(out.read_text())


def _cpu() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores"
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"


def measure(rows: int, features: int, batch: int, repeats: int, work: Path) -> dict:
    data = ["--rows", str(rows), "--features", str(features), "--batch-size", str(batch)]
    data += ["--data-dir", str(work / "data")]
    print(f"preparing {rows:,} x {features} ...", flush=True)
    prepared = _child("prepare_memory", data, work / "prepare.json", work / "prepare.log")
    loop, framework = [], []
    for i in range(repeats):  # alternate, so drift in machine load hits both alike
        print(f"epoch {i + 1}/{repeats}: hand-written loop, then train() ...", flush=True)
        loop.append(_child("raw_loop", data, work / "loop.json", work / "loop.log"))
        run = ["--run-dir", str(work / f"run{i}")]
        framework.append(_child("train_epoch", data + run, work / "train.json", work / "train.log"))
    best_loop = max(loop, key=lambda r: r["samples"] / r["seconds"])
    best_train = max(framework, key=lambda r: r["samples"] / r["seconds"])
    return {
        "rows": rows,
        "features": features,
        "batch_size": batch,
        "repeats": repeats,
        "machine": _cpu(),
        "prepare": prepared,
        "loop": best_loop,
        "train": best_train,
    }


def _mb(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def render(results: list[dict]) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (1 M rows) and `python benchmarks/run.py --rows N`; a run",
        "replaces the rows of its own size. Numbers, not tests: nothing asserts them. The",
        "machine may be shared: other processes' load (and torch threads oversubscribing the",
        "cores) slows single runs, which is why each side is the best of alternating repeats.",
        "",
        "Data: `data=synthetic_classification`, N rows x 64 float32 features, 4 classes, split",
        "0.8/0.1/0.1. Everything else is the default config: `model=mlp` (256-128, BatchNorm,",
        "ReLU, dropout 0.1), AdamW, gradient clipping 1.0, deterministic, CPU.",
        "",
        "## Prepare: peak memory of the chunked write",
        "",
        "The prepare runs alone in a child process; peak RSS is its VmHWM (interpreter and",
        "libraries included), RSS before is after its imports. Target: peak / on disk < 1.5.",
        "",
        "| rows x features | on disk | peak RSS | RSS before prepare | peak / on disk | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        p = r["prepare"]
        lines.append(
            f"| {r['rows']:,} x {r['features']} | {_mb(p['disk_bytes'])} "
            f"| {_mb(p['peak_rss_bytes'])} | {_mb(p['baseline_rss_bytes'])} "
            f"| {p['peak_rss_bytes'] / p['disk_bytes']:.2f} | {p['seconds']:.1f} |"
        )
    lines += [
        "",
        "## One training epoch from memory-mapped arrays: `train()` vs a hand-written loop",
        "",
        "Samples/s over the training batches of epoch 1 (train split, batches gathered from the",
        "memory-mapped X.npy). `train()` is the real recipe: DataModule batches, Trainer, default",
        "callbacks (rich progress bar, checkpoints, early stopping) and logging (TensorBoard +",
        "CSV), metrics on; the loop (benchmarks/raw_loop.py) does the same gather, scaling,",
        "forward, backward, clipping and AdamW step with nothing else. Best of `repeats`",
        "alternating runs each; wall is the whole `train()` call (start-up, 1 epoch, validation,",
        "test). Target (ROADMAP 3): ratio >= 0.9.",
        "",
        "| rows (train rows) | batch | loop samples/s | `train()` samples/s | ratio "
        "| `train()` wall s | repeats | machine |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        loop = r["loop"]["samples"] / r["loop"]["seconds"]
        ours = r["train"]["samples"] / r["train"]["seconds"]
        lines.append(
            f"| {r['rows']:,} ({r['train']['samples']:,}) | {r['batch_size']} | {loop:,.0f} "
            f"| {ours:,.0f} | {ours / loop:.2f} | {r['train']['wall_seconds']:.1f} "
            f"| {r['repeats']} | {r['machine']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="synthetic rows")
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=2, help="alternating epochs per side")
    parser.add_argument("--work-dir", help="where the data goes (default: a temporary dir)")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--diagnostics-only", action="store_true", help="only the overhead (c)")
    only.add_argument("--no-diagnostics", action="store_true", help="skip the overhead (c)")
    parser.add_argument("--diagnostics-batch-sizes", type=int, nargs="+", default=[64, 512])
    parser.add_argument("--diagnostics-epochs", type=int, default=20)
    parser.add_argument("--diagnostics-repeats", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mlplab-bench-", dir=args.work_dir))
    result, overhead = None, None
    try:
        if not args.diagnostics_only:
            result = measure(args.rows, args.features, args.batch_size, args.repeats, work)
        if not args.no_diagnostics:
            sizes = [str(b) for b in args.diagnostics_batch_sizes]
            print(f"diagnostics overhead on digits, batch sizes {', '.join(sizes)} ...", flush=True)
            run = ["all", "--batch-sizes", *sizes, "--epochs", str(args.diagnostics_epochs)]
            run += ["--repeats", str(args.diagnostics_repeats), "--machine", _cpu()]
            run += ["--work-dir", str(work)]
            overhead = _child(
                "diagnostics_overhead", run, work / "overhead.json", work / "overhead.log"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    from mlplab.atomic import write_json, write_text

    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else []
    if result is not None:
        key = ("rows", "features", "batch_size")
        results = [r for r in results if any(r[k] != result[k] for k in key)] + [result]
        results.sort(key=lambda r: [r[k] for k in key])
        write_json(RESULTS, results)
    # The overhead section lives in the report alone: kept as it is unless measured again.
    old = REPORT.read_text() if REPORT.is_file() else ""
    section = OVERHEAD + old.split(OVERHEAD, 1)[1] if OVERHEAD in old else ""
    if overhead is not None:
        section = overhead["section"]
        for r in overhead["results"]:
            print(
                f"batch {r['batch_size']}: diagnostics off {r['off']:,.0f} samples/s, "
                f"on {r['on']:,.0f} samples/s, overhead {r['off'] / r['on'] - 1:.1%}, "
                f"hooks {r['hook_share']:.1%} of training time"
            )
    write_text(REPORT, render(results) + ("\n" + section if section else ""))
    if result is not None:
        print(render([result]))


if __name__ == "__main__":
    main()

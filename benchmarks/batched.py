"""`make bench-batched`: many runs in one batched process against the same runs one by one,
as a user types them; writes the "Batched models" section of reports/benchmarks.md.

1. Seeds: `python src/train.py -m seed=range(16)` (the batched launcher: one process, one
   stacked network) against 16 `python src/train.py seed=<i>` commands one after another,
   start-up included, default digits config (40 epochs). Each pair's test metrics are compared.
2. The initialisation study's shape (circles, 300 training rows, 2-10-5-1 ReLU net, full-batch
   gradient descent, 15,000 steps): a hand-written loop, one `train.py` run, and the 3 inits x
   3 seeds table as one `-m` sweep.

Wall times of whole commands: what a user waits for. Takes about 6 minutes on 2 cores.
`--accelerator gpu --seeds 64 --alone 4` measures the same on a GPU (its own section, "Batched
models on a GPU"), timing 4 of the 64 runs alone and scaling that to 64.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # `python benchmarks/batched.py`: import benchmarks.* from the root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
import torch.nn.functional as F

from benchmarks.common import REPO, compose_config
from mlplab.config.rules import plain
from mlplab.data.scaling import fit_scaling
from mlplab.data.split import split_rows
from mlplab.data.store import prepare, prepared_dir, read_prepared
from mlplab.models.mlp import build_mlp, spec_from_config

REPORT = REPO / "reports" / "benchmarks.md"
HEADINGS = {"cpu": "## Batched models", "gpu": "## Batched models on a GPU"}
QUIET = ["trainer.accelerator=cpu", "callbacks.progress_bar=null"]  # main() sets the accelerator
# The initialisation study (Katanforoosh & Kunin's "Initializing neural networks"): circles,
# 300 training rows, a 2-10-5-1 ReLU net, full-batch gradient descent at lr 0.01.
INIT_STUDY = [
    "data=circles",
    "data.source.n_samples=400",
    "data.source.factor=0.8",
    "data.split.train=0.75",
    "data.split.val=0.125",
    "data.split.test=0.125",
    "data.batch_size=300",
    "model.hidden_sizes=[10,5]",
    "model.norm=none",
    "model.dropout=0",
    "optimizer=sgd",
    "optimizer.lr=0.01",
    "optimizer.momentum=0",
    "optimizer.nesterov=false",
    "optimizer.weight_decay=0",
    "scheduler=none",
    "trainer.gradient_clip_val=0",
    "callbacks.early_stopping=null",
    "trainer.check_val_every_n_epoch=100",
]


def timed(cmd: list[str], log: Path) -> float:
    """Wall seconds of one command run from the repository root (its output to `log`)."""
    start = time.perf_counter()
    with log.open("a") as f:
        done = subprocess.run(cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed (exit {done.returncode}); see {log}")
    return time.perf_counter() - start


def train_cmd(*overrides: str, sweep: bool = False) -> list[str]:
    return [sys.executable, "src/train.py", *(["-m"] if sweep else []), *QUIET, *overrides]


def max_difference(a: Path, b: Path) -> float:
    """The largest difference between two runs' test metrics."""
    ta = json.loads((a / "metrics" / "test.json").read_text())
    tb = json.loads((b / "metrics" / "test.json").read_text())
    return max(abs(ta[k] - tb[k]) for k, v in ta.items() if isinstance(v, float))


def seeds(n: int, epochs: int, work: Path, alone_runs: int) -> dict[str, float]:
    """`alone_runs` of the n runs one by one (their time scaled to n), then all n as one sweep
    (so both find warm file caches)."""
    log = work / "seeds.log"
    common = [f"trainer.max_epochs={epochs}"]
    alone = 0.0
    for seed in range(alone_runs):
        print(f"seed {seed}: train.py alone ...", flush=True)
        alone += timed(
            train_cmd(*common, f"seed={seed}", f"hydra.run.dir={work / f'alone{seed}'}"), log
        )
    print(f"{n} seeds, one batched process ...", flush=True)
    sweep = work / "batched"
    batched = timed(
        train_cmd(*common, f"seed=range({n})", f"hydra.sweep.dir={sweep}", sweep=True), log
    )
    jobs = sorted(
        (p for p in sweep.iterdir() if p.is_dir()), key=lambda p: int(p.name.split("_")[0])
    )
    pairs = list(enumerate(jobs))[:alone_runs]
    differences = [max_difference(job, work / f"alone{seed}") for seed, job in pairs]
    return {
        "runs": n,
        "alone_runs": alone_runs,
        "epochs": epochs,
        "batched_s": batched,
        "alone_s": alone * n / alone_runs,
        "max_test_difference": max(differences),
    }


def raw_init_loop(steps: int, device: torch.device) -> float:
    """The study's training as a hand-written loop on in-memory tensors: seconds for `steps`."""
    cfg = compose_config(INIT_STUDY)
    data = cfg.data
    source, split = plain(data.source), plain(data.split)
    prepare(cfg.paths.data_dir, data.name, source, split, force=False)
    prepared = read_prepared(prepared_dir(cfg.paths.data_dir, data.name, source, split))
    rows = split_rows(prepared.y, prepared.meta["task"], split)
    shift, scale = fit_scaling(data.scaling, prepared.X, rows.train)
    x = torch.from_numpy((prepared.X[rows.train] - shift) / scale).float().to(device)
    y = torch.from_numpy(prepared.y[rows.train]).float().to(device)
    torch.manual_seed(0)
    net = build_mlp(spec_from_config(plain(cfg.model), x.shape[1], 1)).to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01)
    start = time.perf_counter()
    for _ in range(steps):
        loss = F.binary_cross_entropy_with_logits(net(x).squeeze(1), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def init_study(steps: int, work: Path, device: torch.device) -> dict[str, float]:
    log = work / "init.log"
    epochs = f"trainer.max_epochs={steps}"
    print(f"initialisation study: hand-written loop, {steps} steps ...", flush=True)
    raw = raw_init_loop(steps, device)
    print("initialisation study: one train.py run ...", flush=True)
    one = timed(
        train_cmd(*INIT_STUDY, epochs, "model.init.scheme=he", f"hydra.run.dir={work / 'one'}"), log
    )
    print("initialisation study: one train.py run, runtime.engine=stacked ...", flush=True)
    stacked = [*INIT_STUDY, epochs, "model.init.scheme=he", "runtime.engine=stacked"]
    one_stacked = timed(train_cmd(*stacked, f"hydra.run.dir={work / 'one_stacked'}"), log)
    print("initialisation study: 3 inits x 3 seeds, one batched process ...", flush=True)
    grid = ["model.init.scheme=zeros,normal,he", "seed=0,1,2", f"hydra.sweep.dir={work / 'table'}"]
    table = timed(train_cmd(*INIT_STUDY, epochs, *grid, sweep=True), log)
    return {
        "steps": steps,
        "raw_s": raw,
        "one_run_s": one,
        "one_stacked_s": one_stacked,
        "table_s": table,
    }


def section(s: dict[str, float], i: dict[str, float], accelerator: str, command: str) -> str:
    speedup = s["alone_s"] / s["batched_s"]
    cpu = platform.processor() or platform.machine()
    where = f"{os.cpu_count()} CPU cores ({cpu})"
    if accelerator == "gpu":
        where = f"one {torch.cuda.get_device_name()} ({where})"
    alone = f"{s['alone_s']:.1f} s ({s['runs']} `train.py` runs)"
    if s["alone_runs"] < s["runs"]:
        timed_runs = f"{s['alone_runs']} `train.py` runs timed, x {s['runs']}/{s['alone_runs']}"
        alone = f"{s['alone_s']:.1f} s ({timed_runs})"
    return "\n".join(
        [
            HEADINGS[accelerator],
            "",
            f"`{command}` on {where}, torch {torch.__version__}, torch's default threads; wall "
            "time of whole commands, start-up included.",
            "",
            "| what | batched (one `-m` process) | one by one | speed-up |",
            "| --- | --- | --- | --- |",
            f"| {s['runs']} seeds, default digits config, {s['epochs']} epochs | "
            f"{s['batched_s']:.1f} s | {alone} | **{speedup:.1f}x** |",
            "",
            f"Largest difference between a batched run's test metrics and the same run trained "
            f"alone: {s['max_test_difference']:.1g}.",
            "",
            f"Initialisation study shape (circles, 300 rows, 2-10-5-1, full batch, "
            f"{i['steps']:,} steps):",
            "",
            "| what | wall time | against the hand-written loop |",
            "| --- | --- | --- |",
            f"| hand-written loop, {i['steps']:,} steps (training only) | {i['raw_s']:.1f} s "
            "| 1x |",
            f"| one `train.py` run, {i['steps']:,} epochs (Lightning) | {i['one_run_s']:.1f} s | "
            f"{i['one_run_s'] / i['raw_s']:.1f}x |",
            f"| one `train.py` run, {i['steps']:,} epochs, `runtime.engine=stacked` | "
            f"{i['one_stacked_s']:.1f} s | {i['one_stacked_s'] / i['raw_s']:.1f}x |",
            f"| 3 inits x 3 seeds, one `-m` process | {i['table_s']:.1f} s | "
            f"{i['table_s'] / i['raw_s']:.1f}x (9 runs) |",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--steps", type=int, default=15000)
    parser.add_argument("--accelerator", choices=sorted(HEADINGS), default="cpu")
    parser.add_argument("--alone", type=int, help="runs timed one by one (default: all seeds)")
    args = parser.parse_args()
    QUIET[0] = f"trainer.accelerator={args.accelerator}"
    device = torch.device("cuda" if args.accelerator == "gpu" else "cpu")
    alone = min(args.alone or args.seeds, args.seeds)
    with tempfile.TemporaryDirectory(prefix="mlplab-bench-") as tmp:
        work = Path(tmp)
        s = seeds(args.seeds, args.epochs, work, alone)
        i = init_study(args.steps, work, device)
    command = "python " + " ".join(["benchmarks/batched.py", *sys.argv[1:]])
    text = section(s, i, args.accelerator, command.strip())
    heading = HEADINGS[args.accelerator]
    old = REPORT.read_text()
    if heading not in old:  # a new section: at the end
        old = old.rstrip("\n") + "\n\n" + heading + "\n"
    before, _, after = old.partition(heading)
    rest = after.split("\n## ", 1)
    tail = "\n## " + rest[1] if len(rest) > 1 else ""
    REPORT.write_text(before + text + tail)
    print(text)


if __name__ == "__main__":
    main()

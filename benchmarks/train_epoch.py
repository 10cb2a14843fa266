"""Child: one epoch through `train()` (DataModule batches, Trainer, default callbacks and
logging) on the prepared arrays; EpochTimer times the training batches."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks.common import bench_config


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--rows", "--features", "--batch-size"):
        parser.add_argument(name, type=int, required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--run-dir", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    timer_file = Path(args.run_dir) / "epoch_timer.json"
    cfg = bench_config(
        args.rows,
        args.features,
        args.batch_size,
        args.data_dir,
        "+callbacks.epoch_timer._target_=benchmarks.timing.EpochTimer",
        f"+callbacks.epoch_timer.path={timer_file}",
    )
    from mlplab.training.run import train

    start = time.perf_counter()
    train(cfg, Path(args.run_dir))
    wall = time.perf_counter() - start
    epoch = json.loads(timer_file.read_text())
    with open(args.out, "w") as f:
        json.dump({**epoch, "wall_seconds": wall}, f)


if __name__ == "__main__":
    main()

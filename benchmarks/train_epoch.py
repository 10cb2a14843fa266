"""Child: one epoch through `train()` (DataModule batches, Trainer, default callbacks and
logging) on the prepared arrays; EpochTimer times the training batches."""

from __future__ import annotations

import json
import time
from pathlib import Path

from benchmarks.common import bench_config, child_args


def main() -> None:
    args = child_args("--run-dir")
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

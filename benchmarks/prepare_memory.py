"""Child: prepare the synthetic dataset once and report peak RSS against its size on disk."""

from __future__ import annotations

import json
import time

from benchmarks.common import bench_config, child_args, peak_rss_bytes, rss_bytes
from mlplab.config.rules import plain


def main() -> None:
    args = child_args()
    cfg = bench_config(args.rows, args.features, args.batch_size, args.data_dir)

    import sklearn.model_selection  # noqa: F401  (the split's import, before the baseline)

    from mlplab.data.store import prepare

    baseline = rss_bytes()
    start = time.perf_counter()
    directory = prepare(
        cfg.paths.data_dir, cfg.data.name, plain(cfg.data.source), plain(cfg.data.split)
    )
    seconds = time.perf_counter() - start
    disk = sum((directory / name).stat().st_size for name in ("X.npy", "y.npy"))
    result = {
        "disk_bytes": disk,
        "peak_rss_bytes": peak_rss_bytes(),
        "baseline_rss_bytes": baseline,
    }
    with open(args.out, "w") as f:
        json.dump({**result, "seconds": seconds}, f)


if __name__ == "__main__":
    main()

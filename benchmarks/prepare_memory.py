"""Child of benchmarks/run.py: prepare the synthetic dataset in a fresh process, so its peak
RSS is the prepare's own, and write that against the arrays' size on disk to --out."""

from __future__ import annotations

import argparse
import json
import time

from benchmarks.common import compose_config, peak_rss_bytes, rss_bytes, synthetic_overrides
from mlplab.config.rules import plain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("--rows", "--features"):
        parser.add_argument(name, type=int, required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    cfg = compose_config(synthetic_overrides(args.rows, args.features, args.data_dir))

    import sklearn.model_selection  # noqa: F401  (the split's import, before the baseline)

    from mlplab.data.store import prepare

    baseline = rss_bytes()
    start = time.perf_counter()
    directory = prepare(
        cfg.paths.data_dir, cfg.data.name, plain(cfg.data.source), plain(cfg.data.split)
    )
    seconds = time.perf_counter() - start
    result = {
        "disk_bytes": sum((directory / name).stat().st_size for name in ("X.npy", "y.npy")),
        "peak_rss_bytes": peak_rss_bytes(),
        "baseline_rss_bytes": baseline,
        "seconds": seconds,
    }
    with open(args.out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()

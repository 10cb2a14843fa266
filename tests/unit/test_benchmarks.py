"""The benchmark harness's parts that run in seconds: the raw loop on a few digits batches and
the report renderer on a small results dict (no timings asserted)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.common import compose_config
from benchmarks.raw_loop import load_tensors, raw_epochs
from benchmarks.report import KEPT_SECTIONS, PLACEHOLDER, kept_sections, render


def test_raw_loop_trains_the_capped_batches_on_the_scaled_train_split(digits_dir: Path) -> None:
    cfg = compose_config(
        [
            f"paths.data_dir={digits_dir}",
            "data.batch_size=64",
            "trainer.max_epochs=2",
            "trainer.limit_train_batches=2",
            "trainer.limit_val_batches=1",
        ]
    )
    data = load_tensors(cfg)
    out = raw_epochs(cfg, data, threads=1)

    assert (tuple(data.x_train.shape), tuple(data.x_val.shape)) == ((1437, 64), (180, 64))
    assert float(data.x_train.mean(0).abs().max()) < 1e-4  # standardised on the train split
    assert out["samples"] == [128, 128]  # 2 batches of 64 per epoch, as limit_train_batches
    assert all(0 <= a <= 1 for a in out["val_acc"])
    assert len(out["full_seconds"]) == 2


def _case(batch: int, rates: tuple[float, float, float, float], diagnostics: str) -> dict:
    train, raw_train, full, raw_full = rates
    return {
        "dataset": "digits",
        "batch_size": batch,
        "model": "mlp",
        "diagnostics": diagnostics,
        "train_rate": train,
        "raw_train_rate": raw_train,
        "full_rate": full,
        "raw_full_rate": raw_full,
        "hooks_share": 0.025 if diagnostics == "on" else None,
        "startup_seconds": 0.1,
        "first_epoch_seconds": 0.2,
        "steady_epoch_seconds": 0.1,
        "after_fit_seconds": 0.05,
        "samples_per_epoch": 1437,
        "raw_samples_per_epoch": 1437,
    }


RESULTS = {
    "machine": {
        "cpu": "Test CPU, 2 cores",
        "device": "cpu",
        "torch": "2.x",
        "threads": [1],
        "deterministic": True,
    },
    "settings": {
        "mode": "quick",
        "epochs": 4,
        "repeats": 4,
        "train_batches": 40,
        "val_batches": 4,
        "synthetic_rows": 1000,
    },
    "prepare": {
        "rows": 1000,
        "features": 64,
        "disk_bytes": 2**20,
        "peak_rss_bytes": 2**21,
        "baseline_rss_bytes": 2**20,
        "seconds": 0.5,
    },
    "cases": [
        _case(512, (9000, 10000, 8000, 10000), "on"),  # exactly on both 512 targets
        _case(64, (7000, 10000, 5900, 10000), "off"),  # full epoch 0.59 < 0.6
    ],
}


def test_report_marks_each_ratio_against_its_batch_sizes_target() -> None:
    text = render(RESULTS, {})

    assert (
        "| digits | 512 | mlp | lightning | on | 9,000 | 10,000 | 0.90 ✓ "
        "| 8,000 | 10,000 | 0.80 ✓ | 2.5% |" in text
    )
    assert (
        "| digits | 64 | mlp | lightning | off | 7,000 | 10,000 | 0.70 ✓ "
        "| 5,900 | 10,000 | 0.59 ✗ |  |" in text
    )
    assert "**1 of 2 cases meet both targets** (train phase: 2, full epoch: 1)" in text
    assert "| 1,000 x 64 | 1 MiB | 2 MiB | 1 MiB | 2.00 | 0.5 |" in text


def test_report_keeps_the_hand_written_sections_and_adds_placeholders_for_missing_ones() -> None:
    fresh = render(RESULTS, {})
    assert all(f"{h}\n\n{PLACEHOLDER}" in fresh for h in KEPT_SECTIONS)

    profile = f"{KEPT_SECTIONS[0]}\n\nA per-step table.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    old = fresh.replace(f"{KEPT_SECTIONS[0]}\n\n{PLACEHOLDER}", profile)
    rewritten = render(RESULTS, kept_sections(old))

    assert rewritten == old  # the same numbers: the same file, the hand-written text kept
    assert kept_sections(rewritten)[KEPT_SECTIONS[0]] == profile

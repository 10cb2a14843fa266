"""reports/benchmarks.md from benchmarks/run.py's results: plain text in, text out."""

from __future__ import annotations

from typing import Any

# Sections written by hand: run.py copies them from the old report unchanged.
KEPT_SECTIONS = ("## Per-step profile", "## Batched models", "## Batched models on a GPU")
PLACEHOLDER = "_To be written: benchmarks/run.py keeps this section as it is._\n"

# The targets, ratio of `train()` to the raw loop by batch size: (train phase, full epoch).
TARGETS = {512: (0.9, 0.8), 64: (0.7, 0.6)}


def kept_sections(old: str) -> dict[str, str]:
    """The hand-written sections of an old report, each from its heading to the next one."""
    kept = {}
    for heading in KEPT_SECTIONS:
        if heading in old:
            body = old.split(heading, 1)[1].split("\n## ", 1)[0]
            kept[heading] = heading + body.rstrip("\n") + "\n"
    return kept


def meets(case: dict[str, Any]) -> tuple[bool, bool] | None:
    """Whether a case meets its batch size's (train phase, full epoch) targets; None: no target."""
    target = TARGETS.get(case["batch_size"])
    if target is None:
        return None
    train = case["train_rate"] / case["raw_train_rate"] >= target[0]
    full = case["full_rate"] / case["raw_full_rate"] >= target[1]
    return train, full


def _ratio(ours: float, raw: float, ok: bool | None) -> str:
    mark = "" if ok is None else (" ✓" if ok else " ✗")
    return f"{ours / raw:.2f}{mark}"


def _dataset(case: dict[str, Any], settings: dict[str, Any]) -> str:
    if case["dataset"] == "digits":
        return "digits"
    return f"synthetic {settings['synthetic_rows']:,} x 64"


def _mb(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def _prepare(p: dict[str, Any]) -> list[str]:
    return [
        "## Prepare: peak memory of the chunked write",
        "",
        "The synthetic set is prepared once, in a child process of its own; peak RSS is its",
        "VmHWM (interpreter and libraries included), RSS before is after its imports. Target:",
        "peak / on disk < 1.5.",
        "",
        "| rows x features | on disk | peak RSS | RSS before prepare | peak / on disk | seconds |",
        "|---|---|---|---|---|---|",
        f"| {p['rows']:,} x {p['features']} | {_mb(p['disk_bytes'])} "
        f"| {_mb(p['peak_rss_bytes'])} | {_mb(p['baseline_rss_bytes'])} "
        f"| {p['peak_rss_bytes'] / p['disk_bytes']:.2f} | {p['seconds']:.1f} |",
    ]


def _summary(cases: list[dict[str, Any]]) -> str:
    judged = [m for m in map(meets, cases) if m is not None]
    both = sum(train and full for train, full in judged)
    train, full = (sum(m[i] for m in judged) for i in (0, 1))
    return (
        f"**{both} of {len(judged)} cases meet both targets** (train phase: {train}, "
        f"full epoch: {full})."
    )


def _fixed_costs(cases: list[dict[str, Any]], settings: dict[str, Any]) -> list[str]:
    lines = [
        "## Where a `train()` call's time goes",
        "",
        "Medians, seconds: start-up (config to the first epoch: data, model, Trainer, sanity",
        "validation), the first epoch and a later one (full epochs), and after fit (test on the",
        "tested checkpoint, final writes). The raw loop's later epoch beside it.",
        "",
        "| dataset | batch | model | engine | diagnostics | start-up | first epoch | later epoch "
        "| raw later epoch | after fit |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in cases:
        raw_epoch = c["raw_samples_per_epoch"] / c["raw_full_rate"]
        lines.append(
            f"| {_dataset(c, settings)} | {c['batch_size']} | {c['model']} "
            f"| {c.get('engine', 'lightning')} | {c['diagnostics']} "
            f"| {c['startup_seconds']:.2f} | {c['first_epoch_seconds']:.2f} "
            f"| {c['steady_epoch_seconds']:.3f} | {raw_epoch:.3f} | {c['after_fit_seconds']:.2f} |"
        )
    return lines


def render(results: dict[str, Any], kept: dict[str, str]) -> str:
    """The whole report; `kept` maps a KEPT_SECTIONS heading to its old text (else placeholder)."""
    machine, settings, cases = results["machine"], results["settings"], results["cases"]
    threads = ", ".join(str(t) for t in machine["threads"])
    limits = (
        f"{settings['train_batches']} training and {settings['val_batches']}"
        " validation batches per epoch"
    )
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (quick mode) or `python benchmarks/run.py --full`. Numbers, not",
        "tests: nothing asserts them. The machine may be shared; other processes' load slows",
        "single runs, hence medians of interleaved repeats.",
        "",
        f"Machine: {machine['cpu']}; device {machine['device']}; torch {machine['torch']}; "
        f"torch threads {threads} (both sides); deterministic {machine['deterministic']}.",
        f"{settings['mode'].capitalize()} mode: {settings['epochs']} epochs per `train()` call, "
        f"{settings['repeats']} repeats; the synthetic set runs {limits}.",
        "",
        "## `train()` against a hand-written loop",
        "",
        "`train()` is the real entry path (`mlplab.training.run.train` on the composed config:",
        "DataModule batches, Trainer, default callbacks and loggers, progress bar drawn to a log",
        "file) with `data.batch_size`, the model and `callbacks.diagnostics=null` (diagnostics",
        "off) overridden. The raw loop (benchmarks/raw_loop.py) trains the same network (built by",
        "`build_mlp` from the same spec) with the config's optimizer and clipping, on in-memory",
        "tensors sliced per batch. Train phase: samples/s over the training batches only; full",
        "epoch: samples/s over the epoch's wall time (train, validation, checkpoints, logging;",
        "the raw loop: train and a no-grad validation pass). Both over the epochs after the",
        "first (the last one's full time runs to the end of training, end-of-fit saves",
        "included), in one process; each cell is the median over repeats, ratio = `train()` /",
        "raw.",
        "`hooks`: the diagnostics callback's own hooks as a share of the train phase. Engine",
        "`stacked`: the same run on the stacked loop (`runtime.engine=stacked`, training/group.py;",
        "diagnostics are not recorded there), timed between its validations.",
        "",
        "Targets: train-phase ratio >= 0.9 at batch 512 and >= 0.7 at 64; full-epoch ratio",
        ">= 0.8 at 512 and >= 0.6 at 64 (✓ met, ✗ missed). " + _summary(cases),
        "",
        "| dataset | batch | model | engine | diagnostics | train phase `train()` /s | raw /s "
        "| ratio | full epoch `train()` /s | raw /s | ratio | hooks |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in cases:
        ok = meets(c)
        hooks = "" if c["hooks_share"] is None else f"{c['hooks_share']:.1%}"
        lines.append(
            f"| {_dataset(c, settings)} | {c['batch_size']} | {c['model']} "
            f"| {c.get('engine', 'lightning')} | {c['diagnostics']} "
            f"| {c['train_rate']:,.0f} | {c['raw_train_rate']:,.0f} "
            f"| {_ratio(c['train_rate'], c['raw_train_rate'], ok and ok[0])} "
            f"| {c['full_rate']:,.0f} | {c['raw_full_rate']:,.0f} "
            f"| {_ratio(c['full_rate'], c['raw_full_rate'], ok and ok[1])} | {hooks} |"
        )
    lines += ["", *_fixed_costs(cases, settings), "", *_prepare(results["prepare"]), ""]
    for heading in KEPT_SECTIONS:
        lines.append(kept.get(heading, f"{heading}\n\n{PLACEHOLDER}"))
    return "\n".join(lines)

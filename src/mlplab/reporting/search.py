"""A search's results, read back from its Optuna storage: trials.csv, best.json, report.md and
history.png (the optimisation history) in the search directory, and a table for the terminal.

Every worker of a study rewrites these when it finishes, so the last one to finish leaves the
whole study's table. The storage URL is never written (it may hold a password).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.ticker import MaxNLocator

from mlplab.atomic import finite_or_none, write_json, write_text
from mlplab.cli import shown
from mlplab.reporting.document import Figure, Heading, Paragraph, Table, to_markdown
from mlplab.reporting.figures import plt, save

TRIALS = "trials.csv"
BEST = "best.json"
REPORT = "report.md"
HISTORY = "history.png"


@dataclass(frozen=True)
class Trial:
    number: int
    state: str  # complete | pruned | fail | running | waiting
    value: float | None  # the objective: best epoch of the metric; None unless complete
    epochs: int  # epochs the pruner saw (reported values)
    last: float | None  # the last reported value: where a pruned trial stopped
    params: dict[str, Any]  # as Optuna stores them (a list choice as its text, `[128,64]`)
    overrides: list[str]  # train.py overrides that rebuild the trial's config
    run_dir: str


@dataclass(frozen=True)
class Study:
    name: str
    metric: str
    direction: str  # maximize | minimize
    trials: list[Trial]

    def complete(self) -> list[Trial]:
        return [t for t in self.trials if t.state == "complete" and t.value is not None]

    def best(self) -> Trial | None:
        done = self.complete()
        if not done:
            return None
        pick = max if self.direction == "maximize" else min
        return pick(done, key=lambda t: (t.value, -t.number))


def read_study(storage: str, study_name: str) -> Study:
    """The study as plain rows, in trial-number order."""
    import optuna

    study = optuna.load_study(study_name=study_name, storage=storage)
    direction = (
        "maximize" if study.direction == optuna.study.StudyDirection.MAXIMIZE else "minimize"
    )
    trials = []
    for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
        steps = sorted(t.intermediate_values)
        complete = t.state == optuna.trial.TrialState.COMPLETE
        trials.append(
            Trial(
                number=t.number,
                state=t.state.name.lower(),
                value=_finite(t.value) if complete else None,
                epochs=len(steps),
                last=_finite(t.intermediate_values[steps[-1]]) if steps else None,
                params=dict(t.params),
                overrides=list(t.user_attrs.get("overrides", [])),
                run_dir=str(t.user_attrs.get("run_dir", "")),
            )
        )
    metric = str(study.user_attrs.get("metric", "value"))
    return Study(name=study_name, metric=metric, direction=direction, trials=trials)


def _finite(value: float | None) -> float | None:
    return None if value is None else finite_or_none(float(value))


def write_search_report(study: Study, out: Path) -> str:
    """trials.csv, best.json, history.png and report.md in `out`; return the terminal text."""
    keys = sorted({k for t in study.trials for k in t.params})
    header = ["number", "state", "value", "epochs", "last", *keys, "run_dir"]
    rows = [_row(t, keys) for t in study.trials]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([header, *rows])
    write_text(out / TRIALS, buffer.getvalue())
    best = study.best()
    write_json(out / BEST, _best_record(study, best))
    figure = history_figure(study, out / HISTORY)
    write_text(out / REPORT, to_markdown(_blocks(study, best, header, rows, figure), out))
    return _terminal(study, best, header, rows)


def _row(t: Trial, keys: list[str]) -> list[str]:
    params = [_text(t.params.get(k)) for k in keys]
    return [
        str(t.number),
        t.state,
        _text(t.value),
        str(t.epochs),
        _text(t.last),
        *params,
        t.run_dir,
    ]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _counts(study: Study) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in study.trials:
        counts[t.state] = counts.get(t.state, 0) + 1
    return dict(sorted(counts.items()))


def _best_record(study: Study, best: Trial | None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "study": study.name,
        "metric": study.metric,
        "direction": study.direction,
        "trials": _counts(study),
    }
    if best is not None:
        record |= {
            "number": best.number,
            "value": best.value,
            "params": best.params,
            "overrides": best.overrides,
            "run_dir": best.run_dir,
        }
    return record


def history_figure(study: Study, path: Path) -> Path | None:
    """Each complete trial's value by trial number, the best so far as a step line, and where
    each pruned trial stopped; None before any trial has a value."""
    done = study.complete()
    pruned = [t for t in study.trials if t.state == "pruned" and t.last is not None]
    if not done and not pruned:
        return None
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    if pruned:
        ax.scatter(
            [t.number for t in pruned],
            [float(t.last) for t in pruned if t.last is not None],
            marker="x",
            color="grey",
            label="pruned (last epoch seen)",
        )
    if done:
        x = [t.number for t in done]
        y = [float(t.value) for t in done if t.value is not None]
        pick = max if study.direction == "maximize" else min
        so_far = [pick(y[: i + 1]) for i in range(len(y))]
        ax.scatter(x, y, color="tab:blue", label="complete")
        ax.step(x, so_far, where="post", color="tab:red", label=f"best so far ({study.direction})")
    ax.set(xlabel="trial", ylabel=study.metric, title=f"Optimisation history: {study.name}")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend()
    return save(fig, path)


def _blocks(
    study: Study, best: Trial | None, header: list[str], rows: list[list[str]], fig: Path | None
) -> list[Any]:
    counts = ", ".join(f"{n} {state}" for state, n in _counts(study).items()) or "no trials"
    blocks: list[Any] = [
        Heading(f"Search: {study.name}", 1),
        Paragraph(f"Objective: {study.direction} `{study.metric}` (its best epoch). {counts}."),
    ]
    if best is not None:
        blocks.append(
            Paragraph(
                f"**Best: trial {best.number}**, {study.metric} = {_text(best.value)}, "
                f"`{' '.join(best.overrides)}` (run directory `{best.run_dir}`)."
            )
        )
    if fig is not None:
        blocks.append(Figure(fig, "Optimisation history"))
    numeric = tuple(h in ("number", "value", "epochs", "last") for h in header)
    blocks += [Heading("Trials"), Table(tuple(header), tuple(map(tuple, rows)), numeric)]
    return blocks


def _terminal(study: Study, best: Trial | None, header: list[str], rows: list[list[str]]) -> str:
    shown_header = [h for h in header if h != "run_dir"]
    table = [shown_header, *(r[:-1] for r in rows)]
    widths = [max(len(r[i]) for r in table) for i in range(len(shown_header))]
    lines = [f"study {study.name}: {study.direction} {study.metric}"]
    lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in table]
    if best is None:
        lines.append("no complete trial yet")
    else:
        lines.append(
            f"best: trial {best.number}, {study.metric} = {_text(best.value)}: "
            f"{' '.join(best.overrides)}  ({shown(Path(best.run_dir))})"
        )
    return "\n".join(lines)

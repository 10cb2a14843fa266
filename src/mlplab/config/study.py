"""A study preset (configs/study/<name>.yaml) read and checked: what src/study.py runs and what
its report shows. A preset names an experiment every run shares, the sweeps that vary it, how
many seeds, the budgets, the metric of the table and the figures; see configs/study/init.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from mlplab.errors import ConfigError

FIGURES = ("curves", "versus", "bars", "layers")
REQUIRED = ("title", "question", "experiment", "seeds", "metric", "sweeps", "budgets", "figures")


@dataclass(frozen=True)
class Study:
    name: str
    title: str
    question: str
    experiment: str  # configs/experiment/<experiment>.yaml: what every run shares
    seeds: int
    metric: str  # the table's main column
    columns: tuple[str, ...]  # more metrics, mean ± std
    sweeps: dict[str, list[str]]  # name -> `train.py -m` overrides (a grid within each)
    budgets: dict[str, list[str]]  # name -> overrides; `default` makes the committed report
    budget_sweeps: dict[str, list[str]]  # name -> the sweeps it runs (a budget may run fewer)
    figures: tuple[dict[str, Any], ...]
    labels: dict[str, str]  # a setting's label as shown -> as printed ("normal" -> "N(0, 1) x 10")
    reference: dict[str, Any]  # {title, values: {arm: number}}: the source's numbers
    samples: int  # char-level models: names sampled from each arm's first run


def names(configs: Path) -> list[str]:
    """The presets in <configs>/study/."""
    return sorted(p.stem for p in (configs / "study").glob("*.yaml") if not p.stem.startswith("_"))


def load(configs: Path, name: str) -> Study:
    path = configs / "study" / f"{name}.yaml"
    if not path.is_file():
        options = ", ".join([*names(configs), "all"])
        raise ConfigError(f"study={name!r} is not a study preset; options: {options}")
    tree = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    assert isinstance(tree, dict)
    where = f"configs/study/{name}.yaml"
    missing = [k for k in REQUIRED if k not in tree]
    if missing:
        raise ConfigError(f"{where} lacks {', '.join(missing)}")
    _check_seeds(tree["seeds"], f"'seeds' in {where}")
    if "default" not in tree["budgets"]:
        raise ConfigError(f"{where}: budgets must have a `default` (the committed report's)")
    for figure in tree["figures"]:
        if figure.get("kind") not in FIGURES:
            raise ConfigError(f"{where}: figure kind {figure.get('kind')!r}; one of {FIGURES}")
    return Study(
        name=name,
        title=tree["title"],
        question=tree["question"],
        experiment=tree["experiment"],
        seeds=tree["seeds"],
        metric=tree["metric"],
        columns=tuple(tree.get("columns") or ()),
        sweeps={k: [str(o) for o in v or []] for k, v in tree["sweeps"].items()},
        budgets={k: [str(o) for o in _overrides(v)] for k, v in tree["budgets"].items()},
        budget_sweeps={
            k: _sweeps(v, list(tree["sweeps"]), f"budgets.{k} in {where}")
            for k, v in tree["budgets"].items()
        },
        figures=tuple(tree["figures"]),
        labels={str(k): str(v) for k, v in (tree.get("labels") or {}).items()},
        reference=tree.get("reference") or {},
        samples=int(tree.get("samples") or 0),
    )


def _overrides(budget: Any) -> list[Any]:
    """A budget is a list of overrides, or {overrides: [...], sweeps: [names]}."""
    return (budget.get("overrides") if isinstance(budget, dict) else budget) or []


def _sweeps(budget: Any, every: list[str], where: str) -> list[str]:
    chosen = budget.get("sweeps") if isinstance(budget, dict) else None
    unknown = [s for s in chosen or [] if s not in every]
    if unknown:
        raise ConfigError(f"{where}: no sweep {unknown[0]!r}; sweeps: {', '.join(every)}")
    return list(chosen or every)


def seeds(value: str) -> int:
    """`seeds=N` from the command line."""
    try:
        n = int(value)
    except ValueError:
        n = 0
    _check_seeds(n, "seeds")
    return n


def _check_seeds(n: Any, what: str) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ConfigError(f"{what} is {n!r}; it must be a whole number >= 1")

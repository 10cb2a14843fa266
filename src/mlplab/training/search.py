"""Hyper-parameter search: an Optuna study whose every trial is one ordinary training run.

src/search.py composes configs/search.yaml: train.yaml's config plus a `search` node (the
study's settings and its `space`). `check_search` refuses a bad node or space before anything
is written; `run_study` then asks Optuna's sampler (TPE, Bergstra et al. 2011, or random
search, Bergstra & Bengio 2012) for values, trains each trial with `training.run.train` in
<search dir>/trial_<number>/ and lets Optuna's MedianPruner stop a trial whose validation
metric trails the median of earlier trials at the same epoch (optuna-integration's
PyTorchLightningPruningCallback). The study lives in an RDB storage (SQLite by default), so
any number of processes can run trials of one study at once.
"""

from __future__ import annotations

import copy
import csv
import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, OmegaConf

from mlplab.atomic import write_text
from mlplab.config.rules import is_int, one_of, plain, require
from mlplab.errors import ConfigError

if TYPE_CHECKING:
    import optuna

SPACE_TYPES = ("categorical", "float", "int")
SAMPLERS = ("random", "tpe")
PRUNERS = ("median", "none")
DIRECTIONS = ("maximize", "minimize")
# A SQLite writer waits this long for another process's lock before it fails ("database is
# locked"); concurrent workers hold it for milliseconds per write.
SQLITE_TIMEOUT_S = 60
OPEN_TRIES = 5  # two workers creating one study's tables at once: the loser retries
_NOT_SET = object()


@dataclass(frozen=True)
class Param:
    """One dimension of the space: a train-config key and its distribution."""

    key: str
    spec: dict[str, Any]

    def suggest(self, trial: optuna.Trial) -> Any:
        kind, spec, name = self.spec["type"], self.spec, self.key
        if kind == "categorical":
            # Optuna stores plain values only: a list choice ([128, 64]) as its override text.
            codes = {encode(c): c for c in spec["choices"]}
            return codes[trial.suggest_categorical(name, list(codes))]
        step, log = spec.get("step"), bool(spec.get("log"))
        if kind == "int":
            return trial.suggest_int(name, spec["low"], spec["high"], step=step or 1, log=log)
        return trial.suggest_float(name, spec["low"], spec["high"], step=step, log=log)

    def extremes(self) -> list[Any]:
        """The values check_search tries in the train config: the bounds, every choice."""
        if self.spec["type"] == "categorical":
            return list(self.spec["choices"])
        return [self.spec["low"], self.spec["high"]]


def encode(value: Any) -> Any:
    """A categorical choice as Optuna stores it: scalars as they are, lists as `[128,64]`."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, separators=(",", ":"))


def override(key: str, value: Any) -> str:
    """`key=value` as a train.py command-line override."""
    return f"{key}={encode(value) if not isinstance(value, bool) else str(value).lower()}"


def parse_space(space: Any) -> list[Param]:
    """The `search.space` node as Params; ConfigError naming the key for a bad distribution.
    Keys nest (`optimizer: {lr: {...}}`) or are dotted (`optimizer.lr: {...}`)."""
    if not isinstance(space, dict) or not space:
        raise ConfigError("config key 'search.space' must map train-config keys to distributions")
    return [_param(key, spec) for key, spec in _leaves(space, "")]


def _leaves(node: dict[str, Any], prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, value in node.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict) and "type" not in value and value:
            yield from _leaves(value, f"{key}.")
        elif isinstance(value, dict):
            yield key, value
        else:
            raise ConfigError(
                f"config key 'search.space.{key}' is {value!r}; it must be a distribution, "
                "e.g. {type: float, low: 0.0, high: 0.5}"
            )


def _param(key: str, spec: dict[str, Any]) -> Param:
    where = f"search.space.{key}"
    one_of(f"{where}.type", spec.get("type"), SPACE_TYPES)
    allowed = {"categorical": {"choices"}, "float": {"low", "high", "log", "step"}}
    allowed["int"] = allowed["float"]
    unknown = sorted(set(spec) - allowed[spec["type"]] - {"type"})
    if unknown:
        raise ConfigError(
            f"config key '{where}.{unknown[0]}' is not a {spec['type']} setting; "
            f"settings: type, {', '.join(sorted(allowed[spec['type']]))}"
        )
    if spec["type"] == "categorical":
        choices = spec.get("choices")
        ok = isinstance(choices, list) and len(choices) > 0
        require(ok, f"{where}.choices", choices, "a non-empty list")
        codes = [encode(c) for c in choices or []]
        require(len(set(codes)) == len(codes), f"{where}.choices", choices, "distinct values")
        return Param(key, spec)
    number = is_int if spec["type"] == "int" else _is_number
    for bound in ("low", "high"):
        require(number(spec.get(bound)), f"{where}.{bound}", spec.get(bound), f"a {spec['type']}")
    low, high = spec["low"], spec["high"]
    require(low <= high, f"{where}.low", low, f"<= {where}.high ({high})")
    log, step = spec.get("log", False), spec.get("step")
    require(isinstance(log, bool), f"{where}.log", log, "true or false")
    require(not log or low > 0, f"{where}.low", low, "> 0 on a log scale (log: true)")
    ok = step is None or (number(step) and step > 0 and not log)
    require(ok, f"{where}.step", step, f"null or a {spec['type']} > 0 (not with log: true)")
    if spec["type"] == "float":
        spec = {**spec, "low": float(low), "high": float(high)}
    return Param(key, spec)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_search(cfg: DictConfig) -> DictConfig:
    """The search node's rules, each space key checked against the train config and the train
    config checked (training/checks.py `validate`) at every bound and choice; return the
    validated train config of the defaults."""
    from mlplab.training.checks import metric_names, task_of

    search = cfg.search
    require(is_int(cfg.n_trials) and cfg.n_trials >= 0, "n_trials", cfg.n_trials, "an integer >= 0")
    params = _settings(search)
    train_cfg = train_config(cfg, {})
    require(
        train_cfg.runtime.engine != "stacked",
        "runtime.engine",
        "stacked",
        "auto or lightning: a trial's pruning callback runs in Lightning's loop",
    )
    names = metric_names(task_of(train_cfg))
    if search.metric not in names:
        raise ConfigError(
            f"config key 'search.metric' is {search.metric!r}; metrics of this run: "
            f"{', '.join(n for n in names if n.startswith('val/'))}"
        )
    raw = _raw_train(cfg)
    for param in params:
        found = OmegaConf.select(raw, param.key, default=_NOT_SET, throw_on_missing=False)
        if found is _NOT_SET:
            raise ConfigError(
                f"config key 'search.space.{param.key}': '{param.key}' is not a key of the "
                "train config (python src/train.py --cfg job lists them)"
            )
        if isinstance(found, DictConfig):
            raise ConfigError(
                f"config key 'search.space.{param.key}': '{param.key}' is a config node; "
                "search its values (e.g. optimizer.lr), not the node"
            )
        for value in param.extremes():
            try:
                train_config(cfg, {param.key: value})
            except ConfigError as err:
                where = f"search.space.{param.key}"
                raise ConfigError(f"config key '{where}' allows {value!r}: {err}") from None
    return train_cfg


def _settings(search: DictConfig) -> list[Param]:
    one_of("search.direction", search.direction, DIRECTIONS)
    one_of("search.sampler.name", search.sampler.name, SAMPLERS)
    one_of("search.pruner.name", search.pruner.name, PRUNERS)
    for key in (
        "sampler.seed",
        "sampler.n_startup_trials",
        "pruner.n_startup_trials",
        "pruner.n_warmup_steps",
    ):
        value = OmegaConf.select(search, key)
        require(is_int(value) and value >= 0, f"search.{key}", value, "an integer >= 0")
    beat = search.heartbeat_seconds
    ok = beat is None or (is_int(beat) and beat >= 1)
    require(ok, "search.heartbeat_seconds", beat, "null (no heartbeat) or an integer >= 1")
    name = search.study_name
    ok = isinstance(name, str) and name.strip() != "" and "/" not in name
    require(ok, "search.study_name", name, "a non-empty name without '/'")
    _check_storage(search.storage)
    return parse_space(plain(search)["space"])


def _check_storage(url: Any) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        make_url(url).get_dialect().import_dbapi()
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError, TypeError) as err:
        raise ConfigError(
            f"config key 'search.storage' is {url!r}; it must be a database URL whose driver "
            f"is installed, e.g. sqlite:///logs/search/study.db ({type(err).__name__}: "
            f"{str(err).splitlines()[0]})"
        ) from None


def _raw_train(cfg: DictConfig) -> DictConfig:
    """The train config inside the search config, unresolved: no `search`, `n_trials` or
    `hydra` node."""
    tree = OmegaConf.to_container(cfg, resolve=False)
    assert isinstance(tree, dict)
    for node in ("search", "n_trials", "hydra"):
        tree.pop(node, None)
    return OmegaConf.create(tree)


def train_config(cfg: DictConfig, values: dict[str, Any]) -> DictConfig:
    """The trial's train config: the search config's train part with `values` set, as if
    given on train.py's command line, validated."""
    from mlplab.training.checks import validate

    raw = _raw_train(cfg)
    for key, value in values.items():
        OmegaConf.update(raw, key, copy.deepcopy(value), merge=False)
    return validate(raw)


def open_study(search: DictConfig) -> optuna.Study:
    """The study in its storage, created on first use (load_if_exists: workers share it)."""
    import optuna
    from sqlalchemy.engine import make_url

    url = make_url(search.storage)
    engine: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = {"connect_args": {"timeout": SQLITE_TIMEOUT_S}}
    beat = search.heartbeat_seconds
    sampler_cfg = search.sampler
    if sampler_cfg.name == "tpe":
        n_startup = sampler_cfg.n_startup_trials
        sampler: optuna.samplers.BaseSampler = optuna.samplers.TPESampler(
            seed=sampler_cfg.seed, n_startup_trials=n_startup
        )
    else:
        sampler = optuna.samplers.RandomSampler(seed=sampler_cfg.seed)
    pruner: optuna.pruners.BasePruner = optuna.pruners.NopPruner()
    if search.pruner.name == "median":
        pruner = optuna.pruners.MedianPruner(
            n_startup_trials=search.pruner.n_startup_trials,
            n_warmup_steps=search.pruner.n_warmup_steps,
        )

    def create() -> optuna.Study:
        storage = optuna.storages.RDBStorage(
            search.storage,
            engine_kwargs=engine,
            heartbeat_interval=beat,
            grace_period=None if beat is None else 2 * beat,
        )
        return optuna.create_study(
            storage=storage,
            study_name=search.study_name,
            direction=search.direction,
            sampler=sampler,
            pruner=pruner,
            load_if_exists=True,
        )

    study = _retried(create)
    _check_study(study, search)
    return study


def _retried(make: Callable[[], optuna.Study]) -> optuna.Study:
    from sqlalchemy.exc import IntegrityError, OperationalError

    for attempt in range(OPEN_TRIES):
        try:
            return make()
        except (OperationalError, IntegrityError):
            if attempt == OPEN_TRIES - 1:
                raise
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def _check_study(study: optuna.Study, search: DictConfig) -> None:
    """A study loaded from the storage was made for the same objective."""
    import optuna

    made = study.user_attrs.get("metric")
    if made is None:
        study.set_user_attr("metric", search.metric)
        made = search.metric
    direction = (
        "maximize" if study.direction == optuna.study.StudyDirection.MAXIMIZE else "minimize"
    )
    if made != search.metric or direction != search.direction:
        raise ConfigError(
            f"config key 'search.metric' is {search.metric!r} ({search.direction}), but study "
            f"{search.study_name!r} in {search.storage} optimises {made!r} ({direction}); "
            "choose another search.study_name"
        )


def run_study(
    cfg: DictConfig, out: Path, finish: Callable[[DictConfig, Path, dict[str, float]], None]
) -> optuna.Study:
    """Run `n_trials` trials of the study, each in out/trial_<number>/; `finish` scores
    a completed trial's checkpoint (train.py's test metrics). A diverged trial is FAILED and
    the search goes on."""
    import optuna

    from mlplab.errors import RunDiverged
    from mlplab.training.provenance import provenance
    from mlplab.training.run import train

    search = cfg.search
    params = parse_space(plain(search)["space"])
    study = open_study(search)
    if not study.trials and any(out.glob("trial_*")):
        raise ConfigError(
            f"config key 'search.study_name': {out} holds trials of an earlier study that "
            f"{search.storage} does not know; remove it or choose another study name"
        )

    def objective(trial: optuna.Trial) -> float:
        values = {p.key: p.suggest(trial) for p in params}
        trial.set_user_attr("overrides", [override(k, v) for k, v in values.items()])
        trial_cfg = train_config(cfg, values)
        run_dir = out / f"trial_{trial.number}"
        run_dir.mkdir(parents=True)  # trial numbers are unique in the storage
        trial.set_user_attr("run_dir", str(run_dir))
        record = json.dumps(provenance(trial_cfg, run_dir), indent=2, default=str)
        write_text(run_dir / "run.json", record + "\n")
        pruning = pruning_callback(trial, search.metric)
        metrics = train(trial_cfg, run_dir, extra_callbacks=[pruning])
        finish(trial_cfg, run_dir, metrics)
        if pruning.pruned is not None:
            raise optuna.TrialPruned(pruning.pruned)
        return best_value(run_dir / "plots" / "history.csv", search.metric, search.direction)

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the trials table says it at the end
    study.optimize(objective, n_trials=cfg.n_trials, catch=(RunDiverged,))
    return study


def pruning_callback(trial: optuna.Trial, monitor: str) -> Any:
    """optuna-integration's PyTorchLightningPruningCallback, stopping a pruned trial the way
    early stopping does (`trainer.should_stop`) instead of raising inside the fit, so a pruned
    trial still ends as a whole run (history, last.ckpt, test metrics); `pruned` says why."""
    import optuna
    from lightning.pytorch import LightningModule, Trainer
    from optuna_integration import PyTorchLightningPruningCallback

    class Pruning(PyTorchLightningPruningCallback):
        pruned: str | None = None

        def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
            if self.pruned is not None:
                return
            try:
                super().on_validation_end(trainer, pl_module)
            except optuna.TrialPruned as stop:
                self.pruned = str(stop)
                trainer.should_stop = True

    return Pruning(trial, monitor=monitor)


def best_value(history: Path, metric: str, direction: str) -> float:
    """The run's best epoch by `metric` in its history.csv: max or min by `direction`."""
    with history.open(newline="") as f:
        rows = list(csv.DictReader(f))
    values = [float(r[metric]) for r in rows if r.get(metric) not in (None, "")]
    values = [v for v in values if math.isfinite(v)]
    if not values:
        raise ConfigError(f"config key 'search.metric': {history} has no {metric!r} values")
    return max(values) if direction == "maximize" else min(values)

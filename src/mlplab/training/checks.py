"""Check a whole run config before any work starts, so a typo costs a second, not a run.

`validate` types the config by the schema, then runs each layer's rules: the data node's
(data/checks.py), the model's (models/checks.py) and those of training below (optimizer,
scheduler, callbacks, trainer, LR finder). Nothing here imports torch or Lightning.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from omegaconf import DictConfig, ListConfig

from mlplab.config.rules import (
    check_checkpoint_file,
    check_target,
    entry,
    is_int,
    is_positive,
    is_probability,
    one_of,
    plain,
    require,
    typed,
)
from mlplab.config.schema import Config
from mlplab.data.checks import check_data, check_data_dir
from mlplab.errors import ConfigError
from mlplab.models.checks import TASK_METRICS, check_model, check_objective_node
from mlplab.models.schedules import AUTO, AUTO_KEYS

# The torch.nn.utils.prune functions HiddenLayerPruning takes (training/pruning.py); named here,
# free of Lightning, so a typo is caught before anything heavy is imported.
PRUNING_FNS = ("l1_unstructured", "ln_structured", "random_unstructured", "random_structured")
# How HiddenLayerPruning's rounds raise the pruned fraction (training/pruning.py).
PRUNING_SCHEDULES = ("cubic", "linear")

# lightning.pytorch.Trainer's `precision` values (lightning/fabric/plugins/precision).
PRECISIONS = (
    *("16-true", "16-mixed", "bf16-true", "bf16-mixed", "32-true", "64-true"),
    *("transformer-engine", "transformer-engine-float16", "64", "32", "16", "bf16", 64, 32, 16),
)
GPU_ACCELERATORS = ("gpu", "cuda")
# torch.set_float32_matmul_precision's values.
MATMUL_PRECISIONS = ("highest", "high", "medium")


def validate(cfg: DictConfig) -> DictConfig:
    """Return `cfg` typed by the schema and range-checked; raise ConfigError naming the key."""
    checked = typed(cfg, Config)
    require(checked.seed >= 0, "seed", checked.seed, "an integer >= 0")
    _check_resume(checked.resume)
    check_data(checked.data)
    check_model(checked.model)
    check_objective_node(checked.objective)
    _check_batchnorm_batch(checked)
    _check_optimisation(checked)
    _check_trainer(checked.trainer)
    batch = checked.evaluate.batch_size
    require(batch >= 1, "evaluate.batch_size", batch, "an integer >= 1")
    one_of("evaluate.weights", checked.evaluate.weights, ("best", "last"))
    _check_lr_find(checked.lr_find, checked.trainer)
    _check_callbacks(checked)
    check_monitors(checked)
    check_data_dir(checked.paths.data_dir, checked.data.name)
    _check_runtime(checked.runtime)
    _check_engine(checked)
    return checked


def _check_runtime(runtime: DictConfig) -> None:
    threads = runtime.threads
    ok = threads is None or (is_int(threads) and threads >= 1)
    require(ok, "runtime.threads", threads, "null (torch's default) or an integer >= 1")
    one_of("runtime.matmul_precision", runtime.matmul_precision, MATMUL_PRECISIONS)


def _check_engine(cfg: DictConfig) -> None:
    """`runtime.engine=stacked` asks for the stacked loop: a config it cannot hold is refused."""
    from mlplab.training.batched import ENGINES, why_alone

    engine = cfg.runtime.engine
    one_of("runtime.engine", engine, ENGINES)
    reason = why_alone(cfg) if engine == "stacked" else None
    if reason is not None:
        raise ConfigError(
            f"config key 'runtime.engine' is stacked, but the stacked loop cannot train {reason}; "
            "use runtime.engine=auto (Lightning) for this run"
        )


def validate_evaluate(cfg: DictConfig) -> DictConfig:
    """`validate`, and `evaluate.checkpoint` is a checkpoint file."""
    checked = validate(cfg)
    check_checkpoint_file(checked.evaluate.checkpoint, "evaluate.checkpoint")
    return checked


def world_size(trainer: DictConfig) -> int:
    """Ranks of a run: devices x nodes (a device list or `auto` counts as one here)."""
    devices = entry(trainer, "devices", "trainer")
    return devices * entry(trainer, "num_nodes", "trainer") if is_int(devices) else 1


def _check_resume(resume: object) -> None:
    """false, true, auto, or an existing .ckpt file (training/resume.py resolves it)."""
    ok = resume in (False, True, "auto")
    ok = ok or (isinstance(resume, str) and resume.endswith(".ckpt") and Path(resume).is_file())
    need = "false, true (this run directory's models/last.ckpt), auto, or an existing .ckpt file"
    require(ok, "resume", resume, need)


def _check_batchnorm_batch(cfg: DictConfig) -> None:
    """BatchNorm's training statistics need at least two rows in each rank's batch."""
    if cfg.model.norm != "batchnorm":
        return
    ranks = world_size(cfg.trainer)
    if cfg.data.batch_size // max(ranks, 1) < 2:
        raise ConfigError(
            f"config key 'data.batch_size' is {cfg.data.batch_size}, which gives each of "
            f"{ranks} rank(s) fewer than 2 rows: model.norm=batchnorm needs at least 2 per "
            "rank; raise data.batch_size or use model.norm=layernorm or none"
        )


def _check_optimisation(cfg: DictConfig) -> None:
    """Optimizer, scheduler (only `total_steps` and `max_lr` may be auto), penalties."""
    check_target("optimizer", cfg.optimizer)
    lr = cfg.optimizer.get("lr")
    require(is_positive(lr), "optimizer.lr", lr, "a learning rate > 0")
    if cfg.optimizer.get("nesterov") and not (
        is_positive(cfg.optimizer.get("momentum")) and not cfg.optimizer.get("dampening")
    ):
        raise ConfigError(
            f"config key 'optimizer.momentum' is {cfg.optimizer.get('momentum')!r}, but "
            "optimizer.nesterov is true: Nesterov needs momentum > 0 and dampening 0; set "
            "optimizer.nesterov=false or a momentum > 0"
        )
    one_of("scheduler.interval", cfg.scheduler.interval, ("epoch", "step"))
    if cfg.scheduler.scheduler is not None:
        check_target("scheduler.scheduler", cfg.scheduler.scheduler)
        for key, value in cfg.scheduler.scheduler.items():
            if value == AUTO and key not in AUTO_KEYS:
                raise ConfigError(
                    f"config key 'scheduler.scheduler.{key}' is 'auto'; only "
                    f"{' and '.join(AUTO_KEYS)} may be auto"
                )
    for key in ("foreach", "fused"):
        value = cfg.optimizer.get(key)
        ok = value is None or isinstance(value, bool)
        require(ok, f"optimizer.{key}", value, "true, false or null (torch's choice)")
    precision, clip = str(cfg.trainer.get("precision")), cfg.trainer.get("gradient_clip_val")
    if cfg.optimizer.get("fused") and clip and precision.endswith("mixed"):
        raise ConfigError(
            f"config key 'trainer.precision' is {precision!r}, but optimizer.fused is true and "
            f"trainer.gradient_clip_val is {clip}: Lightning cannot clip a fused optimizer's "
            "gradients under mixed precision; add optimizer.fused=null (or drop clipping)"
        )
    if cfg.optimizer.get("fused") and cfg.optimizer.get("foreach"):
        raise ConfigError(
            "config key 'optimizer.foreach' is true, but optimizer.fused is true: torch runs one "
            "of them; set optimizer.foreach=null or optimizer.fused=null"
        )
    for key in ("l1", "l2"):
        value = cfg.regularization[key]
        require(value >= 0, f"regularization.{key}", value, "a coefficient >= 0 (0 is off)")


def _check_trainer(trainer: DictConfig) -> None:
    check_target("trainer", trainer)
    epochs = entry(trainer, "max_epochs", "trainer")
    require(is_int(epochs) and epochs >= 1, "trainer.max_epochs", epochs, "an integer >= 1")
    clip = entry(trainer, "gradient_clip_val", "trainer")
    ok = clip is None or (is_positive(clip) or clip == 0)
    require(ok, "trainer.gradient_clip_val", clip, "null or a number >= 0")
    algorithm = entry(trainer, "gradient_clip_algorithm", "trainer")
    one_of("trainer.gradient_clip_algorithm", algorithm, ("norm", "value"))
    precision = trainer.get("precision")
    if precision is not None and precision not in PRECISIONS:
        allowed = ", ".join(str(p) for p in PRECISIONS)
        raise ConfigError(
            f"config key 'trainer.precision' is {precision!r}; allowed values: {allowed}"
        )
    devices = trainer.get("devices")
    ok = (
        devices in ("auto", -1)
        or (is_int(devices) and devices >= 1)
        or (isinstance(devices, ListConfig) and len(devices) > 0)
        or (isinstance(devices, str) and re.fullmatch(r"\d+(,\d*)*", devices) is not None)
    )
    need = "an integer >= 1 (devices per node), -1 or 'auto' (all), or a list of device indices"
    require(ok, "trainer.devices", devices, need)
    accelerator = trainer.get("accelerator")
    if accelerator in GPU_ACCELERATORS:
        import torch  # only when a GPU is asked for

        if not torch.cuda.is_available():
            raise ConfigError(
                f"config key 'trainer.accelerator' is {accelerator!r}, but torch sees no CUDA GPU "
                "here; use trainer.accelerator=cpu or auto"
            )


def _check_lr_find(find: DictConfig, trainer: DictConfig) -> None:
    require(find.min_lr > 0, "lr_find.min_lr", find.min_lr, "a learning rate > 0")
    require(find.max_lr > find.min_lr, "lr_find.max_lr", find.max_lr, "> lr_find.min_lr")
    # Lightning's suggestion skips the first 10 and the last point and needs 2 more.
    steps = find.num_training
    require(steps >= 13, "lr_find.num_training", steps, "an integer >= 13")
    one_of("lr_find.mode", find.mode, ("exponential", "linear"))
    threshold = find.early_stop_threshold
    need = "null (never stop) or a loss ratio > 1"
    require(threshold is None or threshold > 1, "lr_find.early_stop_threshold", threshold, need)
    if find.apply:
        devices = entry(trainer, "devices", "trainer")
        need = "1 (and trainer.num_nodes 1) with lr_find.apply: the range test runs on one device"
        require(world_size(trainer) == 1 and devices == 1, "trainer.devices", devices, need)


def _check_callbacks(cfg: DictConfig) -> None:
    """Every entry is instantiable; our weight-shaping callbacks' arguments are in range."""
    for group in ("callbacks", "logger"):
        for name, node in cfg[group].items():
            if node is not None:
                check_target(f"{group}.{name}", node)
    entries = {name: node for name, node in cfg.callbacks.items() if node is not None}
    kinds = {name: node._target_.rsplit(".", 1)[-1] for name, node in entries.items()}
    epochs = cfg.trainer.max_epochs
    for name, node in entries.items():
        key = f"callbacks.{name}"
        if kinds[name] == "MaxNorm":
            bound = entry(node, "max_norm", key)
            require(is_positive(bound), f"{key}.max_norm", bound, "a norm bound > 0 (c = 3-4)")
        elif kinds[name] in ("AveragedWeights", "StochasticWeightAveraging"):
            stoppers = [n for n, kind in kinds.items() if kind == "EarlyStopping"]
            if stoppers:
                raise ConfigError(
                    f"config key '{key}' needs callbacks.{stoppers[0]}=null: SWA "
                    "averages only in runs that reach trainer.max_epochs"
                )
            _check_swa(key, node, epochs)
        elif kinds[name] == "HiddenLayerPruning":
            if not cfg.model.hidden_sizes:
                raise ConfigError(f"config key '{key}' prunes hidden layers; none exist")
            _check_pruning(key, node, epochs)
        elif kinds[name] == "Diagnostics":
            _check_diagnostics(key, node)
        elif kinds[name] == "LastCheckpoint":
            every = entry(node, "every_n_epochs", key)
            ok = is_int(every) and every >= 1
            require(ok, f"{key}.every_n_epochs", every, "an integer >= 1 (1: every epoch)")


def _check_diagnostics(key: str, node: DictConfig) -> None:
    for arg in ("every_n_steps", "histogram_bins", "update_ratio_patience"):
        value = entry(node, arg, key)
        require(is_int(value) and value >= 1, f"{key}.{arg}", value, "an integer >= 1")
    for arg in ("tanh_saturation", "sigmoid_saturation", "max_saturated", "max_dead"):
        value = entry(node, arg, key)
        ok = is_probability(value) and 0 < value < 1
        require(ok, f"{key}.{arg}", value, "a fraction in (0, 1)")
    bounds = entry(node, "update_ratio_range", key)
    ok = (
        isinstance(bounds, ListConfig)
        and len(bounds) == 2
        and all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds)
        and bounds[0] < bounds[1]
    )
    require(ok, f"{key}.update_ratio_range", bounds, "[low, high] with low < high, e.g. [-4, -2]")
    for arg in ("vanishing_factor", "exploding_grad_norm"):
        value = entry(node, arg, key)
        require(is_positive(value), f"{key}.{arg}", value, "> 0")


def _check_swa(key: str, node: DictConfig, epochs: int) -> None:
    lrs = entry(node, "swa_lrs", key)
    require(is_positive(lrs), f"{key}.swa_lrs", lrs, "> 0")
    start = entry(node, "swa_epoch_start", key)
    ok = 0 < start <= 1 if isinstance(start, float) else is_int(start) and 1 <= start <= epochs
    need = f"a fraction in (0, 1] of trainer.max_epochs, or an epoch in 1..{epochs}"
    require(ok, f"{key}.swa_epoch_start", start, need)


def _check_pruning(key: str, node: DictConfig, epochs: int) -> None:
    function = entry(node, "pruning_fn", key)
    one_of(f"{key}.pruning_fn", function, PRUNING_FNS)
    amount, at_epoch = entry(node, "amount", key), entry(node, "at_epoch", key)
    ok = is_probability(amount) and amount > 0
    require(ok, f"{key}.amount", amount, "a fraction in (0, 1) of the hidden weights")
    need = f"an epoch in 0..{epochs - 1} (trainer.max_epochs is {epochs})"
    require(is_int(at_epoch) and 0 <= at_epoch < epochs, f"{key}.at_epoch", at_epoch, need)
    rounds, every = entry(node, "rounds", key), entry(node, "every", key)
    ok = is_int(rounds) and rounds >= 1
    require(ok, f"{key}.rounds", rounds, "an integer >= 1 (1: one-shot)")
    require(is_int(every) and every >= 1, f"{key}.every", every, "an integer >= 1 (epochs)")
    one_of(f"{key}.schedule", entry(node, "schedule", key), PRUNING_SCHEDULES)
    last = at_epoch + (rounds - 1) * every
    if last >= epochs:
        raise ConfigError(
            f"config key '{key}.rounds' is {rounds}; its last round would start epoch {last} "
            f"(at_epoch + (rounds - 1) * every) but epochs run 0..{epochs - 1}: lower rounds, "
            "every or at_epoch, or raise trainer.max_epochs"
        )
    if function.endswith("_structured") and entry(node, "pruning_dim", key) is None:
        raise ConfigError(f"config key '{key}.pruning_dim' is missing; 0 prunes whole hidden units")
    if function == "ln_structured" and entry(node, "pruning_norm", key) is None:
        raise ConfigError(f"config key '{key}.pruning_norm' is missing, e.g. 2 for the L2 norm")


def task_of(cfg: DictConfig) -> str | None:
    """The dataset's task, when known without reading data: the prepared meta.json's, or the
    file source's `task` setting; None otherwise."""
    from mlplab.data.store import prepared_dir

    data = cfg.data
    meta = prepared_dir(cfg.paths.data_dir, data.name, plain(data.source), plain(data.split))
    meta = meta / "meta.json"
    try:
        task = json.loads(meta.read_text()).get("task")
    except (OSError, ValueError, AttributeError):
        task = cfg.data.source.get("task")
    return task if task in ("multiclass", "binary", "multilabel", "regression") else None


def metric_names(task: str | None) -> list[str]:
    """What a run logs and a callback may monitor: train/loss, val/loss and val/<metric> of the
    task (of every task, when the task is not known yet)."""
    names = {"train/loss", "val/loss"}
    for name in [task] if task else list(TASK_METRICS):
        names |= {f"val/{m}" for m in TASK_METRICS[name]}
    return sorted(names)


def check_monitors(cfg: DictConfig) -> None:
    """Every callback's (and the scheduler's) `monitor` names a metric the run logs, and no
    two ModelCheckpoints share Lightning's state key (class, monitor, mode, schedule)."""
    monitors = {"scheduler.monitor": cfg.scheduler.monitor} if cfg.scheduler.scheduler else {}
    seen: dict[tuple, str] = {}
    for name, node in cfg.callbacks.items():
        if node is None or "monitor" not in node:
            continue
        key, kind = f"callbacks.{name}", node._target_.rsplit(".", 1)[-1]
        if node.monitor is not None:
            monitors[f"{key}.monitor"] = node.monitor
        elif kind == "EarlyStopping":
            raise ConfigError(f"config key '{key}.monitor' is null; early stopping needs a metric")
        if "filename" in node:  # a ModelCheckpoint: Lightning's state key must be unique
            fields = ("every_n_train_steps", "every_n_epochs")
            state = (node._target_, node.monitor, node.get("mode", "min"))
            state += tuple(node.get(f) for f in fields)
            if state in seen:
                raise ConfigError(
                    f"config key '{key}.monitor' is {node.monitor!r} like "
                    f"{seen[state]}.monitor: Lightning refuses two ModelCheckpoints with the "
                    f"same monitor, mode and schedule; set a metric, e.g. {key}.monitor=val/loss"
                )
            seen[state] = key
    unusual = {k: m for k, m in monitors.items() if m not in ("train/loss", "val/loss")}
    if not unusual:
        return
    task = task_of(cfg)
    names = metric_names(task)
    for key, monitor in unusual.items():
        if monitor not in names:
            of = f"a {task} task" if task else "any task"
            raise ConfigError(
                f"config key '{key}' is {monitor!r}; metrics of {of}: {', '.join(names)}"
            )

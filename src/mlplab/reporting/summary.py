"""The report's first section: which run this is, on what data, with which model, optimizer
and schedule, how training ended, and the code and packages that produced it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from mlplab.config.rules import plain
from mlplab.data.store import prepared_dir
from mlplab.reporting.document import Block, Bullets, Heading
from mlplab.reporting.runfiles import optional_json


def run_name(run_dir: Path, record: dict[str, Any] | None) -> tuple[str, str | None]:
    """The run's display name and DVC experiment: run.json's `name` and `dvc_experiment`;
    without run.json (the pipeline's workspace), named as training names it (`pipeline`, or
    `exps/<experiment>` inside `dvc exp run`)."""
    if record is not None and "name" in record:
        return record["name"], record.get("dvc_experiment")
    from mlplab.training import naming

    return naming.run_name(run_dir), naming.dvc_experiment()


def data_meta(cfg: DictConfig) -> tuple[Path, dict[str, Any] | None]:
    """The prepared data's folder and its meta.json (None before prepare has run)."""
    data = cfg.data
    folder = prepared_dir(cfg.paths.data_dir, data.name, plain(data.source), plain(data.split))
    return folder, optional_json(folder / "meta.json")


def data_line(cfg: DictConfig, folder: Path, meta: dict[str, Any] | None) -> str:
    seed = cfg.data.split.seed
    if meta is None:
        return f"{cfg.data.name} (split seed {seed}); prepared data {folder} not found"
    line = f"{cfg.data.name}: {meta['n_rows']} rows × {meta['n_features']} features, {meta['task']}"
    if "split" in meta:
        sizes = "/".join(str(n) for n in meta["split"]["sizes"])
        line += f"; train/val/test {sizes} rows (split seed {seed})"
        line += f"; prepared data `{folder.parent.name}/{folder.name}`"
        line += f", split digest `{meta['split']['digest']}`"
    return line


def model_line(cfg: DictConfig, meta: dict[str, Any] | None) -> str:
    """Layer widths, activation, norm and dropout; with the data's meta, the parameter count of
    the network the config builds (models/mlp.py, the builder training uses)."""
    model = cfg.model
    norm = "no norm" if model.norm == "none" else f"{model.norm} {model.norm_position} activation"
    dropout = plain(model)["dropout"]
    words = f"{model.activation}, {norm}, dropout {dropout}"
    if meta is None:
        return f"MLP, hidden layers {list(model.hidden_sizes)}; {words}"
    from mlplab.models.mlp import build_mlp, spec_from_config
    from mlplab.models.tasks import make_task

    task = make_task(meta["task"], plain(cfg.objective))
    spec = spec_from_config(plain(model), meta["n_features"], task.output_size(meta))
    count = sum(p.numel() for p in build_mlp(spec).parameters() if p.requires_grad)
    widths = " → ".join(str(n) for n in (spec.in_features, *spec.hidden_sizes, spec.out_features))
    inputs = "" if spec.input_kind == "dense" else f"token embedding {spec.embedding_dim}-d, "
    return f"MLP {widths} ({inputs}{words}); {count:,} trainable parameters"


def _arguments(node: dict[str, Any]) -> str:
    args = {k: v for k, v in node.items() if not k.startswith("_")}
    return ", ".join(f"{k} {v}" for k, v in args.items())


def optimizer_line(cfg: DictConfig) -> str:
    optimizer = plain(cfg.optimizer)
    line = f"{optimizer['_target_'].rsplit('.', 1)[-1]} ({_arguments(optimizer)})"
    schedule = plain(cfg.scheduler)
    scheduler = schedule["scheduler"]
    if scheduler is None:
        return line + "; constant learning rate"
    name = scheduler["_target_"].rsplit(".", 1)[-1]
    return (
        line + f"; schedule {name} ({_arguments(scheduler)}), stepped every {schedule['interval']}"
    )


def stop_line(cfg: DictConfig, train: dict[str, Any]) -> str:
    """Epochs trained and why training stopped: divergence, max_epochs, or early stopping."""
    n, max_epochs = train["epochs_trained"], cfg.trainer.max_epochs
    epochs = f"{n} epoch{'s' if n != 1 else ''}"
    if train.get("diverged"):
        return f"{epochs}; diverged in epoch {n} (a non-finite loss, gradient or weight)"
    if max_epochs is not None and 0 < max_epochs <= n:
        return f"{epochs}; max_epochs ({max_epochs}) reached"
    stopper = cfg.callbacks.get("early_stopping")
    if stopper is not None and train.get("best_epoch", n - 1) < n - 1:
        return (
            f"{epochs} of at most {max_epochs}; early stopping at epoch {n - 1}: "
            f"{stopper.monitor} had not improved for {stopper.patience} validations since its "
            f"best at epoch {train['best_epoch']}"
        )
    return f"{epochs} of at most {max_epochs}; stopped early (max_steps, max_time or interrupted)"


def provenance_line(record: dict[str, Any]) -> str:
    """Git commit, Python and package versions, as run.json (or this process) records them."""
    git = record["git"]
    commit = "not a git checkout"
    if git["commit"]:
        commit = f"git {git['commit'][:12]}{' (uncommitted changes)' if git['dirty'] else ''}"
    packages = ", ".join(f"{k} {v}" for k, v in record["packages"].items() if v)
    return f"{commit}; Python {record['python']}; {packages}"


def summary_section(
    run_dir: Path, cfg: DictConfig, train: dict[str, Any], test: dict[str, Any] | None
) -> list[Block]:
    record = optional_json(run_dir / "run.json")
    name, experiment = run_name(run_dir, record)
    folder, meta = data_meta(cfg)
    items = [f"**Run**: `{name}`"]
    if experiment:
        items.append(f"**DVC experiment**: `{experiment}`")
    items += [
        f"**Data**: {data_line(cfg, folder, meta)}",
        f"**Model**: {model_line(cfg, meta)}",
        f"**Optimizer**: {optimizer_line(cfg)}",
        f"**Seed**: {cfg.seed}",
        f"**Training**: {stop_line(cfg, train)}",
    ]
    if test is not None and test.get("checkpoint"):
        tested = f"`{test['checkpoint']}`"
        if test.get("weights") == "best" and "best_epoch" in train:
            tested += f" (epoch {train['best_epoch']}, lowest val/loss)"
        items.append(f"**Tested weights**: {tested}")
    if record is None:  # the pipeline's workspace: this process's environment
        from mlplab.training.provenance import environment

        record = environment()
    items.append(f"**Code and versions**: {provenance_line(record)}")
    if record.get("command"):
        items.append(f"**Command**: `{' '.join(str(a) for a in record['command'])}`")
    return [Heading("Run summary"), Bullets(tuple(items))]

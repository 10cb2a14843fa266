"""Leslie Smith's LR range test with Lightning's Tuner.lr_find, alone or before training.

The test trains for `num_training` steps while the LR grows from `min_lr` to `max_lr` and
records the (smoothed) loss at each; the suggestion is the LR where the loss falls fastest
per decade of LR. (Lightning 2.6's own `suggestion()` differentiates by the LR itself, which on
an exponential sweep favours small LRs and their noise: Lightning-AI/pytorch-lightning#21141.)
It runs on its own Trainer, so `trainer.max_epochs` or `limit_train_batches` of the real run
do not cut it short, and it leaves the model as it found it: Lightning restores the initial
weights, and the random-number state is restored here, so training with `lr_find.apply=true`
is the same run as training with `optimizer.lr=<suggestion>`.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import lightning as L
import matplotlib
import torch
from lightning.pytorch.tuner import Tuner
from omegaconf import DictConfig
from torchmetrics import Metric

from mlplab.atomic import atomic_path, write_json
from mlplab.training.assemble import build_trainer
from mlplab.training.setup import setup_run

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

log = logging.getLogger(__name__)


def range_test(
    cfg: DictConfig, model: L.LightningModule, datamodule: L.LightningDataModule, out_dir: Path
) -> float | None:
    """Run the test, write `lr_find.png` and `lr_find.json` into out_dir, return the suggestion."""
    settings = cfg.lr_find
    trainer = build_trainer(
        cfg.trainer,
        callbacks=[],
        loggers=[],
        run_dir=out_dir,  # Lightning's temporary checkpoint of the initial model goes there
        # One device, no validation, no checkpoints: the test is num_training steps, nothing more.
        devices=1,
        num_nodes=1,
        strategy="auto",
        max_epochs=-1,
        max_steps=settings.num_training,
        limit_train_batches=1.0,
        limit_val_batches=0,
        enable_checkpointing=False,
        enable_model_summary=False,
    )
    with torch.random.fork_rng():
        finder = Tuner(trainer).lr_find(
            model,
            datamodule=datamodule,
            min_lr=settings.min_lr,
            max_lr=settings.max_lr,
            num_training=settings.num_training,
            mode=settings.mode,
            early_stop_threshold=settings.early_stop_threshold,
            update_attr=False,
        )
    assert finder is not None, "Lightning skips the range test under trainer.fast_dev_run"
    for metric in model.modules():  # the test's training steps fed the epoch means
        if isinstance(metric, Metric):
            metric.reset()
    suggestion = suggest(finder.results["lr"], finder.results["loss"], settings.mode)
    write_json(out_dir / "lr_find.json", _result(finder.results, suggestion, settings))
    _plot(finder, suggestion, out_dir / "lr_find.png")
    if suggestion is None:
        log.warning("LR range test: no suggestion (too few finite losses); see lr_find.png")
    else:
        log.info("LR range test: suggested lr %.4g (%s)", suggestion, out_dir / "lr_find.png")
    return suggestion


def apply_suggestion(
    cfg: DictConfig, model: L.LightningModule, datamodule: L.LightningDataModule, out_dir: Path
) -> None:
    """Run the range test and make the suggestion the LR that `configure_optimizers` uses.

    The LR is set in the model's hyperparameters, so checkpoints record the LR trained with.
    """
    suggestion = range_test(cfg, model, datamodule, out_dir)
    if suggestion is None:
        log.warning("lr_find.apply: keeping optimizer.lr=%g", model.hparams["optimizer"]["lr"])
        return
    model.hparams["optimizer"]["lr"] = suggestion


def find_lr(cfg: DictConfig, run_dir: Path) -> float | None:
    """The range test alone (src/find_lr.py), on data and a model built as train.py builds them."""
    dm, model = setup_run(cfg)
    return range_test(cfg, model, dm, run_dir)


def suggest(
    lrs: list[float], losses: list[float], mode: str, skip_begin: int = 10, skip_end: int = 1
) -> float | None:
    """The LR of the steepest loss descent, by log10(LR) in exponential mode, else by LR.

    Like Lightning's, it skips the first and last points and ignores non-finite losses;
    None when fewer than two points remain.
    """
    lr = torch.tensor(lrs[skip_begin:-skip_end], dtype=torch.float64)
    loss = torch.tensor(losses[skip_begin:-skip_end], dtype=torch.float64)
    finite = torch.isfinite(loss)
    lr, loss = lr[finite], loss[finite]
    if len(loss) < 2:
        return None
    x = torch.log10(lr) if mode == "exponential" else lr
    slope = torch.gradient(loss, spacing=[x])[0]
    return float(lr[int(torch.argmin(slope))])


def _result(results: dict[str, list[float]], suggestion: float | None, settings: Any) -> dict:
    def finite(values: list[float]) -> list[float | None]:
        return [v if math.isfinite(v) else None for v in values]

    return {
        "suggestion": suggestion,
        "settings": {k: settings[k] for k in ("min_lr", "max_lr", "num_training", "mode")},
        "lr": finite(results["lr"]),
        "loss": finite(results["loss"]),
    }


def _plot(finder: Any, suggestion: float | None, path: Path) -> None:
    fig = finder.plot(suggest=False)
    ax = fig.axes[0]
    ax.set_ylabel("training loss (smoothed)")
    if suggestion is not None:
        ax.axvline(suggestion, color="tab:red", linestyle=":", label=f"suggested {suggestion:.3g}")
        ax.legend()
    ax.set_title("LR range test")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)

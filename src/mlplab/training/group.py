"""The batched training loop: K runs of one shape, one stacked network (training/batched.py).

Every step does for each run what Lightning's loop does for it alone, in the same order: its
own batch (its seed's shuffle), forward (one batched pass), its loss and penalties, backward
(one pass: the sum of the K losses has each run's gradient), its gradient clipping, its
optimizer and scheduler, the divergence check. Every epoch: validation with the run's own
metric objects, best.ckpt when its val/loss improves, its early stopping. So a run's numbers
are those of the same run trained alone (to float rounding: the batched matmul's weight
gradient may differ in the last bit).
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, cast

import lightning as L
import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig
from torchmetrics import MeanMetric

from mlplab.config.rules import plain
from mlplab.data.augment import Augmenter
from mlplab.data.batches import ArrayBatches, ShardedBatchSampler
from mlplab.errors import RunDiverged
from mlplab.models.module import MLPModule
from mlplab.models.penalties import penalties
from mlplab.models.schedules import build_scheduler
from mlplab.models.stacked import StackedMLP, stackable
from mlplab.training.assemble import _instantiate, build_loggers
from mlplab.training.batched import Outcome, keep
from mlplab.training.group_run import Member, close_events, device_for, test_run, write_checkpoints
from mlplab.training.history import HistoryRecorder
from mlplab.training.naming import run_name, tensorboard_dir
from mlplab.training.provenance import provenance
from mlplab.training.setup import (
    apply_runtime,
    build_datamodule,
    build_module,
    quiet_lightning_logs,
)
from mlplab.training.tensorboard import flat_hparams

log = logging.getLogger(__name__)
PRINT_EVERY_S = 5.0  # the group's progress line, at most this often (and at its end)


def train_group(jobs: list[tuple[DictConfig, Path]]) -> None:
    """Train the jobs' runs as one stacked network; each run's outcome is kept for `take`.
    A run the stacked form cannot hold gets no outcome and trains alone afterwards."""
    group = GroupTrainer(jobs)
    try:
        outcomes = group.fit()
    except KeyboardInterrupt:
        what = f"the batched group of {len(jobs)} runs" if len(jobs) > 1 else "the stacked run"
        print(
            f"interrupted: {what} stopped; stacked runs do not resume: run the command again",
            file=sys.stderr,
        )
        sys.exit(130)
    except Exception as err:  # a bug or a bad input shared by the group: every run fails with it
        if os.environ.get("MLPLAB_DEBUG") == "1":
            raise
        outcomes = {run_dir: Outcome(error=err) for _, run_dir in jobs}
    keep(outcomes)


class GroupTrainer:
    def __init__(self, jobs: list[tuple[DictConfig, Path]]) -> None:
        self.jobs = jobs
        self.cfg = jobs[0][0]  # every key outside BATCHABLE is equal across the group
        self.trainer_cfg = self.cfg.trainer

    def fit(self) -> dict[Path, Outcome]:
        quiet_lightning_logs()
        apply_runtime(self.cfg.runtime)
        deterministic = self.trainer_cfg.deterministic
        if deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(bool(deterministic), warn_only=deterministic == "warn")
        dm = build_datamodule(self.cfg)
        dm.prepare_data()
        dm.setup("fit")
        self.dm = dm
        members = []
        device = device_for(self.trainer_cfg.accelerator)
        for cfg, run_dir in self.jobs:
            L.seed_everything(cfg.seed, workers=True, verbose=False)
            module = build_module(cfg, dm)
            if stackable(module) is not None:
                continue  # trains alone afterwards
            # Dropout masks on `device` come from that device's generator in a run alone.
            generator = torch.Generator(device=device)
            generator.set_state(_rng_state(device))
            members.append(self._member(cfg, run_dir, module, generator))
        if not members:
            return {}
        self.members = members
        for m in members:
            m.module.to(device)
        self.device = device
        self.net = StackedMLP([m.module for m in members])
        self._optimizers()
        names = ", ".join(m.run_dir.name for m in members[:3]) + (
            ", ..." if len(members) > 3 else ""
        )
        if len(members) > 1:
            print(f"training {len(members)} runs as one batched network ({names})", flush=True)
        self._loop()
        self._test()
        return {m.run_dir: cast(Outcome, m.outcome) for m in members}

    # --- set-up ---------------------------------------------------------------------------

    def _member(
        self, cfg: DictConfig, run_dir: Path, module: MLPModule, generator: torch.Generator
    ) -> Member:
        data = cfg.data
        sampler = ShardedBatchSampler(
            self.dm.split.train, data.batch_size, shuffle=True, seed=cfg.seed, rank=0, world_size=1
        )
        augment = plain(data.augment)
        augmenter = None
        if any(augment.values()):
            meta = self.dm.meta
            augmenter = Augmenter(
                noise_std=augment["noise_std"],
                mixup_alpha=augment["mixup_alpha"],
                task=meta["task"],
                n_classes=len(meta.get("class_names", [])),
                feature_scale=self.dm.scaling_stats()[1],
                seed=cfg.seed * 1000,
            )
        member = Member(cfg, run_dir, module, generator, sampler, augmenter)
        member.provenance = json.loads(json.dumps(provenance(cfg, run_dir), default=str))
        tested = run_dir / "models" / f"{cfg.evaluate.weights}.ckpt"
        member.history = HistoryRecorder(
            run_dir / "plots" / "history.csv", run_dir / "metrics" / "train.json", tested
        )
        stopping = cfg.callbacks.get("early_stopping")
        if stopping is not None:
            member.stopping = _instantiate("callbacks.early_stopping", plain(stopping))
        hparams = flat_hparams(plain(cfg), run_name(run_dir))
        member.loggers = build_loggers(
            cfg.logger, run_dir, tensorboard_dir(run_dir), hparams, fresh=True
        )
        return member

    def _optimizers(self) -> None:
        """Each run's optimizer and scheduler, built as MLPModule.configure_optimizers builds
        them. Runs whose optimizer and schedule are equal (a seed or init sweep) share one
        optimizer whose parameter groups hold every run's own parameters (views into the
        stacked weights): one step call, and since fused and multi-tensor kernels treat each
        tensor alone, each run's update is the one its own optimizer makes, bit for bit (over
        one stacked tensor a fused kernel's vector tails fall elsewhere and round apart).
        A metric-driven schedule (plateau) needs each run's own val/loss: one each."""
        members = self.members
        hp = [m.module.hparams for m in members]
        schedule = hp[0]["scheduler"]
        target = str((schedule["scheduler"] or {}).get("_target_", ""))
        same = all(h["optimizer"] == hp[0]["optimizer"] for h in hp) and all(
            h["scheduler"] == schedule for h in hp
        )
        self.shared = same and "ReduceLROnPlateau" not in target
        if self.shared:
            own = [m.module._param_groups() for m in members]
            groups = [
                {**group, "params": [p for groups in own for p in groups[i]["params"]]}
                for i, group in enumerate(own[0])
            ]
            optimizer, scheduler = self._build(hp[0], groups)
            for m in members:
                m.optimizer, m.scheduler = optimizer, scheduler
        else:
            for m, h in zip(members, hp, strict=True):
                m.optimizer, m.scheduler = self._build(h, m.module._param_groups())
        for m in members:
            if schedule["scheduler"] is not None:
                m.interval, m.monitor = schedule["interval"], schedule["monitor"]

    def _build(self, hp: Any, groups: list[dict[str, Any]]) -> tuple[Any, Any]:
        optimizer = instantiate(hp["optimizer"])(groups)
        schedule = hp["scheduler"]
        if schedule["scheduler"] is None:
            return optimizer, None
        epochs = self.trainer_cfg.max_epochs
        steps = self._batches("train", len(self.members[0].sampler)) * epochs
        total = steps if schedule["interval"] == "step" else epochs
        return optimizer, build_scheduler(schedule["scheduler"], optimizer, lambda: total)

    def _batches(self, stage: str, available: int) -> int:
        """Batches of `stage` per epoch under `trainer.limit_<stage>_batches` as Lightning
        reads it: null all, an int that many, a float that fraction."""
        limit = self.trainer_cfg[f"limit_{stage}_batches"]
        if limit is None:
            return available
        if isinstance(limit, float):
            return min(available, int(available * limit))
        return min(available, int(limit))

    # --- the loop -------------------------------------------------------------------------

    def _loop(self) -> None:
        members, net = self.members, self.net
        max_epochs, min_epochs = self.trainer_cfg.max_epochs, self.trainer_cfg.min_epochs
        val_every = self.trainer_cfg.check_val_every_n_epoch
        clip = self.trainer_cfg.gradient_clip_val
        clip_by = self.trainer_cfg.gradient_clip_algorithm
        divergence = self.cfg.callbacks.get("divergence")
        X, y = self.dm.prepared.X, self.dm.prepared.y  # type: ignore[union-attr]
        batches = ArrayBatches(X, y)
        params = list(net.stacked.values())
        for p in params:  # the runs' gradients are views of these, zeroed in place each step
            p.grad = torch.zeros_like(p)
        grads = [p.grad for p in params]
        owned = []  # each run's parameters in its optimizer's order: what clipping sees
        for k, m in enumerate(members):
            for name, p in m.module.net.named_parameters():
                p.grad = net.param(name).grad[k]  # type: ignore[index]
            owned.append([p for g in m.module._param_groups() for p in g["params"]])
        penalised = [any(m.module.hparams["regularization"].values()) for m in members]
        n_batches = self._batches("train", len(members[0].sampler))
        full_batch = len(members[0].sampler) == 1 and not any(m.augmenter for m in members)
        cached: tuple[torch.Tensor, list[torch.Tensor]] | None = None
        loss_sum = torch.zeros(len(members), device=self.device)
        rows_seen = torch.zeros(len(members), device=self.device)
        last_print = time.perf_counter()
        for m in members:
            for logger in m.loggers:
                logger.log_hyperparams(None)
        for epoch in range(max_epochs):
            running = [m for m in members if not m.done]
            if not running:
                break
            net.train()
            for m in members:
                m.sampler.set_epoch(epoch)
                m.history._epoch_lr = m.optimizer.param_groups[0]["lr"]
            loss_sum.zero_()  # the sums MeanMetric keeps, for every run at once
            rows_seen.zero_()
            orders = [iter(m.sampler) for m in members]
            for _ in range(n_batches):
                if cached is not None:  # one batch is the whole split: the same rows every epoch
                    x, ys = cached
                else:
                    xs, ys = [], []
                    for m, order in zip(members, orders, strict=True):
                        x_k, y_k = batches[next(order)]
                        if m.augmenter is not None:
                            x_k, y_k = m.augmenter(x_k, y_k)
                        xs.append(x_k)
                        ys.append(y_k.to(self.device))
                    x = torch.stack(xs).to(self.device)
                    if full_batch:
                        cached = (x, ys)
                out = net(x, [m.generator for m in members])
                losses = []
                for k, m in enumerate(members):
                    loss = m.module.task.loss(out[k], m.module.to_model_units(ys[k]))
                    if penalised[k]:
                        reg = m.module.hparams["regularization"]
                        terms = penalties(m.module._weight_matrices(), reg["l1"], reg["l2"])
                        if terms:
                            loss = loss + torch.stack(list(terms.values())).sum()
                    losses.append(loss)
                stacked_losses = torch.stack(losses)
                weight = torch.full_like(stacked_losses, float(len(ys[0])))
                loss_sum += stacked_losses.detach() * weight
                rows_seen += weight
                torch._foreach_zero_(grads)
                stacked_losses.sum().backward()
                for k, m in enumerate(members):
                    if m.done:  # its outputs are written; its slice of the weights is spare
                        continue
                    if clip:
                        if clip_by == "norm":
                            torch.nn.utils.clip_grad_norm_(owned[k], clip)
                        else:
                            torch.nn.utils.clip_grad_value_(owned[k], clip)
                    lrs = [g["lr"] for g in m.optimizer.param_groups]
                    m.history.lr_rows.append([m.steps, epoch, *lrs])
                    m.steps += 1
                    if not self.shared:
                        m.optimizer.step()
                        if m.scheduler is not None and m.interval == "step":
                            m.scheduler.step()
                if self.shared:
                    members[0].optimizer.step()
                    if members[0].scheduler is not None and members[0].interval == "step":
                        members[0].scheduler.step()
                if divergence is not None:
                    self._check_steps(stacked_losses, epoch)
            validated = (epoch + 1) % val_every == 0
            if validated:
                self._validate(epoch, divergence)
            for k, m in enumerate(members):
                if m.done:
                    continue
                m.epochs = epoch + 1
                # A row every epoch, with the latest validation's metrics, as Lightning logs.
                train_loss = float(loss_sum[k] / rows_seen[k])
                row = {"epoch": epoch, "lr": m.history._epoch_lr, "train/loss": train_loss}
                m.history.rows.append({**row, **m.val})
                if validated:  # TensorBoard: on validation epochs (history.csv has them all)
                    for logger in m.loggers:
                        logger.log_metrics({"train/loss": train_loss, "epoch": epoch}, m.steps)
                stop = False
                if validated and m.stopping is not None and epoch + 1 >= min_epochs:
                    current = torch.tensor(m.val["val/loss"])
                    stop, _ = m.stopping._evaluate_stopping_criteria(current)
                if stop or epoch + 1 == max_epochs:
                    self._finish(m, diverged=None)
            stepped = set()
            for m in members:  # epoch schedules, once per optimizer (shared: once)
                if m.scheduler is None or m.interval != "epoch" or id(m.scheduler) in stepped:
                    continue
                stepped.add(id(m.scheduler))
                if isinstance(m.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                    m.scheduler.step(m.val.get(str(m.monitor), float("nan")))
                else:
                    m.scheduler.step()
            if time.perf_counter() - last_print > PRINT_EVERY_S or epoch + 1 == max_epochs:
                last_print = time.perf_counter()
                self._progress(epoch, max_epochs)
        for m in members:
            if not m.done:
                self._finish(m, diverged=None)

    def _check_steps(self, losses: torch.Tensor, epoch: int) -> None:
        """DivergenceCheck's per-step part for every run at once (one host sync): a
        non-finite loss. A NaN or infinite gradient or weight makes the next forward pass's
        loss non-finite; weights and buffers are checked at each validation and before any
        checkpoint is kept (`_weights_finite`)."""
        ok = torch.isfinite(losses.detach()).tolist()
        for k, m in enumerate(self.members):
            if m.done:
                continue
            if ok[k]:
                m.last_loss = losses[k].detach()
                continue
            loss = float(losses[k].detach())
            what = f"non-finite loss ({loss}) at step {m.steps - 1}"
            self._finish(m, diverged=f"training diverged in epoch {epoch}: {what}")

    def _weights_finite(self) -> list[bool]:
        """Per run: every weight and float buffer is finite (one reduction per tensor)."""
        tensors = [*self.net.stacked.values(), *self.net.buffers()]
        sums = [
            t.detach().sum(dim=tuple(range(1, t.ndim)), dtype=torch.float64)
            for t in tensors
            if t.is_floating_point()
        ]
        return torch.stack(sums).sum(dim=0).isfinite().tolist()

    @torch.no_grad()
    def _validate(self, epoch: int, divergence: Any) -> None:
        net, members, dm = self.net, self.members, self.dm
        net.eval()
        loader = ShardedBatchSampler(
            dm.split.val, self.cfg.data.batch_size, shuffle=False, seed=0, rank=0, world_size=1
        )
        batches = ArrayBatches(dm.prepared.X, dm.prepared.y)  # type: ignore[union-attr]
        for m in members:
            m.module.val_metrics.reset()
            cast(MeanMetric, m.module.losses["val_loss"]).reset()
        for rows in itertools.islice(loader, self._batches("val", len(loader))):
            x, y = batches[rows]
            x, y = x.to(self.device), y.to(self.device)
            out = net(x.unsqueeze(0).expand(len(members), *x.shape).contiguous())
            for k, m in enumerate(members):
                if m.done:
                    continue
                module = m.module
                batch_loss = module.task.loss(out[k], module.to_model_units(y))
                cast(MeanMetric, module.losses["val_loss"]).update(batch_loss, weight=len(y))
                module.val_metrics.update(
                    module.task.metric_inputs(module.to_target_units(out[k]), y), y
                )
        finite = self._weights_finite() if divergence is not None else [True] * len(members)
        for k, m in enumerate(members):
            if m.done:
                continue
            if not finite[k]:
                self._finish(m, diverged=f"non-finite weights or buffers after epoch {epoch}")
                continue
            module = m.module
            m.val = {"val/loss": float(cast(MeanMetric, module.losses["val_loss"]).compute())}
            m.val.update({k: float(v) for k, v in module.val_metrics.compute().items()})
            metrics = dict(m.val)
            for i, group in enumerate(m.optimizer.param_groups):
                metrics[f"lr-{type(m.optimizer).__name__}/{group.get('name', i)}"] = group["lr"]
            for logger in m.loggers:
                logger.log_metrics(metrics, m.steps)
            row = m.val
            loss = row["val/loss"]
            if divergence is not None and divergence.check_val_loss and not np.isfinite(loss):
                self._finish(m, diverged=f"non-finite val/loss ({loss}) in validation")
                continue
            if loss < m.best:  # ModelCheckpoint(monitor=val/loss, mode=min, save_top_k=1)
                m.best = loss
                if self.cfg.callbacks.get("model_checkpoint") is not None:
                    self._keep(m, "best", epoch)

    # --- outputs --------------------------------------------------------------------------

    def _keep(self, m: Member, name: str, epoch: int) -> None:
        """The run's checkpoint `name` as it is now, kept in memory and written when the run
        finishes: stacked runs do not resume, so no file is needed before (Lightning writes
        best.ckpt at every improvement; the files end up the same)."""
        m.kept[name] = {
            "epoch": epoch,
            "global_step": m.steps,
            "pytorch-lightning_version": L.__version__,
            "state_dict": {k: v.detach().clone() for k, v in m.module.state_dict().items()},
            "hparams_name": "kwargs",
            "hyper_parameters": dict(m.module.hparams),
            "optimizer_states": [copy.deepcopy(self._optimizer_state(m))],
            "lr_schedulers": [m.scheduler.state_dict()] if m.scheduler is not None else [],
            "provenance": m.provenance,
            "batched": {"runs": len(self.members)},
        }

    def _optimizer_state(self, m: Member) -> dict[str, Any]:
        """The run's optimizer state as its own optimizer's state_dict would hold it."""
        if not self.shared:
            return m.optimizer.state_dict()
        shared, start = m.optimizer, 0
        params: list[torch.Tensor] = []
        groups = []
        for group, own in zip(shared.param_groups, m.module._param_groups(), strict=True):
            settings = {k: v for k, v in group.items() if k != "params"}
            groups.append({**settings, "params": list(range(start, start + len(own["params"])))})
            start += len(own["params"])
            params += own["params"]
        state = {i: shared.state[p] for i, p in enumerate(params) if p in shared.state}
        return {"state": state, "param_groups": groups}

    def _finish(self, m: Member, diverged: str | None) -> None:
        """The run is done: last.ckpt (finite weights only), history, train.json."""
        m.done = True
        # Its final weights: a shared optimizer moves its (spare) slice on after this.
        m.final = {k: v.detach().clone() for k, v in m.module.state_dict().items()}
        if diverged is None and self.cfg.callbacks.get("last_checkpoint") is not None:
            self._keep(m, "last", max(m.epochs - 1, 0))
        write_checkpoints(m)
        m.history.write(diverged is not None, None if diverged is not None else m.final)
        if diverged is not None:
            last = f"{float(m.last_loss):.4g}" if m.last_loss is not None else "none"
            m.outcome = Outcome(
                error=RunDiverged(
                    f"{diverged}; last finite training loss {last}. Likely causes: too high a "
                    "learning rate (optimizer.lr), too large an initial scale "
                    "(model.init.scale), loose or no gradient clipping (trainer.gradient_clip_val)"
                )
            )

    def _progress(self, epoch: int, max_epochs: int) -> None:
        running = sum(not m.done for m in self.members)
        losses = [m.val["val/loss"] for m in self.members if m.val]
        shown = ""
        if losses:  # none before the first validation (check_val_every_n_epoch > 1)
            span = f"{min(losses):.4f}" + (f"-{max(losses):.4f}" if len(losses) > 1 else "")
            shown = f", val/loss {span}"
        runs = f", {running}/{len(self.members)} runs training" if len(self.members) > 1 else ""
        print(f"epoch {epoch + 1}/{max_epochs}{runs}{shown}", flush=True)

    def _test(self) -> None:
        """Each finished run's test metrics from its tested weights (TensorBoard test/* and
        best/val/* as trainer.test logs them); a diverged run's events are closed."""
        rows = self.dm.split.test
        batch = self.cfg.data.batch_size
        starts = range(0, len(rows), batch)
        parts = [rows[s : s + batch] for s in starts[: self._batches("test", len(starts))]]
        for m in self.members:
            if m.outcome is None:
                prepared = self.dm.prepared
                assert prepared is not None, "the data module was set up in fit()"
                m.outcome = Outcome(test=test_run(m, prepared, parts, self.device))
            else:
                close_events(m)


def _rng_state(device: torch.device) -> torch.Tensor:
    """The global generator state of `device` (the CPU's, or the current CUDA device's)."""
    if device.type == "cuda":
        return torch.cuda.get_rng_state(device)
    if device.type == "mps":
        return torch.mps.get_rng_state()
    return torch.get_rng_state()

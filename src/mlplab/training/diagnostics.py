"""Training diagnostics: make a sick network visible while it trains.

On logged steps only (the first optimizer step, then every `every_n_steps`), forward hooks on
each hidden block's activation module record its input (pre-activation) and output, and a
tensor hook on that output records the loss's gradient with respect to it. Per weight matrix,
the gradient is read before the optimizer step and the weights are copied, then compared after
it: the update ratio comes from the actual parameter change, so it is right for Adam, weight
decay and schedules alike. Other steps cost one modulo per hook and no host sync.

Outputs (under the run directory, rank zero only): diagnostics/layers.csv (one row per logged
step and layer), diagnostics/histograms.json (the first and the last logged step),
diagnostics/warnings.json (each condition once per run, also logged as a WARNING by the
`mlplab.diagnostics` logger), and `diag/<layer>/<metric>` scalars and histograms in TensorBoard.
The rules of thumb are Karpathy's (update ratio near 1e-3, "A Recipe for Training Neural
Networks") and Glorot & Bengio's (saturated sigmoid layers, vanishing gradients, 2010).
"""

from __future__ import annotations

import csv
import io
import logging
import math
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from torch import nn

from mlplab.atomic import write_json, write_text

log = logging.getLogger("mlplab.diagnostics")

# layers.csv's header: the step's values, then the activation's, then the weight matrix's.
HEADER = "step,epoch,layer,act_mean,act_std,saturated,dead,grad_norm,grad_data_ratio,update_ratio"
COLUMNS = tuple(HEADER.split(","))  # noqa: SIM905
# What each warning says: one sentence a user can act on.
MESSAGES = {
    "saturated": "{layer} is {value:.0%} saturated at step {step}, so its gradients vanish: "
    "lower model.init.scale, keep model.init.scheme=auto (Glorot for tanh/sigmoid) or add "
    "model.norm=batchnorm",
    "dead": "{layer} has {value:.0%} dead units (never positive over a batch) at step {step}: "
    "lower optimizer.lr, keep He init (model.init.scheme=auto), add model.norm=batchnorm or "
    "try model.activation=leaky_relu",
    "update_ratio": "{layer}'s update ratio log10(std(dW)/std(W)) is {value:.2f}, outside "
    "{bounds} for {count} logged steps in a row up to step {step}: {advice} (healthy is near -3)",
    "exploding": "{layer}'s weight gradient norm is {value:.3g} (above {limit:g}) at step "
    "{step}: gradients explode; lower optimizer.lr or model.init.scale, or set "
    "trainer.gradient_clip_val",
    "vanishing": "the weight gradient norm of {first} is {factor} smaller than {last}'s at step "
    "{step}, so gradients vanish toward the input: use ReLU with He init, add "
    "model.norm=batchnorm or use fewer hidden layers",
}
# Activations whose unit passes (almost) nothing while its output stays <= 0.
RELU_FAMILY = (
    nn.ReLU,
    nn.LeakyReLU,
    nn.PReLU,
    nn.RReLU,
    nn.ELU,
    nn.SELU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
)


def host(values: torch.Tensor) -> np.ndarray:
    """A float64 NumPy copy on the host. The measures below use NumPy ufuncs: they run in the
    calling thread, where each of torch's parallel CPU ops (and threaded BLAS, e.g. np.dot)
    waits for worker threads, which on a busy CPU cost 10x the logged step's own work."""
    return values.detach().to("cpu", torch.float64).numpy()


def saturated_fraction(
    act: np.ndarray, kind: str, tanh_limit: float, sigmoid_limit: float
) -> float:
    """The fraction of values in a flat region: |a| > tanh_limit (tanh), a < sigmoid_limit or
    a > 1 - sigmoid_limit (sigmoid)."""
    if kind == "tanh":
        return float(np.mean(np.abs(act) > tanh_limit))
    return float(np.mean((act < sigmoid_limit) | (act > 1 - sigmoid_limit)))


def dead_fraction(act: np.ndarray) -> float:
    """The fraction of units (columns) whose output is <= 0 for every row of the batch."""
    return 1.0 - float(np.mean((act.reshape(-1, act.shape[-1]) > 0).any(axis=0)))


def update_ratio(before: np.ndarray, after: np.ndarray) -> float:
    """log10(std(after - before) / std(before)): -inf for no change, NaN when undefined."""
    with np.errstate(all="ignore"):
        change, scale = float(np.std(after - before)), float(np.std(before))
    if not (math.isfinite(change) and math.isfinite(scale)) or scale == 0:
        return math.nan
    return math.log10(change / scale) if change > 0 else -math.inf


def grad_data_ratio(grad: np.ndarray, weight: np.ndarray) -> float:
    """std(grad) / std(W)."""
    with np.errstate(all="ignore"):
        scale = float(np.std(weight))
        return float(np.std(grad)) / scale if scale > 0 else math.nan


def histogram(values: np.ndarray, bins: int) -> dict[str, list]:
    """{"edges": bins + 1 floats, "counts": bins ints} over the finite values' range."""
    return _summarise(values, bins)[0]


def _summarise(values: np.ndarray, bins: int) -> tuple[dict[str, list], list[float]]:
    """The histogram, and [min, max, count, sum, sum of squares] of the finite values."""
    flat = values.ravel()
    lo, hi = (float(flat.min()), float(flat.max())) if flat.size else (0.0, 1.0)
    if not (math.isfinite(lo) and math.isfinite(hi)):  # NaN or infinity: drop those values
        flat = flat[np.isfinite(flat)]
        lo, hi = (float(flat.min()), float(flat.max())) if flat.size else (0.0, 1.0)
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(flat, bins=bins, range=(lo, hi))
    hist = {"edges": edges.tolist(), "counts": counts.tolist()}
    if not flat.size:
        return hist, []
    stats = [float(flat.min()), float(flat.max()), float(flat.size)]
    return hist, [*stats, float(flat.sum()), float(np.square(flat).sum())]


def _weight(linear: nn.Linear) -> torch.Tensor:
    """The trained weight: under Lightning's ModelPruning, the unmasked `weight_orig`."""
    return getattr(linear, "weight_orig", linear.weight)


def _kind(activation: nn.Module) -> str | None:
    if isinstance(activation, nn.Tanh):
        return "tanh"
    if isinstance(activation, nn.Sigmoid):
        return "sigmoid"
    return "relu" if isinstance(activation, RELU_FAMILY) else None


class Diagnostics(L.Callback):
    def __init__(
        self,
        every_n_steps: int,
        histogram_bins: int,
        tanh_saturation: float,
        sigmoid_saturation: float,
        max_saturated: float,
        max_dead: float,
        update_ratio_range: list[float],
        update_ratio_patience: int,
        vanishing_factor: float,
        exploding_grad_norm: float,
    ) -> None:
        """Log the first optimizer step and every `every_n_steps`-th; warn on a layer more
        than `max_saturated` saturated or `max_dead` dead, an update ratio outside
        `update_ratio_range` for `update_ratio_patience` logged steps in a row, a first
        hidden layer's weight gradient norm `vanishing_factor` times below the last one's,
        and a weight gradient norm above `exploding_grad_norm` (before clipping)."""
        self.every_n_steps, self.bins = every_n_steps, histogram_bins
        self.tanh_saturation, self.sigmoid_saturation = tanh_saturation, sigmoid_saturation
        self.max_saturated, self.max_dead = max_saturated, max_dead
        self.low, self.high = (float(v) for v in update_ratio_range)
        self.patience = update_ratio_patience
        self.vanishing_factor, self.exploding_grad_norm = vanishing_factor, exploding_grad_norm
        # Kept in checkpoints (state_dict): a resumed run writes the whole table.
        self.rows: list[dict[str, Any]] = []
        self.warnings: list[dict[str, Any]] = []
        self.histograms: dict[str, Any] = {}
        self._outside: dict[str, int] = {}  # layer -> logged steps in a row outside the range
        self._written = -1  # rows in the files last written
        # The step being logged: None on every other step.
        self._step: int | None = None
        self._handles: list[Any] = []
        self._layers: list[tuple[str, nn.Linear, nn.Module | None]] = []
        self._seen: dict[str, dict[str, torch.Tensor]] = {}  # layer -> tensor kind -> tensor
        self._summaries: dict[str, dict[str, tuple[dict[str, list], list[float]]]] = {}
        self._grads: dict[str, tuple[float, float]] = {}  # layer -> (grad norm, grad/data)
        self._before: dict[str, np.ndarray] = {}

    def state_dict(self) -> dict[str, Any]:
        return {
            "rows": list(self.rows),
            "warnings": list(self.warnings),
            "histograms": dict(self.histograms),
            "outside": dict(self._outside),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.rows = [dict(row) for row in state_dict["rows"]]
        self.warnings = [dict(w) for w in state_dict["warnings"]]
        self.histograms = dict(state_dict["histograms"])
        self._outside = dict(state_dict["outside"])

    @staticmethod
    def layers(pl_module: nn.Module) -> list[tuple[str, nn.Linear, nn.Module | None]]:
        """(name, Linear, activation module or None) for `hidden_<i>` blocks, then `output`."""
        found: list[tuple[str, nn.Linear, nn.Module | None]] = []
        for name, module in pl_module.named_modules():
            leaf = name.rsplit(".", 1)[-1]
            if leaf.startswith("hidden_") and isinstance(module, nn.Sequential):
                linear = getattr(module, "linear", None)
                if isinstance(linear, nn.Linear):
                    label = "hidden." + leaf.removeprefix("hidden_")
                    found.append((label, linear, getattr(module, "activation", None)))
            elif leaf == "output" and isinstance(module, nn.Linear):
                found.append(("output", module, None))
        return found

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        step = trainer.global_step
        if step % self.every_n_steps or not trainer.is_global_zero or self._handles:
            return
        self._step, self._seen, self._grads, self._before = step, {}, {}, {}
        self._layers = self.layers(pl_module)
        for name, _, activation in self._layers:
            if activation is not None:
                hook = self._forward_hook(name)
                self._handles.append(activation.register_forward_hook(hook))

    def _forward_hook(self, name: str) -> Any:
        def record(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: Any) -> None:
            if not module.training or not isinstance(output, torch.Tensor):
                return
            seen = self._seen[name] = {
                "preactivation": inputs[0].detach(),
                "activation": output.detach(),
            }
            if output.requires_grad:
                output.register_hook(lambda grad: seen.__setitem__("gradient", grad.detach()))

        return record

    def on_before_optimizer_step(
        self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer: Any
    ) -> None:
        if self._step is None:
            return
        # Before gradient clipping: an exploding gradient shows its real size.
        for name, linear, _ in self._layers:
            weight = _weight(linear)
            if weight.grad is None:
                continue
            grad, before = host(weight.grad), host(weight)
            norm = math.sqrt(float(np.square(grad).sum()))
            self._grads[name] = (norm, grad_data_ratio(grad, before))
            self._before[name] = before

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any
    ) -> None:
        # Not logged, or accumulating gradients: the optimizer has not stepped yet.
        if self._step is None or trainer.global_step <= self._step:
            return
        for handle in self._handles:
            handle.remove()
        self._handles = []
        step, epoch = self._step, trainer.current_epoch
        self._step = None
        rows, hists, self._summaries = [], {}, {}
        for name, linear, activation in self._layers:
            row = dict.fromkeys(COLUMNS)
            row.update(step=step, epoch=epoch, layer=name)
            seen = {k: host(v) for k, v in self._seen.get(name, {}).items()}
            if "activation" in seen:
                act = seen["activation"]
                row["act_mean"], row["act_std"] = float(np.mean(act)), float(np.std(act))
                kind = _kind(activation) if activation is not None else None
                if kind in ("tanh", "sigmoid"):
                    limits = (self.tanh_saturation, self.sigmoid_saturation)
                    row["saturated"] = saturated_fraction(act, kind, *limits)
                elif kind == "relu":
                    row["dead"] = dead_fraction(act)
                summaries = {k: _summarise(v, self.bins) for k, v in seen.items()}
                hists[name] = {k: hist for k, (hist, _) in summaries.items()}
                self._summaries[name] = summaries
            if name in self._grads:
                row["grad_norm"], row["grad_data_ratio"] = self._grads[name]
                row["update_ratio"] = update_ratio(self._before[name], host(_weight(linear)))
            rows.append(row)
        self.rows += rows
        record = {"step": step, "layers": hists}
        self.histograms.setdefault("first", record)
        self.histograms["last"] = record
        self._check(rows, step)
        self._to_tensorboard(trainer, rows, step)
        self._seen, self._before, self._summaries = {}, {}, {}

    def _to_tensorboard(self, trainer: L.Trainer, rows: list[dict[str, Any]], step: int) -> None:
        """`diag/<layer>/<metric>` scalars and `diag/<layer>/<tensor>` histograms."""
        for logger in trainer.loggers:
            if not isinstance(logger, TensorBoardLogger):
                continue
            writer = logger.experiment
            for row in rows:
                for metric in COLUMNS[3:]:
                    value = row[metric]
                    if value is not None and math.isfinite(value):
                        writer.add_scalar(f"diag/{row['layer']}/{metric}", value, step)
            # add_histogram_raw: the buckets computed once, for histograms.json too.
            for name, summaries in self._summaries.items():
                for kind, (hist, stats) in summaries.items():
                    if stats:
                        writer.add_histogram_raw(
                            f"diag/{name}/{kind}",
                            *stats,
                            bucket_limits=hist["edges"][1:],
                            bucket_counts=hist["counts"],
                            global_step=step,
                        )

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if len(self.rows) != self._written:  # an epoch without a logged step changes nothing
            self._write(trainer)

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._write(trainer)

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles, self._step = [], None
        self._write(trainer)

    def _write(self, trainer: L.Trainer) -> None:
        if not trainer.is_global_zero:
            return
        self._written = len(self.rows)
        out = Path(trainer.default_root_dir) / "diagnostics"
        write_text(out / "layers.csv", self.layers_csv())
        write_json(out / "histograms.json", self.histograms)
        write_json(out / "warnings.json", self.warnings)

    def layers_csv(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: _cell(row[k]) for k in COLUMNS})
        return out.getvalue()

    def _check(self, rows: list[dict[str, Any]], step: int) -> None:
        for row in rows:
            name, saturated, dead = row["layer"], row["saturated"], row["dead"]
            if saturated is not None and saturated > self.max_saturated:
                self._warn("saturated", name, step, value=saturated)
            if dead is not None and dead > self.max_dead:
                self._warn("dead", name, step, value=dead)
            self._check_update(name, row["update_ratio"], step)
            norm = row["grad_norm"]
            if norm is not None and not norm <= self.exploding_grad_norm:
                self._warn("exploding", name, step, value=norm, limit=self.exploding_grad_norm)
        norms = {r["layer"]: r["grad_norm"] for r in rows if r["layer"] != "output"}
        norms = {k: v for k, v in norms.items() if v is not None and math.isfinite(v)}
        if len(norms) >= 2:
            (first, low), (last, high) = next(iter(norms.items())), list(norms.items())[-1]
            if high > 0 and high > self.vanishing_factor * low:
                factor = f"{high / low:.3g}x" if low > 0 else "infinitely"
                self._warn("vanishing", None, step, first=first, last=last, factor=factor)

    def _check_update(self, name: str, ratio: float | None, step: int) -> None:
        if ratio is None or math.isnan(ratio):
            return
        inside = self.low <= ratio <= self.high
        self._outside[name] = 0 if inside else self._outside.get(name, 0) + 1
        if self._outside[name] >= self.patience:
            advice = "raise optimizer.lr" if ratio < self.low else "lower optimizer.lr"
            bounds = f"[{self.low:g}, {self.high:g}]"
            self._warn(
                "update_ratio",
                name,
                step,
                value=ratio,
                bounds=bounds,
                advice=advice,
                count=self._outside[name],
            )

    def _warn(self, condition: str, layer: str | None, step: int, **values: Any) -> None:
        """Record and log `condition` unless it fired for this layer before in this run."""
        if any(w["condition"] == condition and w["layer"] == layer for w in self.warnings):
            return
        message = MESSAGES[condition].format(layer=layer, step=step, **values)
        self.warnings.append(
            {"condition": condition, "layer": layer, "step": step, "message": message}
        )
        log.warning(message)


def _cell(value: Any) -> str:
    """A CSV cell: text as is, a blank for None or a non-finite number."""
    if value is None or isinstance(value, str):
        return value or ""
    if not math.isfinite(value):
        return ""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:.6g}"

"""K MLPs of one shape as one network: weights stacked along a leading model axis.

Each Linear becomes one batched matmul over the K models (`torch.baddbmm`), BatchNorm one call
over K x width channels (so each model keeps its own batch statistics and running averages),
dropout one mask per model drawn from that model's own generator. The K `MLPModule`s stay the
owners of their weights: after stacking, every module parameter and buffer is a view into the
stacked tensor, so a module's `state_dict()` is that model's current weights (a normal
checkpoint) and its own optimizer can step it.

Done this way, model k computes what it computes alone: the same matmul per slice, the same
per-channel statistics and the same dropout masks (drawn as `F.dropout` draws them, from a
generator holding the state the global one would hold in a sequential run).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from mlplab.models.module import MLPModule

# What the stacked form supports; any other module in a hidden block (PReLU's weights, RReLU's
# random slopes, AlphaDropout's affine noise, LayerNorm) makes a run train on its own.
STACKABLE = (nn.Linear, nn.BatchNorm1d, nn.Dropout)


def stackable(module: MLPModule) -> str | None:
    """Why `module` cannot train stacked (None: it can)."""
    if module.spec.input_kind != "dense":
        return "token (embedding) input"
    for name, sub in module.net.named_modules():
        if isinstance(sub, nn.PReLU | nn.RReLU | nn.AlphaDropout | nn.LayerNorm):
            return f"{type(sub).__name__} in {name}"
    return None


class StackedMLP(nn.Module):
    """The K modules' networks as one; `forward(x)` takes [K, batch, features]."""

    def __init__(self, modules: Sequence[MLPModule]) -> None:
        super().__init__()
        self.k = len(modules)
        self.members = list(modules)  # not registered: their tensors are views of ours
        first = modules[0]
        self.stacked = nn.ParameterDict()
        for name, _ in first.net.named_parameters():
            data = torch.stack([m.net.get_parameter(name).detach() for m in modules])
            self.stacked[_key(name)] = nn.Parameter(data)
            for k, m in enumerate(modules):
                m.net.get_parameter(name).data = self.stacked[_key(name)].data[k]
        self.buffer_names = [n for n, b in first.net.named_buffers() if b.is_floating_point()]
        for name in [*self.buffer_names, "input_shift", "input_scale"]:
            owner = "net." if name in self.buffer_names else ""
            data = torch.stack([m.get_buffer(owner + name) for m in modules])
            self.register_buffer(_key(owner + name), data)
            stacked = self.get_buffer(_key(owner + name))
            for k, m in enumerate(modules):
                module_name, _, attr = (owner + name).rpartition(".")
                holder = m.get_submodule(module_name) if module_name else m
                holder._buffers[attr] = stacked[k]

        self.plan = self._plan()

    def param(self, name: str) -> nn.Parameter:
        return self.stacked[_key(name)]

    def _plan(self) -> list[tuple[str, Any]]:
        """The layers in order, with the stacked tensors each one uses: looked up once."""
        plan: list[tuple[str, Any]] = []
        first = self.members[0].net
        for path, layer in first.named_modules():
            if isinstance(layer, nn.Linear):
                bias = self.param(f"{path}.bias") if layer.bias is not None else None
                plan.append(("linear", (self.param(f"{path}.weight"), bias)))
            elif isinstance(layer, nn.BatchNorm1d):
                counters = [m.net.get_buffer(f"{path}.num_batches_tracked") for m in self.members]
                tensors = [
                    self.get_buffer(_key(f"net.{path}.running_mean")).view(-1),
                    self.get_buffer(_key(f"net.{path}.running_var")).view(-1),
                    self.param(f"{path}.weight"),
                    self.param(f"{path}.bias"),
                ]
                plan.append(("batchnorm", (layer, tensors, counters)))
            elif isinstance(layer, nn.Dropout):  # each model's own rate (a batchable value)
                rates = [cast(nn.Dropout, m.net.get_submodule(path)).p for m in self.members]
                plan.append(("dropout", rates))
            elif not list(layer.children()):  # an elementwise activation: one serves all
                plan.append(("activation", layer))
        return plan

    def forward(
        self, x: torch.Tensor, generators: Sequence[torch.Generator] | None = None
    ) -> torch.Tensor:
        """Model-unit outputs [K, batch, out]; `generators` (one per model) draw the dropout
        masks in training mode."""
        shift = self.get_buffer("input_shift").unsqueeze(1)
        x = (x - shift) / self.get_buffer("input_scale").unsqueeze(1)
        for kind, what in self.plan:
            if kind == "linear" and self.k == 1:  # one model: nn.Linear's own product
                weight, bias = what
                x = F.linear(x[0], weight[0], None if bias is None else bias[0]).unsqueeze(0)
            elif kind == "linear":
                x = StackedLinear.apply(x, *what)
            elif kind == "batchnorm":
                x = self._batchnorm(x, *what)
            elif kind == "dropout":
                x = self._dropout(x, what, generators) if self.training else x
            else:
                x = what(x)
        return self.members[0].task.head(x)

    def _batchnorm(
        self,
        x: torch.Tensor,
        layer: nn.BatchNorm1d,
        tensors: list[torch.Tensor],
        counters: list[torch.Tensor],
    ) -> torch.Tensor:
        k, batch, width = x.shape
        # channel (k, j) is model k's unit j; one model needs no copy
        flat = x[0] if k == 1 else x.transpose(0, 1).reshape(batch, k * width)
        if self.training:
            for counter in counters:  # what BatchNorm1d.forward counts
                counter.add_(1)
        running_mean, running_var, weight, bias = tensors
        out = F.batch_norm(
            flat,
            running_mean,
            running_var,
            weight.reshape(-1),
            bias.reshape(-1),
            self.training,
            layer.momentum if layer.momentum is not None else 0.0,
            layer.eps,
        )
        return out.unsqueeze(0) if k == 1 else out.reshape(batch, k, width).transpose(0, 1)

    @staticmethod
    def _dropout(
        x: torch.Tensor, rates: list[float], generators: Sequence[torch.Generator] | None
    ) -> torch.Tensor:
        """Each model's F.dropout, drawn from its own generator: swapped in as the device's
        default for the call (F.dropout takes no generator), because a run alone draws its masks
        with F.dropout, and on CUDA its fused kernel draws otherwise than `bernoulli_`."""
        assert generators is not None, "training mode needs one generator per model"
        default = _default_generator(x.device)
        saved = default.get_state()
        parts = []
        try:
            for k, (p, generator) in enumerate(zip(rates, generators, strict=True)):
                if p > 0:
                    default.set_state(generator.get_state())
                    parts.append(F.dropout(x[k], p, training=True))
                    generator.set_state(default.get_state())
                else:
                    parts.append(x[k])
        finally:
            default.set_state(saved)
        return torch.stack(parts)


class StackedLinear(torch.autograd.Function):
    """K Linear layers: one batched matmul forward and for the input gradient; the weight
    gradient one `mm` per model, the product nn.Linear's backward computes (grad^T @ input):
    a batched matmul sums in another order, and its last-bit differences grow in training."""

    @staticmethod
    def forward(
        ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
    ) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        if bias is None:
            return torch.bmm(x, weight.transpose(1, 2))
        return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> Any:
        x, weight = ctx.saved_tensors
        grad_x = torch.bmm(grad, weight) if ctx.needs_input_grad[0] else None
        grad_w = torch.stack([torch.mm(g.t(), xk) for g, xk in zip(grad, x, strict=True)])
        grad_b = grad.sum(1) if ctx.has_bias else None
        return grad_x, grad_w, grad_b


def _key(name: str) -> str:
    return name.replace(".", "__")


def _default_generator(device: torch.device) -> torch.Generator:
    """The generator torch's random ops on `device` draw from when given none."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return torch.cuda.default_generators[index]
    if device.type == "mps":
        return torch.mps._get_default_mps_generator()
    return torch.default_generator

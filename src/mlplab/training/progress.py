"""Training progress on stdout, at a cost that does not depend on the number of steps.

In a terminal: one live line (epoch, step, the batch's loss, the last epoch's train/loss and
val metrics), redrawn at most every `refresh_seconds`, not every batch: a terminal redrawn per
batch halved the throughput of a small model (Rich's bar). Anywhere else (a log file, CI,
`| tee`) a live line is noise: one line per epoch at most, at most one every `log_seconds`,
and always the last epoch's, so a log of a 2000-epoch run stays a screen long.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ProgressBar


def _number(value: Any) -> str:
    value = float(value)
    return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"


class Progress(ProgressBar):
    def __init__(self, refresh_seconds: float, log_seconds: float) -> None:
        super().__init__()
        self.refresh_seconds, self.log_seconds = refresh_seconds, log_seconds
        self._enabled = True
        self._live = False  # stdout is a terminal: the live line
        self._next_draw = 0.0  # time.monotonic() after which the line may be drawn again
        self._next_line = 0.0
        self._epoch_start = 0.0
        self._batches = 0  # of this epoch, so far
        self._width = 0  # of the live line drawn last, to blank what a shorter one leaves
        self._pending = ""  # the last epoch's line, not yet printed (log mode)

    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        super().setup(trainer, pl_module, stage)
        self._live = sys.stdout.isatty()

    def _text(self, trainer: L.Trainer, done: int, step_loss: Any = None) -> str:
        epochs = trainer.max_epochs if trainer.max_epochs and trainer.max_epochs > 0 else "?"
        total = self.total_train_batches
        batches = total if isinstance(total, int) else "?"
        parts = [f"epoch {trainer.current_epoch + 1}/{epochs}", f"batch {done}/{batches}"]
        parts.append(f"step {trainer.global_step}")
        if step_loss is not None:
            parts.append(f"loss {_number(step_loss)}")
        # Epoch-level metrics: the last finished epoch's train/loss and validation's metrics.
        metrics = trainer.progress_bar_metrics
        parts += [
            f"{k} {_number(v)}" for k, v in metrics.items() if k.startswith(("train/", "val/"))
        ]
        return "  ".join(parts)

    def _draw(self, text: str) -> None:
        pad = " " * max(self._width - len(text), 0)
        sys.stdout.write(f"\r{text}{pad}")
        sys.stdout.flush()
        self._width = len(text)

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._epoch_start = time.monotonic()

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        self._batches = batch_idx + 1
        if not (self._enabled and self._live) or time.monotonic() < self._next_draw:
            return
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        self._draw(self._text(trainer, self._batches, loss))
        self._next_draw = time.monotonic() + self.refresh_seconds

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self._enabled or trainer.sanity_checking:
            return
        seconds = time.monotonic() - self._epoch_start
        text = f"{self._text(trainer, self._batches)}  {seconds:.2f} s/epoch"
        if self._live:  # the epoch's final state, then throttled again
            self._draw(text)
            self._next_draw = time.monotonic() + self.refresh_seconds
            last = (
                trainer.max_epochs is not None and trainer.current_epoch + 1 >= trainer.max_epochs
            )
            if last or trainer.should_stop:  # Lightning's "fit stopped" line comes next
                self._end_line()
            return
        self._pending = text
        if time.monotonic() >= self._next_line:
            self._print_pending()

    def _print_pending(self) -> None:
        if self._pending:
            print(self._pending, flush=True)
            self._pending = ""
            self._next_line = time.monotonic() + self.log_seconds

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self._enabled:
            return
        self._end_line()
        self._print_pending()  # the last epoch, always

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        # Ctrl-C or divergence: end the live line so the error starts on a line of its own.
        self._end_line()

    def _end_line(self) -> None:
        """Keep the live line on screen; what is printed next starts below it."""
        if self._enabled and self._live and self._width:
            sys.stdout.write("\n")
            sys.stdout.flush()
            self._width = 0

"""The progress seam of every training run: events a caller can print, draw or ignore."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class TrainingEvent:
    """One progress report."""

    stage: str  # "data", "baseline", "epoch", "batch", "evaluate", "done"
    model: str = ""  # which model, when it applies
    message: str = ""  # a human sentence
    epoch: int = 0
    epochs: int = 0
    batch: int = 0
    batches: int = 0
    metrics: dict | None = None  # loss, accuracy, val_loss, val_accuracy ...
    eta_seconds: float | None = None  # remaining time for this model (upper bound: max_epochs)


ProgressCallback = Callable[[TrainingEvent], None]

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
    epoch: int = 0  # a classifier's epoch; a language model's validation check
    epochs: int = 0
    batch: int = 0  # the batch within the epoch or check; a race cell's training step
    batches: int = 0  # batches in the epoch or check (0 when unknown: a race)
    metrics: dict | None = None  # what the stage measured: loss, val_accuracy, perplexity, a race point's test MSE ...
    # Estimated seconds left: of this epoch (a classifier's "batch" events), of its token budget (a language model),
    # of its time budget (a race cell); None when not estimated.
    eta_seconds: float | None = None


ProgressCallback = Callable[[TrainingEvent], None]

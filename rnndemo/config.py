"""Project-wide settings as frozen dataclasses (one comment per field)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rnndemo.registry import RECURRENT_NAMES

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_models_dir() -> Path:
    """The models folder: $RNNDEMO_MODELS_DIR if set, else `models/` in the project."""
    return Path(os.environ.get("RNNDEMO_MODELS_DIR", PROJECT_ROOT / "models"))


@dataclass(frozen=True)
class TrainingConfig:
    """Hyper-parameters shared by every cached model."""

    vocabulary_size: int = 20_000  # including 0 (padding) and 1 (out-of-vocabulary)
    sequence_length: int = 400  # the model reads the last 400 tokens of a review
    embedding_dim: int = 50  # matches glove.6B.50d
    recurrent_units: int = 64  # units of the SimpleRNN / LSTM layer
    dropout: float = 0.2  # dropout on the recurrent layer's inputs
    batch_size: int = 64  # reviews per gradient step
    learning_rate: float = 1e-3  # Adam
    clip_norm: float = 1.0  # gradient clipping; keeps the SimpleRNN stable on long inputs
    max_epochs: int = 15  # upper bound; the SimpleRNN was still improving on validation at 8
    patience: int = 2  # epochs without validation improvement before stopping
    seed: int = 1337  # seeds numpy, TensorFlow and Python's random
    bucket_boundaries: tuple[int, ...] = (64, 128, 192, 256, 320)  # length buckets for batching
    train_limit: int | None = None  # use only this many training reviews (tests)
    model_names: tuple[str, ...] = RECURRENT_NAMES  # which recurrent models to train
    memory_experiment: bool = True  # also recompute the short-memory experiment for the new models


@dataclass(frozen=True)
class SplitConfig:
    """How the 25,000 IMDB reviews are split; fixed so every machine gets the same split."""

    seed: str = "rnndemo-split-v1"  # salt of the hash that orders reviews
    validation_per_label: int = 1_250  # reviews per label for early stopping
    test_per_label: int = 1_250  # reviews per label, never used for training or tuning


@dataclass(frozen=True)
class Limits:
    """Input bounds that keep the app responsive; shown to users where they bite."""

    max_text_characters: int = 100_000  # longer pasted text is cut to this many characters
    max_url_text_characters: int = 5_000  # the ?text= query parameter
    max_batch_rows: int = 5_000  # rows in the batch-check page
    max_batch_columns: int = 50  # columns of an uploaded CSV (a 200,000-column file cost 24 s of CPU per rerun)
    max_upload_megabytes: int = 10  # also server.maxUploadSize in .streamlit/config.toml
    max_word_characters: int = 100  # a neighbour query word longer than this is refused


TRAINING = TrainingConfig()
SPLIT = SplitConfig()
LIMITS = Limits()

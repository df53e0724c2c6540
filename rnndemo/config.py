"""Project-wide settings as frozen dataclasses (one comment per field)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rnndemo.registry import EXPERIMENT_NAMES, NEURAL_NAMES

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_models_dir() -> Path:
    """The models folder: $RNNDEMO_MODELS_DIR if set, else `models/` in the project."""
    return Path(os.environ.get("RNNDEMO_MODELS_DIR", PROJECT_ROOT / "models"))


@dataclass(frozen=True)
class LanguageModelConfig:
    """Hyper-parameters of the SimpleRNN and LSTM language models (both use the same)."""

    vocabulary_size: int = 10_000  # N classifier words (padding and [UNK] included); "</review>" makes V = N + 1
    units: int = 256  # recurrent units
    embedding_dim: int = 50  # matches GloVe 6B-50d; also the width of the tied output projection
    tied: bool = True  # output layer shares the input embedding (small files, much faster learning)
    window: int = 100  # tokens per training window (backpropagation through time stops at its start)
    batch_size: int = 64  # windows per gradient step
    learning_rate: float = 3e-3  # Adam; halved at every validation check without improvement (3e-3 beat 2e-3)
    decay_to: float = 1.0  # final rate as a fraction of the start (cosine; 1 = constant: a decay to 0.05 lost)
    clip_norm: float = 1.0  # gradient clipping by global norm; keeps the SimpleRNN stable
    token_budget: int = 8_000_000  # predicted training tokens per model; the same for every kind
    max_seconds: float | None = 1_200.0  # wall-clock safety stop per model (None: no limit)
    evaluate_every: int = 1_000_000  # training tokens between validation checks
    validation_reviews: int = 400  # first reviews of the validation split scored at each check (fixed subset)
    patience: int = 3  # validation checks without improvement before stopping early
    unigram_bias: bool = True  # start the output bias at the log unigram frequencies of the train stream
    seed: int = 1337  # seeds numpy, TensorFlow and Python's random
    ngram_discount: float = 0.75  # the Kneser–Ney absolute discount, every order
    memory_reviews: int = 100  # test reviews scored at each context length of the memory experiment
    memory_contexts: tuple[int | None, ...] = (1, 2, 4, 8, 16, 32, None)  # None = the whole review
    test_reviews: int | None = None  # score only the first N test reviews (smoke tests); None = the whole split


@dataclass(frozen=True)
class ClassifierConfig:
    """One Keras classifier's shape and training choices (chosen on validation: docs/EXPERIMENTS.md)."""

    name: str  # the registry name: "rnn", "lstm", "gru", "dfn" or "cnn"
    units: int = 64  # recurrent units; the DFN's hidden units; the CNN's filters per width
    readout: str = "last"  # "last": the final state; "mean": the mean of the states over the real tokens
    dropout: float = 0.0  # dropout on the recurrent layer's inputs
    spatial_dropout: float = 0.0  # drops whole embedding channels of a review
    output_dropout: float = 0.0  # dropout on the readout before the classifier
    learning_rate: float = 1e-3  # Adam
    initialise_from: str = "glove"  # "glove", or "language_model": the LSTM LM's embedding and recurrent layer
    max_epochs: int | None = None  # this model's bound (None: the run's max_epochs); early stopping may stop sooner
    learning_rate_decay: float = 1.0  # epoch e trains at learning_rate * decay ** (e - 1)
    select_by: str = "loss"  # keep the epoch of the lowest validation "loss" or the highest validation "accuracy"
    kernel_widths: tuple[int, ...] = (3, 4, 5)  # the CNN's convolution widths (ignored by the other models)


# Chosen on validation accuracy (docs/EXPERIMENTS.md). The LSTM's 256 units are the LSTM language model's,
# whose recurrent layer and embedding it starts from; without that model it starts from GloVe.
# Every classifier keeps the epoch of its highest validation accuracy (one rule, issue 24): the recorded validation
# curves of all five showed accuracy still rising after the loss had flattened.
CLASSIFIERS: tuple[ClassifierConfig, ...] = (
    ClassifierConfig("rnn", units=64, readout="mean", spatial_dropout=0.2, output_dropout=0.3, select_by="accuracy"),
    ClassifierConfig(
        "lstm",
        units=256,
        spatial_dropout=0.25,
        output_dropout=0.3,
        initialise_from="language_model",
        select_by="accuracy",  # its validation accuracy kept rising for 6 epochs while the loss flattened
        max_epochs=6,  # ~112 s an epoch: six keep retraining every classifier under 20 minutes
    ),
    ClassifierConfig("gru", units=64, spatial_dropout=0.2, output_dropout=0.3, select_by="accuracy"),
    # Not recurrent, the lesson's contrast (issue 24): the same data, GloVe start and batches. Like the LSTM's, their
    # validation accuracy kept rising while the loss flattened (first run: DFN 0.875 at its lowest loss, epoch 2,
    # and 0.892 at epoch 4), so they keep the epoch of the highest validation accuracy. ~3 s (DFN) and ~15 s (CNN)
    # an epoch on 2 CPU cores.
    ClassifierConfig(
        "dfn",
        units=64,
        spatial_dropout=0.2,
        output_dropout=0.3,
        learning_rate=2e-3,
        max_epochs=10,
        select_by="accuracy",
    ),
    ClassifierConfig("cnn", units=64, spatial_dropout=0.2, output_dropout=0.3, max_epochs=8, select_by="accuracy"),
    # The memory experiment's textbook plain RNN (issue 22), never served: the served SimpleRNN's shape, dropouts,
    # rate and stopping rule (highest validation accuracy), with the last state as its readout.
    ClassifierConfig(
        "rnn_last", units=64, readout="last", spatial_dropout=0.2, output_dropout=0.3, select_by="accuracy"
    ),
)


@dataclass(frozen=True)
class TrainingConfig:
    """Hyper-parameters shared by every cached model."""

    vocabulary_size: int = 20_000  # including 0 (padding) and 1 (out-of-vocabulary)
    sequence_length: int = 400  # the model reads the last 400 tokens of a review
    embedding_dim: int = 50  # matches glove.6B.50d
    classifiers: tuple[ClassifierConfig, ...] = CLASSIFIERS  # each Keras classifier's own choices
    batch_size: int = 64  # reviews per gradient step
    clip_norm: float = 1.0  # gradient clipping; keeps the SimpleRNN stable on long inputs
    max_epochs: int = 15  # upper bound; early stopping ends every model sooner
    patience: int = 2  # epochs without validation improvement before stopping
    seed: int = 1337  # seeds numpy, TensorFlow and Python's random
    train_limit: int | None = None  # use only this many training reviews (tests)
    model_names: tuple[str, ...] = NEURAL_NAMES  # which Keras classifiers to train
    # trained beside the classifiers for the memory experiment only (never served), when it is recomputed
    experiment_names: tuple[str, ...] = EXPERIMENT_NAMES
    memory_experiment: bool = True  # also recompute the short-memory experiment for the new models
    parts: tuple[str, ...] = ("classifiers", "language_models")  # what `train` builds
    language_model: LanguageModelConfig = LanguageModelConfig()  # the next-word models

    def classifier(self, name: str) -> ClassifierConfig:
        """The choices for recurrent classifier `name`."""
        for choice in self.classifiers:
            if choice.name == name:
                return choice
        raise ValueError(f"no classifier configuration for {name!r}")


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
    batch_cache_megabytes: int = 512  # parsed uploads and their scores, for every visitor together
    batch_cache_megabytes_per_visitor: int = 128  # one visitor's share: their uploads evict only their own
    batch_cache_minutes: int = 15  # an upload's table and scores are kept this long
    max_word_characters: int = 100  # a neighbour query word longer than this is refused
    max_language_model_tokens: int = 2_000  # language models read the last 2,000 tokens ((time, 10,001) floats each)
    max_generated_words: int = 50  # words one generation adds: the language-model page's slider and `generate --words`
    # The largest seed anyone types: the language-model page's seed box, `generate --seed` and `race --seed`. One rule
    # for every seed, 0 to 2**31 − 1 (a signed 32-bit integer): the narrower of the two bounds there were, so every
    # seed the page ever accepted still works.
    max_seed: int = 2**31 - 1
    min_temperature: float = 0.1  # sampling temperatures, the page's slider and `generate --temperature`: below 0.1
    max_temperature: float = 2.0  # sampling is all but greedy, above 2 near uniform over the words the cut keeps


TRAINING = TrainingConfig()
SPLIT = SplitConfig()
LIMITS = Limits()

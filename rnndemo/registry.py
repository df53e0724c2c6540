"""The one list of models: names, display names, kinds, layers, colours and files.

CLI choices, pages, training, serving, evaluation, memory, the charts' colours (plots.MODEL_COLORS is `COLORS`) and
the language models' Keras classes read this module; the Inside page picks each model's gate view by its layer type
(an LSTM gets the LSTM's gates and cell state, whatever its name). A new model is one entry here (issue 26, item 3).
It imports nothing from the package, so any module can use it without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSpec:
    """One servable model."""

    name: str  # the key in the CLI, JSON outputs, URLs and the manifest
    display_name: str  # what visitors read
    # "recurrent", "feedforward" or "convolutional" (Keras classifiers), "baseline" (TF-IDF), "language" (a Keras
    # language model) or "ngram" (a Kneser–Ney n-gram)
    kind: str
    layer: str | None  # the Keras class of the layer that makes the model what it is (recurrent, Conv1D or Dense)
    file: str  # the artifact's file name in the models folder
    color: str | None = None  # its colour in every chart (None: Plotly's own)
    short_name: str | None = None  # for headings in a quarter of the page (None: the display name)


MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("rnn", "SimpleRNN", "recurrent", "SimpleRNN", "rnn.keras", color="#EF553B"),
    ModelSpec("lstm", "LSTM", "recurrent", "LSTM", "lstm.keras", color="#636EFA"),
    ModelSpec("gru", "GRU", "recurrent", "GRU", "gru.keras", color="#FFA15A"),
    # Not recurrent: the lesson's contrast. The DFN reads the mean of the word vectors (order-blind by construction);
    # the CNN reads windows of 3 to 5 words (local order only).
    ModelSpec(
        "dfn", "Feed-forward network (DFN)", "feedforward", "Dense", "dfn.keras", color="#19D3F3", short_name="DFN"
    ),
    ModelSpec("cnn", "1-D CNN", "convolutional", "Conv1D", "cnn.keras", color="#B6E880"),
    ModelSpec(
        "baseline",
        "TF-IDF + logistic regression",
        "baseline",
        None,
        "baseline.json",
        color="#7f7f7f",
        short_name="TF-IDF baseline",  # "TF-IDF + logistic regression" takes two lines in a quarter of the page
    ),
)
BY_NAME = {spec.name: spec for spec in MODELS}

# Trained only for the memory experiment and never served (Compare, the CLI's predict and the model cards leave it
# out): the textbook plain RNN, which classifies its last state h_T. The served SimpleRNN reads the mean of its
# states, a fix that keeps early words in the verdict; this one shows the short memory the slide describes.
EXPERIMENT_MODELS: tuple[ModelSpec, ...] = (
    # The SimpleRNN's red, darker.
    ModelSpec("rnn_last", "SimpleRNN (last state)", "recurrent", "SimpleRNN", "rnn_last.keras", color="#8B1A10"),
)
EXPERIMENT_BY_NAME = {spec.name: spec for spec in EXPERIMENT_MODELS}
EXPERIMENT_NAMES: tuple[str, ...] = tuple(EXPERIMENT_BY_NAME)
EXPERIMENT_LAYERS: dict[str, str] = {spec.name: spec.layer for spec in EXPERIMENT_MODELS}
EXPERIMENT_DISPLAY_NAMES: dict[str, str] = {spec.name: spec.display_name for spec in EXPERIMENT_MODELS}

# Next-word models. Their keys ("rnn", "lstm", "ngram") are those of the CLI's JSON "models" objects;
# they live in their own table because "rnn" and "lstm" also name the classifiers.
LANGUAGE_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("rnn", "SimpleRNN language model", "language", "SimpleRNN", "lm_rnn.keras", color="#EF553B"),
    ModelSpec("lstm", "LSTM language model", "language", "LSTM", "lm_lstm.keras", color="#636EFA"),
    ModelSpec("ngram", "Kneser–Ney trigram", "ngram", None, "lm_ngram.npz", color="#AB63FA"),
)
# Lower-order n-grams, reported beside the trigram as references: `evaluate` scores their files, and the model
# cards list their perplexity from the manifest (the bigram's also drawn); no page offers their next words.
LANGUAGE_REFERENCES: tuple[ModelSpec, ...] = (
    ModelSpec("bigram", "Kneser–Ney bigram", "ngram", None, "lm_bigram.npz"),
    ModelSpec("unigram", "unigram", "ngram", None, "lm_unigram.npz"),
)
LANGUAGE_BY_NAME = {spec.name: spec for spec in LANGUAGE_MODELS + LANGUAGE_REFERENCES}
NEURAL_LANGUAGE_NAMES: tuple[str, ...] = tuple(spec.name for spec in LANGUAGE_MODELS if spec.kind == "language")
# The Keras class of each neural language model's recurrent layer.
LANGUAGE_LAYERS: dict[str, str] = {spec.name: spec.layer for spec in LANGUAGE_MODELS if spec.kind == "language"}
LANGUAGE_DISPLAY_NAMES: dict[str, str] = {
    spec.name: spec.display_name for spec in LANGUAGE_MODELS + LANGUAGE_REFERENCES
}

NEURAL_KINDS: tuple[str, ...] = ("recurrent", "feedforward", "convolutional")  # Keras classifiers over word ids
RECURRENT_NAMES: tuple[str, ...] = tuple(spec.name for spec in MODELS if spec.kind == "recurrent")
NEURAL_NAMES: tuple[str, ...] = tuple(spec.name for spec in MODELS if spec.kind in NEURAL_KINDS)
NOT_RECURRENT_NAMES: tuple[str, ...] = tuple(name for name in NEURAL_NAMES if name not in RECURRENT_NAMES)
CLASSIFIER_NAMES: tuple[str, ...] = tuple(spec.name for spec in MODELS if spec.kind in (*NEURAL_KINDS, "baseline"))
# The Keras layer of every recurrent classifier that can be built, served or experiment-only.
RECURRENT_KINDS: dict[str, str] = {
    spec.name: spec.layer for spec in MODELS + EXPERIMENT_MODELS if spec.kind == "recurrent"
}
NEURAL_LAYERS: dict[str, str] = {spec.name: spec.layer for spec in MODELS if spec.kind in NEURAL_KINDS}
DISPLAY_NAMES: dict[str, str] = {spec.name: spec.display_name for spec in MODELS}
SHORT_NAMES: dict[str, str] = {spec.name: spec.short_name or spec.display_name for spec in MODELS}
# Each model's colour in every chart. A language model shares its name and colour with the classifier of its layer.
COLORS: dict[str, str] = {
    spec.name: spec.color
    for spec in MODELS + EXPERIMENT_MODELS + LANGUAGE_MODELS + LANGUAGE_REFERENCES
    if spec.color is not None
} | {"glove": "#00CC96"}  # the GloVe vectors, drawn beside the models' own embeddings


def display_name(name: str) -> str:
    """The visitor-facing name of `name` (the name itself when unknown)."""
    return DISPLAY_NAMES.get(name, name)


# Time series (issue 23): the series `forecast --series` takes (their configuration: rnndemo.forecasting.SERIES).
FORECAST_SERIES: tuple[str, ...] = ("co2", "sunspots")

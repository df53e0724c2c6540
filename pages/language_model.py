"""Language model: the same recurrent machinery with a sequence as output, predicting the next word."""

import numpy as np
import pandas as pd
import streamlit as st

from rnndemo import language_model_plots, ui
from rnndemo.config import LIMITS, default_models_dir
from rnndemo.explain import readable_rows
from rnndemo.models import LANGUAGE_MEMORY_FILE
from rnndemo.next_word import (
    PERPLEXITY_DECIMALS,
    perplexity_table,
    repetition_note,
    step_predictions,
    surprise_contrast,
    top_words,
)
from rnndemo.registry import LANGUAGE_DISPLAY_NAMES
from rnndemo.text import tokenize
from rnndemo.vocab import END_TOKEN, OOV_TOKEN


def tokens_or_stop(*, text: str, loaded) -> tuple[list[str], list[int]]:
    """The text's tokens and language-model ids (the last 2,000); a text without words stops the page."""
    tokens = tokenize(text)
    if not tokens:
        st.warning("The text has no words once cleaned; type a few words to see what comes next.")
        st.stop()
    limit = LIMITS.max_language_model_tokens
    if len(tokens) > limit:
        ui.truncation_notice(limit, len(tokens) - limit)
        tokens = tokens[-limit:]
    return tokens, loaded.vocabulary.encode_tokens(tokens)


def unrolled_graph(*, loaded, tokens: list[str], ids: list[int]) -> None:
    """The seed slide's graph with real values: inputs x_t, states h_t, each model's likeliest next word."""
    words = loaded.vocabulary.words
    predictions = {name: step_predictions(model, ids, words, 8) for name, model in loaded.models.items()}
    with st.container(key="lm_graph_scroll"):  # scrolls sideways on a phone (ui.widgets._READABLE_CSS)
        ui.plotly_chart(
            language_model_plots.language_model_graph(tokens, predictions, LANGUAGE_DISPLAY_NAMES),
            key="lm_graph",
            width="stretch",
        )
    st.caption(
        "Each column is one step: the model reads the word xₜ, updates its state hₜ, and outputs a probability "
        "for every one of the vocabulary's words as the next one; the likeliest is shown with its probability."
    )


# Predictions that are not words to type: the end of the review, and "some word outside the vocabulary".
NOT_WORDS = {END_TOKEN: "the model says the review ends here", OOV_TOKEN: "some word outside the vocabulary"}


def suggestion_buttons(*, name: str, candidates: list[tuple[str, float]], key: str) -> None:
    """One model's likeliest next words as buttons; a click appends the word to the text."""
    st.markdown(f"**{LANGUAGE_DISPLAY_NAMES.get(name, name)}**")
    for position, (word, probability) in enumerate(candidates):
        st.button(
            f"{word} · {probability:.1%}",
            key=f"{key}_{name}_{position}",
            on_click=ui.append_word,
            args=(word,),
            disabled=word in NOT_WORDS,  # appending "[UNK]" would type a word the text cleaner reads as "unk"
            help=NOT_WORDS.get(word, "append this word to the text"),
            width="stretch",
        )


def next_words(*, loaded, ids: list[int], key: str) -> None:
    """Next word as you type: each model's top-k as bars, side by side, and as buttons that append the word."""
    k = st.slider("How many next words", 3, 15, 8, **ui.option("lm_k"))
    words = loaded.vocabulary.words
    candidates = {name: top_words(model, ids, words, k) for name, model in loaded.models.items()}
    with st.container(key=f"{key}_bars_scroll"):  # scrolls sideways on a phone (ui.widgets._READABLE_CSS)
        ui.plotly_chart(
            language_model_plots.next_word_bars(candidates, LANGUAGE_DISPLAY_NAMES), key=f"{key}_bars", width="stretch"
        )
    for column, (name, values) in zip(st.columns(len(candidates)), candidates.items()):
        with column:
            suggestion_buttons(name=name, candidates=values[:5], key=key)


def generation_settings() -> dict:
    """Temperature, top-k, seed and length of the generated continuation."""
    left, middle, right = st.columns(3)
    temperature = left.slider(
        "Temperature",
        LIMITS.min_temperature,
        LIMITS.max_temperature,
        1.0,
        0.1,
        **ui.option("lm_temperature"),
        help="below 1: safer, repetitive words; above 1: riskier, stranger words",
    )
    top_k = middle.selectbox(
        "Sample among the top k words",
        [0, 5, 10, 40, 100],
        index=3,
        format_func=lambda value: "all words" if value == 0 else str(value),
        **ui.option("lm_top_k"),
    )
    seed = right.number_input(
        "Seed",
        0,
        LIMITS.max_seed,
        0,
        1,
        **ui.option("lm_seed"),
        help="the same seed and settings give the same words",
    )
    exclude_unknown = st.toggle(
        f"Never sample {OOV_TOKEN}",
        True,
        **ui.option("lm_exclude_unknown"),
        help=f"{OOV_TOKEN} stands for every word outside the vocabulary; on, its probability is set to 0 "
        "and the other words' probabilities are rescaled to sum to 1 before each draw",
    )
    return {
        "temperature": float(temperature),
        "top_k": int(top_k) or None,
        "seed": int(seed),
        "exclude_unknown": bool(exclude_unknown),
    }


def _set_words(count: int) -> None:
    """Button callback: the number of generated words (the widget's own key, before it is drawn)."""
    st.session_state["lm_words"] = max(1, min(LIMITS.max_generated_words, count))


def generation(*, loaded, ids: list[int], key: str) -> None:
    """Generation step by step: both models continue the text, each word with its probability."""
    settings = generation_settings()
    # The buttons below set this slider through its key, so its default lives in the session, not in a value=.
    st.session_state.setdefault("lm_words", 10)
    count = st.slider("Words to generate", 1, LIMITS.max_generated_words, **ui.option("lm_words"))
    step, reset = st.columns(2)
    step.button(
        "Next step (+1 word)",
        key=f"{key}_step",
        on_click=_set_words,
        args=(count + 1,),
        width="stretch",
        disabled=count >= LIMITS.max_generated_words,
    )
    reset.button("Back to 1 word", key=f"{key}_reset", on_click=_set_words, args=(1,), width="stretch")
    names = list(loaded.neural_models())
    for column, name in zip(st.columns(len(names)), names):
        generated = ui.generated_words(str(default_models_dir()), name, tuple(ids), count, **settings)
        with column:
            st.markdown(f"**{LANGUAGE_DISPLAY_NAMES[name]}**")
            generated_table(generated=generated, key=f"{key}_{name}_table")
            words = [item.word for item in generated if item.word != END_TOKEN]
            ended = bool(generated) and generated[-1].word == END_TOKEN
            st.text("… " + " ".join(words) + (" [end of review]" if ended else ""))
            st.caption(repetition_note(words, quote=lambda word: ui.literal(word, 30)))
    st.caption(
        "probability: how likely the model found the word after the text so far; chance of this draw: its share "
        "of the distribution it was drawn from, after the temperature, the top-k cut and the "
        f"{OOV_TOKEN} switch; likeliest draws: the words that could have come at this step, with their chance."
    )


def generated_table(*, generated: list, key: str) -> None:
    """Each generated word with its probability, its chance of being drawn, and the likeliest alternatives."""
    ui.dataframe(
        pd.DataFrame(
            {
                "step": range(1, len(generated) + 1),
                "word": [item.word for item in generated],
                "probability": [item.probability for item in generated],
                "chance of this draw": [item.chance for item in generated],
                "likeliest draws here": [
                    " · ".join(f"{word} {chance:.1%}" for word, chance in item.alternatives) for item in generated
                ],
            }
        ),
        hide_index=True,
        key=key,
    )


def surprise(*, loaded, tokens: list[str], ids: list[int]) -> None:
    """Each token coloured by each model's surprisal, with the per-model perplexity."""
    surprisals = {name: model.surprisal(ids) for name, model in loaded.models.items()}
    columns = st.columns(len(surprisals))
    for column, (name, values) in zip(columns, surprisals.items()):
        column.metric(
            f"{LANGUAGE_DISPLAY_NAMES[name]} · perplexity",
            f"{float(np.exp(values.mean())):.1f}",
            help="exp(mean surprisal) over this text's tokens; lower means less surprised",
        )
    shown = st.selectbox(
        "Colour the text by",
        list(surprisals),
        format_func=lambda name: LANGUAGE_DISPLAY_NAMES.get(name, name),
        **ui.option("lm_surprise_model"),
    )
    st.html(language_model_plots.surprise_html(tokens, surprisals[shown]))
    st.html(language_model_plots.surprise_legend_html())
    st.caption(
        f"Surprisal is −ln p(word | the words before it), in nats (1 nat = 1/ln 2 ≈ {1 / np.log(2):.2f} bits); "
        "hover a word for its value. The colour deepens up to the last swatch and stays there."
    )
    st.caption(
        "Deep red: the model gave that word a low probability. The trigram counts every three-word sequence of the "
        "training reviews, so on a review it was trained on (the lesson's example is in the train split) its "
        "perplexity collapses: memorisation, not understanding. Paste a review of your own to compare fairly."
    )
    if {"rnn", "lstm"} <= set(surprisals):
        rows = surprise_contrast(tokens, surprisals["lstm"], surprisals["rnn"])
        if rows:
            st.caption(
                "Where the LSTM is least surprised compared with the SimpleRNN: "
                + "; ".join(
                    f"{ui.literal(row['token'], 30)} (token {row['position']}, {row['nats_less']:.1f} nats less)"
                    for row in rows
                )
                + "."
            )


def memory(*, loaded) -> None:
    """Held-out perplexity against the context each model may see (the "short memory" claim, measured again)."""
    result = loaded.memory_result(default_models_dir())
    if result is None:
        st.info("The context experiment is not in this models folder; retrain with: python -m rnndemo train --only lm")
        return
    ui.shared_chart(  # the chart of a verified file: built once per server, whoever asks
        lambda: language_model_plots.context_memory_figure(result, LANGUAGE_DISPLAY_NAMES),
        cache_key=("lm_memory", loaded.manifest["files"][LANGUAGE_MEMORY_FILE]),
        key="lm_memory",
    )
    st.caption(
        f"{result['tokens']:,} predicted tokens of {result['reviews']} held-out test reviews. With k tokens of "
        "context each prediction starts from a fresh state k tokens back; the trigram never looks past 2."
    )


def heldout_table(*, loaded) -> None:
    """The held-out perplexity of every language model, from the manifest (recomputed by `evaluate`)."""
    rows = perplexity_table(loaded.manifest.get("language_models", {}), LANGUAGE_DISPLAY_NAMES)
    table = pd.DataFrame(readable_rows(rows, PERPLEXITY_DECIMALS))
    st.dataframe(table, hide_index=True, key="lm_heldout")
    entry = loaded.manifest.get("language_model_vocabulary", {})
    st.caption(
        f"Test split, every predicted token counted (words, [UNK] and the end of each review). Vocabulary: the "
        f"classifiers' first {entry.get('classifier_words', 0):,} words plus {END_TOKEN}; "
        f"{entry.get('test_oov_rate', float('nan')):.1%} of test tokens are [UNK]."
    )


ui.leave_legacy_router()
st.title("Language model: the next word")
st.caption(
    "The same recurrent layers, now with a sequence as output: after every word the model predicts the next one. "
    "A SimpleRNN and an LSTM read the same tokens as the classifiers; "
    "a Kneser–Ney trigram is the count-based reference."
)
loaded = ui.language_models_or_stop()
review = ui.text_input("lm", label="Your text (the models continue it)")
tokens, ids = tokens_or_stop(text=review, loaded=loaded)
st.subheader("The graph: one step per word")
unrolled_graph(loaded=loaded, tokens=tokens, ids=ids)
st.subheader("Next word as you type")
next_words(loaded=loaded, ids=ids, key="lm_next")
st.subheader("Generation, step by step")
generation(loaded=loaded, ids=ids, key="lm_generate")
st.subheader("Surprise: how unexpected is each word?")
surprise(loaded=loaded, tokens=tokens, ids=ids)
st.subheader("The memory of a language model, measured")
memory(loaded=loaded)
st.subheader("Held-out perplexity")
heldout_table(loaded=loaded)

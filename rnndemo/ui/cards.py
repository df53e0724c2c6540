"""What each model did with a labelled text and why: the label callout and the "why it said that" cards."""

from __future__ import annotations

import streamlit as st

from rnndemo.ui.loaders import cached_word_statistics, inspect_text, occlusion_importance
from rnndemo.ui.state import STEP_PARAMETER, view_parameters
from rnndemo.ui.widgets import literal


def verdict_mark(verdict: str, truth) -> str:
    """A check or a cross to put after a verdict ("positive"/"negative") when the true label is known; else ""."""
    if truth is None:
        return ""
    return " ✓" if verdict == truth.name else " ✗"


def label_callout(*, predictions: dict, truth, baseline=None, review: str = "") -> None:
    """For a labelled text: its label, and what each model did and why, read off its own running prediction
    (the baseline, which has none, by its strongest TF-IDF terms)."""
    from rnndemo.evaluation import describe_verdict, verdict_story
    from rnndemo.registry import display_name

    if truth is None or not predictions:
        return
    lines, right = [], 0
    for name, prediction in predictions.items():
        stepped = bool(prediction.trajectory)
        story = verdict_story(
            truth.label,
            prediction.probability_positive,
            prediction.trajectory if stepped else None,
            prediction.tokens if stepped else None,
        )
        sentence = describe_verdict(story, quote=lambda token: literal(token, 40))
        if name == "baseline" and baseline is not None:
            terms = baseline.contributions(review, top=3)
            sentence += " Its strongest terms: " + ", ".join(f"{literal(t, 40)} ({v:+.2f})" for t, v in terms) + "."
        lines.append(f"- **{display_name(name)}** {'✓' if story.correct else '✗'} {sentence}")
        right += story.correct
    caution = " It is a training review, so this is no test of the models." * truth.trained_on
    header = (
        f"This review is labelled **{truth.name}** {truth.source}: {right} of {len(lines)} models got it right."
        + caution
    )
    (st.success if right == len(lines) else st.warning)(header + "\n\n" + "\n".join(lines))


# Up to this many tokens the cards are drawn at once; a longer review's cards wait for a click. Reading the text
# again without each word costs the LSTM(256) 0.16 s at 144 tokens and 1.18 s at 408 (docs/PERFORMANCE.md),
# and in a class most dataset reviews have a wrong or uncertain model, so every submit paid it.
WHY_CARDS_AT_ONCE_TOKENS = 200


def _remember_cards_asked(asked: str, digest: str) -> None:
    st.session_state[asked] = digest


def _cards_wanted(review: str, predictions: dict, reasons: dict, key: str) -> bool:
    """Whether to draw the cards now: a short review always; a long one once the visitor asks (kept per text)."""
    import hashlib

    from rnndemo.registry import display_name

    tokens = max(len(predictions[name].trajectory) for name in reasons)
    asked = f"{key}_why_asked"
    digest = hashlib.sha256(review.encode("utf-8", "surrogatepass")).hexdigest()
    if tokens <= WHY_CARDS_AT_ONCE_TOKENS or st.session_state.get(asked) == digest:
        return True
    names = ", ".join(display_name(name) for name in reasons)
    # A callback, not the button's return value: the press must survive a rerun that the page's URL sync may
    # start before the button is drawn again.
    st.button(
        f"Why did the {names} say that?",
        key=f"{key}_why_button",
        icon=":material/help:",
        on_click=_remember_cards_asked,
        args=(asked, digest),
    )
    st.caption(
        f"Explaining means reading this {tokens}-token review again without each word, once per model "
        "(about a second for the LSTM): press the button to see it."
    )
    return False


def why_cards(*, bundle, review: str, predictions: dict, truth, key: str) -> None:
    """A "why it said that" card for each recurrent model whose verdict is wrong or uncertain (rnndemo.explain):
    its last crossing of 0.5, the words whose removal flips it with their training counts, its gates, and a link
    to the Inside page's stepper at that token."""
    from rnndemo import explain
    from rnndemo.inspect import log_odds_importance
    from rnndemo.registry import RECURRENT_NAMES, display_name

    models_dir = str(bundle.models_dir)
    reasons = {
        name: explain.card_reason(prediction.probability_positive, None if truth is None else truth.label)
        for name, prediction in predictions.items()
        # The baseline has no running prediction to explain; the DFN and the CNN no states or gates.
        if prediction.trajectory and name in RECURRENT_NAMES and name in bundle.classifiers
    }
    reasons = {name: reason for name, reason in reasons.items() if reason is not None}
    if not reasons or not _cards_wanted(review, predictions, reasons, key):
        return
    statistics = cached_word_statistics(models_dir)
    for name, reason in reasons.items():
        with st.spinner(f"Reading the text again without each word, for the {display_name(name)}…"):
            inspection = inspect_text(models_dir, name, review)  # cached per text; the Inside page reuses it
            importance = occlusion_importance(models_dir, name, review)
        effects = log_odds_importance(inspection.trajectory[-1], importance)
        counts = statistics if not isinstance(statistics, str) else None
        card = explain.why_card(
            reason=reason,
            trajectory=inspection.trajectory,
            tokens=inspection.tokens,
            effects=effects,
            statistics=counts,
            gates=inspection.gates,
        )
        verdict = "positive" if card.positive else "negative"
        low, high = explain.UNCERTAIN
        against = f", labelled {truth.name}" if reason == "wrong" else f", uncertain: within {low:g}–{high:g}"
        with st.container(border=True, key=f"{key}_why_{name}"):
            st.markdown(f"**Why the {display_name(name)} said {verdict}** (p = {card.probability:.3f}{against})")
            for sentence in explain.card_sentences(card, inspection.tokens, counts, quote=literal):
                st.markdown(f"- {sentence}")
            if isinstance(statistics, str):
                st.caption("The training counts are unavailable:")
                st.text(statistics)
            st.page_link(
                "pages/inside.py",
                label=f"Step through the {display_name(name)} on Inside the RNN, from token {card.step + 1}",
                icon=":material/arrow_forward:",
                query_params=view_parameters() | {STEP_PARAMETER: str(card.step + 1)},
            )

"""Captions computed from the numbers: where the LSTM forgot, which tokens moved each model, how far back
importance reaches, where the running prediction crossed the threshold, and which words swung the verdict.

Each finding is a small function returning plain data, and a `*_sentence` function turns it into one
sentence. Tokens are visitor text: the sentence functions take a `quote` function (the page passes
`ui.literal`, which keeps Markdown from parsing them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rnndemo.evaluation import DECISION_THRESHOLD, crossing_positions, decide, verdict
from rnndemo.inspect import log_odds

if TYPE_CHECKING:  # the card reads word counts; loading them is the caller's business
    from rnndemo.word_statistics import WordCount, WordStatistics

REACH_FRACTION = 0.1  # a token "counts" for importance reach when |effect| ≥ this share of the largest
# Occlusion's work grows with the square of a text's length. Up to this many tokens it costs a few
# milliseconds per model, so the Inside page always shows it; longer texts are measured when asked.
OCCLUSION_AUTOMATIC_TOKENS = 64
CONTEXT_WIDTH = 2  # neighbours on each side when a token is quoted in its context
Quote = Callable[[str], str]


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """ "1 row", "2,500 rows": the count with thousands separators and the noun in the right number."""
    return f"{count:,} {noun if count == 1 else (plural or noun + 's')}"


def readable_rows(rows: list[dict], decimals: dict[str, int] | None = None) -> list[dict]:
    """Each row's cells made readable (`readable_cell`), with a fixed number of decimals for the columns
    named in `decimals`, so that one column never mixes 0.9000 and 512.2."""
    decimals = decimals or {}
    return [{column: readable_cell(value, decimals.get(column)) for column, value in row.items()} for row in rows]


def readable_cell(value: object, decimals: int | None = None) -> object:
    """A table cell as people read it: "–" for a missing value, thousands separators, floats to 4 decimals
    below 1, 2 below 100 and 1 from 100 up; text is left as it is. (Format rows before they become a
    DataFrame: a column of ints with a missing value turns into floats.)"""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        if decimals is not None:
            return f"{float(value):,.{decimals}f}"
        size = abs(float(value))
        return f"{float(value):,.1f}" if size >= 100 else f"{float(value):.2f}" if size >= 1 else f"{float(value):.4f}"
    return value


SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_of_ten(value: float) -> str:
    """1e-06 as people write it, "10⁻⁶" (for exact powers of ten; anything else keeps Python's short form)."""
    exponent = round(float(np.log10(value)))
    return f"10{str(exponent).translate(SUPERSCRIPTS)}" if value == 10.0**exponent else f"{value:g}"


def plain_quote(text: str) -> str:
    return f"'{text}'"


def context(tokens: list[str], position: int, width: int = CONTEXT_WIDTH) -> str:
    """The token at `position` with `width` neighbours on each side, "…" where the text goes on."""
    start, stop = max(0, position - width), min(len(tokens), position + width + 1)
    return " ".join(["…"] * (start > 0) + tokens[start:stop] + ["…"] * (stop < len(tokens)))


def token_in_context(tokens: list[str], position: int, quote: Quote = plain_quote) -> str:
    """ "token 38, 'overall' in '… but overall the …'" (positions are shown counting from 1)."""
    return f"token {position + 1}, {quote(tokens[position])} in {quote(context(tokens, position))}"


@dataclass(frozen=True)
class Lowest:
    position: int  # from 0
    value: float
    mean: float  # the average over every token, for scale


def lowest_mean(gate: np.ndarray) -> Lowest:
    """Where a gate (time, units), averaged over its units, is lowest (the first such token on a tie)."""
    per_token = np.asarray(gate, dtype=np.float64).mean(axis=1)  # (time,)
    position = int(np.argmin(per_token))
    return Lowest(position, float(per_token[position]), float(per_token.mean()))


def forget_sentence(lowest: Lowest, tokens: list[str], quote: Quote = plain_quote) -> str:
    return (
        f"The mean forget gate over units is {lowest.mean:.2f} on average; it is lowest ({lowest.value:.2f}), "
        f"so the LSTM lets go of most memory, at {token_in_context(tokens, lowest.position, quote)}."
    )


def state_moves(hidden: np.ndarray) -> np.ndarray:
    """‖h_t − h_(t−1)‖ for every token (time,), with h_(−1) = 0 as the layers start."""
    hidden = np.asarray(hidden, dtype=np.float64)
    previous = np.vstack([np.zeros((1, hidden.shape[1])), hidden[:-1]])
    return np.linalg.norm(hidden - previous, axis=1)


def moved_most(hidden: np.ndarray, count: int = 3) -> list[int]:
    """The `count` tokens at which the state moved most, largest first."""
    return [int(position) for position in np.argsort(-state_moves(hidden), kind="stable")[:count]]


def most_active_units(values: np.ndarray, count: int) -> np.ndarray:
    """The `count` units (columns of a (time, units) matrix) that vary most over this text, in unit order.

    A heatmap of all 256 units of a 400-token text reads as coloured noise from the back of a room (and
    costs a third of the Inside page's CPU); the units that move most are the ones the text drives.
    """
    values = np.asarray(values, dtype=np.float64)
    if count >= values.shape[1]:
        return np.arange(values.shape[1])
    spread = values.std(axis=0)  # (units,)
    # Stable: on a tie the lower unit comes first, so the choice is reproducible.
    return np.sort(np.argsort(-spread, kind="stable")[:count])


def moved_sentence(name: str, hidden: np.ndarray, tokens: list[str], quote: Quote = plain_quote) -> str:
    moves = state_moves(hidden)
    listed = ", ".join(
        f"{quote(tokens[position])} (token {position + 1}, {moves[position]:.2f})" for position in moved_most(hidden)
    )
    return f"{name}: the state moved most (‖hₜ − hₜ₋₁‖) at {listed}."


@dataclass(frozen=True)
class Reach:
    earliest: int  # from 0: the earliest token whose |effect| is at least REACH_FRACTION of the largest
    tokens_back: int  # counted from the end: the last token is 1 back
    length: int


def importance_reach(effects: np.ndarray, fraction: float = REACH_FRACTION) -> Reach | None:
    """How far back from the end a model's importance reaches; None when no token has any effect."""
    magnitude = np.abs(np.asarray(effects, dtype=np.float64))
    if not len(magnitude) or magnitude.max() == 0:
        return None
    earliest = int(np.flatnonzero(magnitude >= fraction * magnitude.max())[0])
    return Reach(earliest, len(magnitude) - earliest, len(magnitude))


def reach_sentence(name: str, reach: Reach | None, tokens: list[str], quote: Quote = plain_quote) -> str:
    if reach is None:
        return f"{name}: no token changes its verdict at all."
    share = f"{REACH_FRACTION:.0%} of its largest"
    whole = " (the whole text)" if reach.earliest == 0 else ""
    return (
        f"{name} reaches back {reach.tokens_back} of {reach.length} tokens from the end{whole}: its earliest token "
        f"with an effect of at least {share} is {token_in_context(tokens, reach.earliest, quote)}."
    )


@dataclass(frozen=True)
class Crossing:
    position: int  # from 0: the token after which the prediction is on the other side
    upwards: bool  # True: from negative to positive


def crossings(trajectory: np.ndarray) -> list[Crossing]:
    """Every token at which the running prediction changes side of the decision threshold."""
    positive = decide(np.asarray(trajectory, dtype=np.float64))
    return [Crossing(int(position), bool(positive[position])) for position in crossing_positions(trajectory)]


def crossing_sentence(
    name: str, trajectory: np.ndarray, tokens: list[str], quote: Quote = plain_quote, limit: int = 8
) -> str:
    found = crossings(trajectory)
    start = verdict(trajectory[0])
    if not found:
        return f"{name}: never crossed {DECISION_THRESHOLD:g}; {start} from the first token to the last."
    listed = ", ".join(
        f"{'up' if crossing.upwards else 'down'} at {quote(tokens[crossing.position])} (token {crossing.position + 1})"
        for crossing in found[:limit]
    )
    more = f" and {len(found) - limit} more" if len(found) > limit else ""
    times = "once" if len(found) == 1 else f"{len(found)} times"
    return f"{name}: starts {start} and crosses {DECISION_THRESHOLD:g} {times}: {listed}{more}."


def shared_scale(effects: Iterable[np.ndarray]) -> float:
    """One colour scale for several models: the largest |effect| of any of them (1.0 if all are zero)."""
    largest = max((float(np.max(np.abs(values))) for values in effects if len(values)), default=0.0)
    return largest if largest > 0 else 1.0


@dataclass(frozen=True)
class Swing:
    positive: bool  # the verdict on the whole text
    flips: list[int]  # tokens whose removal alone flips the verdict, strongest first
    supporters: list[int]  # the tokens pushing hardest in the verdict's direction, strongest first


def verdict_swing(probability: float, effects: np.ndarray, count: int = 3) -> Swing:
    """Which tokens swung the verdict, from log-odds occlusion effects (logit p − logit p without the token)."""
    effects = np.asarray(effects, dtype=np.float64)
    positive = bool(decide(probability))
    boundary = float(log_odds(DECISION_THRESHOLD))
    without = float(log_odds(probability)) - effects  # logit p(text without token t)
    towards = effects if positive else -effects  # > 0: the token pushed towards the verdict
    order = np.argsort(-towards, kind="stable")
    flipped = (without >= boundary) != positive
    flips = [int(position) for position in order if flipped[position]]
    supporters = [int(position) for position in order[:count] if towards[position] > 0]
    return Swing(positive, flips, supporters)


def swing_sentence(
    name: str, swing: Swing, effects: np.ndarray, tokens: list[str], quote: Quote = plain_quote, limit: int = 3
) -> str:
    verdict, other = ("positive", "negative") if swing.positive else ("negative", "positive")
    if swing.flips:
        listed = ", ".join(f"{quote(tokens[position])} ({effects[position]:+.2f})" for position in swing.flips[:limit])
        more = f" and {len(swing.flips) - limit} more" if len(swing.flips) > limit else ""
        return f"{name} says {verdict}; removing any one of these words alone flips it to {other}: {listed}{more}."
    if not swing.supporters:
        return f"{name} says {verdict}; no single word pushes towards it."
    listed = ", ".join(f"{quote(tokens[position])} ({effects[position]:+.2f})" for position in swing.supporters)
    return f"{name} says {verdict}; no single word flips it. The words pushing hardest towards {verdict}: {listed}."


def update_sentence(lowest: Lowest, tokens: list[str], quote: Quote = plain_quote) -> str:
    """Where the GRU's mean update gate is lowest: where it replaces most of its state with the candidate."""
    return (
        f"The mean update gate over units is {lowest.mean:.2f} on average; it is lowest ({lowest.value:.2f}), "
        f"so the GRU rewrites most of its state, at {token_in_context(tokens, lowest.position, quote)}."
    )


# The gate each gated model's caption reads: where it is lowest, the model lets go of the most state.
CAPTIONED_GATES = {"forget": forget_sentence, "update": update_sentence}


def lowest_gate(gates: dict[str, np.ndarray] | None) -> tuple[str, Lowest] | None:
    """The captioned gate of a gated model and where its mean is lowest; None for the SimpleRNN (no gates)."""
    gate = next((name for name in CAPTIONED_GATES if gates and name in gates), None)
    return None if gate is None else (gate, lowest_mean(gates[gate]))


def gate_sentence(lowest: tuple[str, Lowest], tokens: list[str], quote: Quote = plain_quote) -> str:
    gate, found = lowest
    return CAPTIONED_GATES[gate](found, tokens, quote)


# ----------------------------------------------------------------------------- "why it said that"

# A right verdict this close to the threshold is explained too: a small change of text would flip it.
UNCERTAIN = (0.4, 0.6)


def card_reason(probability: float, label: int | None) -> str | None:
    """Why a model's verdict gets a card: "wrong" (against a known label), "uncertain" (p within UNCERTAIN), or None."""
    if label is not None and bool(decide(np.asarray([probability]))[0]) != bool(label):
        return "wrong"
    if UNCERTAIN[0] <= probability <= UNCERTAIN[1]:
        return "uncertain"
    return None


@dataclass(frozen=True)
class Evidence:
    """A word that swung the verdict, with what the training reviews say about it."""

    position: int  # from 0
    token: str
    effect: float  # logit p(text) − logit p(text without it)
    counts: WordCount | None  # None outside the vocabulary, or without statistics


@dataclass(frozen=True)
class WhyCard:
    """Why one model said what it said: where it decided, which words did it, what its gates did there."""

    reason: str  # "wrong" or "uncertain"
    probability: float
    positive: bool  # the verdict
    last_crossing: Crossing | None  # the last time the running prediction changed side; None if it never did
    crossing_count: int
    flips: tuple[Evidence, ...]  # removing any one of these alone flips the verdict, strongest first
    supporters: tuple[Evidence, ...]  # when no word flips it: the words pushing hardest towards the verdict
    gate: tuple[str, Lowest] | None  # a gated model's captioned gate ("forget", "update") and where it is lowest
    step: int  # from 0: the token to open the stepper at (the last crossing, else the strongest word)


def why_card(
    *,
    reason: str,
    trajectory: np.ndarray,
    tokens: list[str],
    effects: np.ndarray,
    statistics: WordStatistics | None = None,
    gates: dict[str, np.ndarray] | None = None,
    limit: int = 3,
) -> WhyCard:
    """The card of one model on one text, from its running prediction, its log-odds occlusion effects, its gates
    and the train split's word statistics (rnndemo.word_statistics; None: no counts)."""
    trajectory = np.asarray(trajectory, dtype=np.float64)
    probability = float(trajectory[-1])
    swing = verdict_swing(probability, effects, count=limit)
    found = crossings(trajectory)

    def evidence(positions: list[int]) -> tuple[Evidence, ...]:
        return tuple(
            Evidence(
                position,
                tokens[position],
                float(effects[position]),
                statistics.of(tokens[position]) if statistics is not None else None,
            )
            for position in positions[:limit]
        )

    flips = evidence(swing.flips)
    supporters = () if flips else evidence(swing.supporters)
    strongest = (flips or supporters)[0].position if (flips or supporters) else len(tokens) - 1
    return WhyCard(
        reason=reason,
        probability=probability,
        positive=swing.positive,
        last_crossing=found[-1] if found else None,
        crossing_count=len(found),
        flips=flips,
        supporters=supporters,
        gate=lowest_gate(gates),
        step=found[-1].position if found else strongest,
    )


def evidence_phrase(item: Evidence, quote: Quote = plain_quote, with_counts: bool = True) -> str:
    """ "'favor' (token 89, −2.70 log-odds; in 199 training reviews, 34% of them positive)"; without the counts
    when there are no statistics to count with."""
    where = f"token {item.position + 1}, {item.effect:+.2f} log-odds"
    if not with_counts:
        return f"{quote(item.token)} ({where})"
    if item.counts is None:
        return f"{quote(item.token)} ({where}; not a word of the vocabulary, so no training counts)"
    counts = item.counts
    if not counts.reviews:
        return f"{quote(item.token)} ({where}; in no training review)"
    return (
        f"{quote(item.token)} ({where}; in {counted(counts.reviews, 'training review')}, "
        f"{counts.positive_share:.0%} of them positive)"
    )


def card_sentences(
    card: WhyCard, tokens: list[str], statistics: WordStatistics | None = None, quote: Quote = plain_quote
) -> list[str]:
    """The card as sentences: the decision point, the words that did it (with their training counts), the gates."""
    verdict, other = ("positive", "negative") if card.positive else ("negative", "positive")
    crossing = card.last_crossing
    if crossing is None:
        decided = f"Its running prediction never crossed {DECISION_THRESHOLD:g}: it was {verdict} from the first token."
    else:
        times = "once" if card.crossing_count == 1 else f"{card.crossing_count} times in all"
        decided = (
            f"Its running prediction crossed {DECISION_THRESHOLD:g} for the last time at token "
            f"{crossing.position + 1}, {quote(tokens[crossing.position])}, going {verdict} ({times})."
        )
    if card.flips:
        words = "; ".join(evidence_phrase(item, quote, statistics is not None) for item in card.flips)
        removal = f"Removing any one of these words alone flips it to {other}: {words}."
    elif card.supporters:
        words = "; ".join(evidence_phrase(item, quote, statistics is not None) for item in card.supporters)
        removal = f"No single word's removal flips it. The words pushing hardest towards {verdict}: {words}."
    else:
        removal = f"No single word's removal flips it, and no word pushes towards {verdict}."
    sentences = [decided, removal]
    if statistics is not None and (card.flips or card.supporters):
        sentences.append(
            f"For scale: of all {counted(statistics.reviews, 'training review')}, "
            f"{statistics.positive_share:.0%} are positive."
        )
    if card.gate is not None:
        sentences.append(gate_sentence(card.gate, tokens, quote))
    return sentences

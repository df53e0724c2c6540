"""Inside the RNN: the unfolded graph, a token-by-token stepper, hidden states, LSTM and GRU gates, word
importance and the memory experiment."""

import hashlib
import itertools

import numpy as np
import pandas as pd
import streamlit as st

from rnndemo import evaluation, explain, memory, memory_plots, step_plots, stepper, token_plots, ui, unit_text
from rnndemo.inspect import PROBABILITY_CLIP, log_odds_importance
from rnndemo.models import MEMORY_FILE, ModelFileError
from rnndemo.registry import DISPLAY_NAMES, NOT_RECURRENT_NAMES, RECURRENT_KINDS, RECURRENT_NAMES
from rnndemo.serving import EmptyTextError


def recurrent_models_or_stop(bundle) -> list[str]:
    """The loaded recurrent models; without any the page has nothing to show and stops."""
    available = [name for name in RECURRENT_NAMES if name in bundle.classifiers]
    if not available:
        st.error("No recurrent model is loaded.")
        st.stop()
    return available


def not_recurrent_note(*, bundle) -> None:
    """Say why the DFN and the CNN are not offered here: they have no state to step through."""
    absent = [DISPLAY_NAMES[name] for name in NOT_RECURRENT_NAMES if name in bundle.classifiers]
    if absent:
        st.caption(
            f"The {' and the '.join(absent)} {'are' if len(absent) > 1 else 'is'} not recurrent: no hidden state "
            "is carried from word to word, so there is nothing to step through or gate here. "
            "They are compared with the recurrent models on RNN vs LSTM vs GRU and on Model cards."
        )


def chosen_models(*, available: list[str], key: str) -> list[str]:
    """The models to inspect: one of them, or all side by side."""
    shown = st.radio(
        "Models",
        ["all", *available],
        horizontal=True,
        **ui.option(f"{key}_model"),
        format_func=lambda name: "all, side by side" if name == "all" else DISPLAY_NAMES[name],
    )
    return available if shown == "all" else [shown]


def inspections_or_stop(*, bundle, names: list[str], review: str) -> dict:
    """Each model's states and gates; a text without words stops the page."""
    inspections = {}
    try:
        with st.spinner("Running the models step by step…"):
            for name in names:
                inspections[name] = ui.inspect_text(str(bundle.models_dir), name, review)
    except EmptyTextError as error:
        st.warning(str(error).capitalize() + ".")
        st.stop()
    return inspections


def importances_of(*, bundle, names: list[str], review: str) -> dict:
    """Each token's occlusion importance per model: computed after the sections above are drawn."""
    with st.spinner("Removing each word in turn and reading the text again…"):
        return {name: ui.occlusion_importance(str(bundle.models_dir), name, review) for name in names}


def unfolded(*, inspection, number: int, key: str) -> None:
    """The recurrence drawn as one box per token."""
    st.subheader(f"{number}. One function, unfolded over time")
    st.write(
        "At every token the same function f takes the word's vector xₜ and the previous state hₜ₋₁ "
        "and returns hₜ. "
        + (
            "The classifier reads the mean of all the states; "
            if inspection.readout == "mean"
            else "Only the last state reaches the classifier; "
        )
        + "each state box's colour, and the number under hₜ, is the prediction p if the review ended there."
    )
    with st.container(key=f"{key}_unfolded_scroll"):  # scrolls sideways on a phone (ui.widgets._READABLE_CSS)
        ui.plotly_chart(
            token_plots.unfolded_graph(inspection.tokens, inspection.trajectory.tolist()), key=f"{key}_unfolded"
        )


# The stepper's state (plain session keys, so it survives reruns and page switches; the slider only shows it).
STEP_KEY = "inside_step"  # t, counted from 0
STEP_SLIDER_KEY = "inside_step_slider"  # t + 1: the slider counts tokens from 1, as the page does
STEP_PLAYING_KEY = "inside_step_playing"
STEP_TOKENS_KEY = "inside_step_tokens"  # a digest of the tokens the step belongs to
PLAY_SECONDS = 1.0  # one token per second while playing
CONTEXT_TOKENS = 12  # tokens shown on each side of the current one
# In the projector panel, one line of 1280 px presenting: with 12 the context took two, and the panel's charts
# ran past a 720-px screen (Chromium).
PANEL_CONTEXT_TOKENS = 6


def _tokens_digest(tokens: list[str]) -> str:
    return hashlib.sha256("\n".join(tokens).encode()).hexdigest()


def _set_step(step: int, length: int) -> None:
    """Button callback (Previous, Next): go to `step` and stop playing."""
    st.session_state[STEP_KEY] = stepper.clamp_step(step, length)
    st.session_state[STEP_PLAYING_KEY] = False


def _slider_moved() -> None:
    """Slider callback: go to the token it shows. While playing the slider is not drawn, so a
    value arriving then is the browser committing an earlier drag late; it is ignored."""
    if st.session_state.get(STEP_PLAYING_KEY, False):
        return
    st.session_state[STEP_KEY] = int(st.session_state[STEP_SLIDER_KEY]) - 1


def _toggle_play(length: int) -> None:
    """Button callback: Play (from the start again if at the last token) or Pause."""
    if st.session_state.get(STEP_PLAYING_KEY, False):
        st.session_state[STEP_PLAYING_KEY] = False
        return
    if st.session_state.get(STEP_KEY, 0) >= length - 1:
        st.session_state[STEP_KEY] = 0
    st.session_state[STEP_PLAYING_KEY] = True


def _step_from_url(value: str | None) -> int:
    """?step= counts tokens from 1; anything but a whole number means the first token."""
    value = (value or "").strip()
    return int(value) - 1 if value.isdigit() else 0


def current_step(tokens: list[str]) -> int:
    """The step for these tokens: a new text starts at its first token, unless a link (?step=) says where;
    any step is kept inside the text, and written back into ?step= unless Play is running."""
    digest = _tokens_digest(tokens)
    if st.session_state.get(STEP_TOKENS_KEY) != digest:
        st.session_state[STEP_TOKENS_KEY] = digest
        st.session_state[STEP_KEY] = 0
        st.session_state[STEP_PLAYING_KEY] = False
    linked, value = ui.url_parameter_to_adopt(ui.STEP_PARAMETER)
    if linked:  # after the reset above: a link's step belongs to the link's text
        st.session_state[STEP_KEY] = _step_from_url(value)
        st.session_state[STEP_PLAYING_KEY] = False
    step = stepper.clamp_step(st.session_state.get(STEP_KEY, 0), len(tokens))
    st.session_state[STEP_KEY] = step
    if not st.session_state.get(STEP_PLAYING_KEY, False):  # not on every tick of Play: written once it pauses
        ui.write_url_parameter(ui.STEP_PARAMETER, None if step == 0 else str(step + 1))
    return step


def step_controls(*, length: int, playing: bool, key: str, compact: bool = False) -> None:
    """Previous, Next, Play/Pause and the slider (which shows the step and sets it; while playing, a progress bar).
    `compact`: all in one row, so that the projector panel below them fits on the screen with them."""
    step = st.session_state[STEP_KEY]
    previous, following, play, rest = st.columns([1, 1, 1, 4] if compact else [1, 1, 1, 2], vertical_alignment="bottom")
    previous.button(
        "Previous",
        key=f"{key}_previous",
        icon=":material/chevron_left:",
        on_click=_set_step,
        args=(step - 1, length),
        disabled=step == 0,
        width="stretch",
    )
    following.button(
        "Next",
        key=f"{key}_next",
        icon=":material/chevron_right:",
        on_click=_set_step,
        args=(step + 1, length),
        disabled=step >= length - 1,
        width="stretch",
    )
    play.button(
        "Pause" if playing else "Play",
        key=f"{key}_play",
        icon=":material/pause:" if playing else ":material/play_arrow:",
        on_click=_toggle_play,
        args=(length,),
        width="stretch",
    )
    place = rest if compact else st
    if playing:
        # No slider while playing: each tick would set its value, and a tick's request carries the value the
        # browser still shows, one token behind, which would read as a visitor moving it back.
        place.progress(step / max(length - 1, 1), text=f"Playing: token {step + 1} of {length}")
    elif length > 1:  # a slider needs two ends
        st.session_state[STEP_SLIDER_KEY] = step + 1  # set before it is drawn: the slider shows the stored step
        place.slider("Token", 1, length, key=STEP_SLIDER_KEY, on_change=_slider_moved)


def step_token(*, inspection, step: int, radius: int = CONTEXT_TOKENS) -> None:
    """The current token in its context (`radius` tokens on each side), with its id."""
    start, stop = max(0, step - radius), min(len(inspection.tokens), step + radius + 1)
    shown = (["…"] if start else []) + inspection.tokens[start:stop] + (["…"] if stop < len(inspection.tokens) else [])
    ui.show_html(ui.highlighted_tokens(shown, marked=step - start + (1 if start else 0)))
    st.markdown(
        f"Token **{step + 1}** of {len(inspection.tokens)}: {ui.literal(inspection.tokens[step], 60)}, "
        f"vocabulary id **{inspection.ids[step]}**" + (" (out of vocabulary)" if inspection.ids[step] == 1 else "")
    )


def step_numbers(*, name: str, classifier, inspection, step: int, key: str) -> None:
    """One model's step: x_t, the equation with its numbers for the units that moved most, and p so far."""
    equation = stepper.step_equation(classifier, inspection, step)
    shown = equation.embedding[: stepper.SHOWN_EMBEDDING_NUMBERS]
    st.markdown(
        f"xₜ = row {equation.token_id} of the {DISPLAY_NAMES[name]}'s embedding; its first {len(shown)} of "
        f"{len(equation.embedding)} numbers:"
    )
    st.code("[" + ", ".join(f"{value:+.3f}" for value in shown) + ", …]", language=None, wrap_lines=True)
    # One statement a line, wrapped: as one inline-code run the GRU's equation overflowed a third of the page.
    st.code(equation.equation.replace("; ", "\n"), language=None, wrap_lines=True)
    st.caption(
        f"The {len(equation.units)} units whose state changed most at this token, one row each; every number "
        "is computed from the model's own weights and its previous state."
    )
    st.dataframe(
        pd.DataFrame(equation.rows()),
        hide_index=True,
        column_config={
            column: st.column_config.NumberColumn(column, format="%.4f") for column in stepper.COLUMNS[equation.layer]
        },
    )
    verdict = evaluation.verdict(equation.probability)
    reads = "the mean of h₁ … hₜ" if inspection.readout == "mean" else "hₜ"
    st.markdown(
        f"Prediction so far: p(positive) = **{equation.probability:.3f}** ({verdict}, if the review ended here; "
        f"the classifier reads {reads})"
    )
    ui.plotly_chart(
        step_plots.state_window(
            inspection.hidden,
            inspection.tokens,
            step,
            equation.units,
            f"{DISPLAY_NAMES[name]}: hₜ around token {step + 1}",
        ),
        key=f"{key}_window_{name}",
    )


def stepper_body(*, bundle, inspections: dict, key: str, playing_when_drawn: bool) -> None:
    """The stepper; a click or a tick of Play reruns only this part of the page."""
    first = next(iter(inspections.values()))
    step = current_step(first.tokens)
    length = len(first.tokens)
    playing = st.session_state.get(STEP_PLAYING_KEY, False)
    if playing and playing_when_drawn:  # a tick of Play (or the run that started it): one token on
        step = stepper.clamp_step(step + 1, length)
        st.session_state[STEP_KEY] = step
        playing = st.session_state[STEP_PLAYING_KEY] = step < length - 1  # it stops at the last token
    if playing != playing_when_drawn:
        st.rerun()  # the whole page: Play's timer is set (or cleared) when the stepper is drawn
    if projector_toggle(key=key):
        with st.container(key=f"{key}_panel"):  # the controls and everything they change, on one screen
            step_controls(length=length, playing=playing, key=key, compact=True)
            projector_panel(inspections=inspections, step=step, key=key)
        ui.keep_in_view_on_click(f"{key}_panel")
        st.markdown("**The equation at this token, with its numbers**")
        step_tabs(bundle=bundle, inspections=inspections, step=step, key=key)
    else:
        step_controls(length=length, playing=playing, key=key)
        step_token(inspection=first, step=step)
        step_tabs(bundle=bundle, inspections=inspections, step=step, key=key)
        trajectories = {name: inspection.trajectory for name, inspection in inspections.items()}
        ui.plotly_chart(
            step_plots.step_prediction_chart(trajectories, first.tokens, step, DISPLAY_NAMES), key=f"{key}_prediction"
        )
    for name, inspection in inspections.items():
        st.caption(explain.crossing_sentence(DISPLAY_NAMES[name], inspection.trajectory, inspection.tokens, ui.literal))


def step_tabs(*, bundle, inspections: dict, step: int, key: str) -> None:
    """Each model's step with its numbers, one tab per model."""
    tabs = st.tabs([DISPLAY_NAMES[name] for name in inspections]) if len(inspections) > 1 else [st.container()]
    for tab, (name, inspection) in zip(tabs, inspections.items()):
        with tab:
            step_numbers(name=name, classifier=bundle.classifiers[name], inspection=inspection, step=step, key=key)


PROJECTOR_FOLLOWS_KEY = "inside_step_projector_follows"  # the presenter mode the panel's toggle last followed


def projector_toggle(*, key: str) -> bool:
    """Whether the stepper is drawn as one projector-sized panel: on when presenter mode is switched on, off when
    it is switched off, and in between as the visitor sets it."""
    if st.session_state.get(PROJECTOR_FOLLOWS_KEY) != ui.presenting():
        # Set before it is drawn, with no default of its own: a keyed toggle would keep its first default.
        st.session_state[PROJECTOR_FOLLOWS_KEY] = ui.presenting()
        st.session_state[f"{key}_projector"] = ui.presenting()
    return st.toggle(
        "Projector panel: the word, the unfolded graph, the running prediction and the gates on one screen",
        help="On by default in presenter mode.",
        **ui.option(f"{key}_projector"),
    )


UNIT_TEXT_RADIUS = 20  # tokens on each side of t in the panel's coloured text
MOST_ACTIVE = "most active"  # the unit picker's default: the unit that varies most over this text
UNIT_CHOICES = 8  # units offered for the colouring: a handful (of 64 or 256), the ones this text moves most


def colour_model(*, inspections: dict, key: str) -> str:
    """The model whose unit colours the text: the first gated model shown by default (its gates get a marker)."""
    names = list(inspections)
    gated = [name for name in names if inspections[name].gates is not None]
    return st.selectbox(
        "Colour the text by a unit of",
        names,
        index=names.index(gated[0]) if gated else 0,
        format_func=DISPLAY_NAMES.get,
        **ui.option(f"{key}_colour_model"),
    )


def colour_unit(*, inspection, key: str) -> int:
    """The chosen unit: by default the one that varies most over this text, or one of the next few."""
    units = unit_text.units_by_activity(inspection.hidden, UNIT_CHOICES)
    # The options' texts stay fixed (a link holds one); the label names the unit "most active" is for this text.
    choice = st.selectbox(
        f"Unit (most active on this text: unit {units[0]}; then the next {len(units) - 1})",
        [MOST_ACTIVE, *(f"unit {unit}" for unit in units)],
        **ui.option(f"{key}_colour_unit"),
    )
    return units[0] if choice == MOST_ACTIVE else int(choice.removeprefix("unit "))


def step_verdicts(*, inspections: dict, step: int) -> str:
    """Every model's verdict had the review ended at token `step` (from 0), in one line: the panel's claim in words,
    beside the chart that draws it."""
    verdicts = (
        f"{DISPLAY_NAMES[name]} **{evaluation.verdict(inspection.trajectory[step])}** "
        f"(p = {inspection.trajectory[step]:.2f})"
        for name, inspection in inspections.items()
    )
    return "If the review ended here: " + " · ".join(verdicts)


def projector_panel(*, inspections: dict, step: int, key: str) -> None:
    """One screen at 1280×720: the word in context; one model unfolded at t, every running prediction with t
    marked, the gates at t; and the text around t coloured by one hidden unit (LSTMVis-style)."""
    first = next(iter(inspections.values()))
    with st.container(key=f"{key}_panel_context"):
        step_token(inspection=first, step=step, radius=PANEL_CONTEXT_TOKENS)
        st.markdown(step_verdicts(inspections=inspections, step=step))
    # Drawn in reading order, filled in the order of need: the unit picked below decides the charts above it.
    unfolded_column, prediction_column, gates_column = st.columns(3)
    controls, text_column = st.columns([1, 3])
    with controls:
        name = colour_model(inspections=inspections, key=key)
        chosen = inspections[name]
        unit = colour_unit(inspection=chosen, key=key)
    unit_name = f"{DISPLAY_NAMES[name]} unit {unit}"
    with unfolded_column.container(key=f"{key}_panel_unfolded"):
        ui.plotly_chart(
            step_plots.unfolded_at_step(chosen.tokens, chosen.trajectory, step, DISPLAY_NAMES[name]),
            key=f"{key}_panel_unfolded_chart",
        )
    with prediction_column.container(key=f"{key}_panel_prediction"):
        trajectories = {model: inspection.trajectory for model, inspection in inspections.items()}
        ui.plotly_chart(
            step_plots.step_prediction_chart(
                trajectories, first.tokens, step, DISPLAY_NAMES, height=step_plots.PANEL_HEIGHT, narrow=True
            ),
            key=f"{key}_prediction",
        )
    with gates_column.container(key=f"{key}_panel_gates"):
        gates = {
            model: stepper.gates_at_step(inspection.gates, step, unit if model == name else None)
            for model, inspection in inspections.items()
            if inspection.gates is not None
        }
        if gates:
            figure = step_plots.gates_at_step_chart(
                gates, step, DISPLAY_NAMES, unit_name if chosen.gates is not None else None
            )
            ui.plotly_chart(figure, key=f"{key}_panel_gates_chart")
        else:
            st.caption("No gates: the SimpleRNN computes hₜ = tanh(W·xₜ + U·hₜ₋₁ + b) at every token, unguarded.")
    with text_column.container(key=f"{key}_panel_unit_text"):
        values = chosen.hidden[:, unit]
        scale = unit_text.unit_scale(values)
        start, stop = stepper.token_window(len(chosen.tokens), step, UNIT_TEXT_RADIUS)
        ui.show_html(unit_text.unit_legend_html(unit_name, scale))
        ui.show_html(unit_text.unit_text_html(chosen.tokens, values, scale=scale, start=start, stop=stop, marked=step))
        with st.expander(f"The whole text coloured by {unit_name}"):
            ui.show_html(unit_text.unit_text_html(chosen.tokens, values, scale=scale, marked=step))


def step_by_step(*, bundle, inspections: dict, number: int, key: str) -> None:
    """One token at a time, with the equation's real numbers."""
    st.subheader(f"{number}. Step by step")
    st.write(
        "Walk through the text one token at a time. At token t the layer reads xₜ, the token's row of its "
        "embedding, and its own previous state hₜ₋₁, and computes hₜ; the running prediction is the classifier "
        "applied to what it reads so far. Play moves on one token a second."
    )
    playing = bool(st.session_state.get(STEP_PLAYING_KEY, False))
    # Play is the fragment's own timer, so a tick reruns the stepper and not the page.
    body = st.fragment(stepper_body, run_every=PLAY_SECONDS if playing else None)
    body(bundle=bundle, inspections=inspections, key=f"{key}_step", playing_when_drawn=playing)


UNITS_SHOWN = {"8 most active": 8, "16 most active": 16, "32 most active": 32, "all": None}


def units_shown(*, key: str) -> int | None:
    """How many units each heatmap draws: the ones this text moves most (all of them on request)."""
    st.session_state.setdefault(f"{key}_units", "16 most active")
    choice = st.select_slider(
        "Units in each heatmap (the ones that vary most over this text)",
        list(UNITS_SHOWN),
        **ui.option(f"{key}_units"),
    )
    return UNITS_SHOWN[choice]


def chosen_units(values: np.ndarray, count: int | None) -> np.ndarray | None:
    return None if count is None else explain.most_active_units(values, count)


def units_label(values: np.ndarray, units: np.ndarray | None) -> str:
    total = values.shape[1]
    return f"{total} units" if units is None or len(units) == total else f"{len(units)} of {total} units"


def hidden_states(*, inspections: dict, count: int | None, number: int, key: str) -> None:
    """Each model's hidden state after every token, side by side, and where it moved most."""
    st.subheader(f"{number}. Hidden states hₜ")
    st.write(
        "Rows are units, columns are tokens. A unit that changes colour at a word has reacted to it. "
        "Each chart shows the units that vary most over this text, unless you choose all."
    )
    columns = st.columns(len(inspections))
    for column, (name, inspection) in zip(columns, inspections.items()):
        units = chosen_units(inspection.hidden, count)
        with column:
            ui.plotly_chart(
                token_plots.heatmap(
                    inspection.hidden,
                    inspection.tokens,
                    f"{DISPLAY_NAMES[name]}: hₜ ({units_label(inspection.hidden, units)})",
                    side_by_side=len(columns),
                    units=units,
                ),
                key=f"{key}_hidden_{name}",
            )
    for name, inspection in inspections.items():
        st.caption(explain.moved_sentence(DISPLAY_NAMES[name], inspection.hidden, inspection.tokens, ui.literal))


def state_maps(*, inspections: dict, numbers: list[int], key: str) -> None:
    """The units control and the maps it changes: the hidden states, then the gates of each gated model shown."""
    count = units_shown(key=key)
    numbers = iter(numbers)
    hidden_states(inspections=inspections, count=count, number=next(numbers), key=key)
    for name in gated(inspections):
        GATE_VIEWS[RECURRENT_KINDS[name]](
            name=name, inspection=inspections[name], count=count, number=next(numbers), key=key
        )


def lstm_gates(*, name: str, inspection, count: int | None, number: int, key: str) -> None:
    """An LSTM's three gates and its cell state, token by token."""
    key = f"{key}_{name}"  # each model's charts have keys of their own (two LSTMs can be shown)
    st.subheader(f"{number}. {DISPLAY_NAMES[name]} gates and cell state")
    st.write(
        "Reading guide: a **forget** gate near 0 wipes that unit's memory at this word, near 1 keeps it; "
        "an **input** gate near 1 writes the new candidate into the cell; "
        "an **output** gate near 1 lets the cell show in hₜ. "
        "The cell state cₜ is the LSTM's long-term memory."
    )
    gate_columns = st.columns(2)
    units = chosen_units(inspection.cell, count)  # the same units in every chart: a unit's gates beside its cell
    for position, gate in enumerate(("forget", "input", "output")):
        with gate_columns[position % 2]:
            ui.plotly_chart(
                token_plots.gate_heatmap(
                    inspection.gates[gate], inspection.tokens, gate, len(gate_columns), units=units
                ),
                key=f"{key}_gate_{gate}",
            )
    with gate_columns[1]:
        limit = float(max(1.0, np.abs(inspection.cell).max()))
        ui.plotly_chart(
            token_plots.heatmap(
                inspection.cell,
                inspection.tokens,
                f"cell state cₜ ({units_label(inspection.cell, units)})",
                zrange=(-limit, limit),
                side_by_side=len(gate_columns),
                units=units,
            ),
            key=f"{key}_cell",
        )
    lowest = explain.lowest_mean(inspection.gates["forget"])
    st.caption(explain.forget_sentence(lowest, inspection.tokens, ui.literal))


def gru_gates(*, name: str, inspection, count: int | None, number: int, key: str) -> None:
    """A GRU's update and reset gates, token by token."""
    key = f"{key}_{name}"
    st.subheader(f"{number}. {DISPLAY_NAMES[name]} gates")
    st.write(
        "The GRU has no separate cell: hₜ = z·hₜ₋₁ + (1 − z)·h̃. Reading guide: an **update** gate z near 1 "
        "keeps that unit's state through this word, near 0 replaces it with the candidate h̃; a **reset** gate "
        "near 0 lets the candidate ignore the previous state."
    )
    gate_columns = st.columns(2)
    units = chosen_units(inspection.hidden, count)  # the units whose state moves most, in both gates
    for column, gate in zip(gate_columns, ("update", "reset")):
        with column:
            ui.plotly_chart(
                token_plots.gate_heatmap(
                    inspection.gates[gate], inspection.tokens, gate, len(gate_columns), units=units
                ),
                key=f"{key}_gru_gate_{gate}",
            )
    lowest = explain.lowest_mean(inspection.gates["update"])
    st.caption(explain.update_sentence(lowest, inspection.tokens, ui.literal))


# Each model's gate view, chosen by the Keras class of its recurrent layer (registry.RECURRENT_KINDS), not its name.
GATE_VIEWS = {"LSTM": lstm_gates, "GRU": gru_gates}


def gated(inspections: dict) -> list[str]:
    """The models shown whose layer has a gate view and whose gates were traced, in the order shown."""
    return [
        name
        for name, inspection in inspections.items()
        if RECURRENT_KINDS.get(name) in GATE_VIEWS and inspection.gates is not None
    ]


def word_importance(*, bundle, inspections: dict, review: str, number: int, key: str) -> None:
    """Occlusion importance in log-odds, on one colour scale for every model, and what it says."""
    st.subheader(f"{number}. Which words mattered")
    length = len(next(iter(inspections.values())).tokens)
    # Each removal re-reads the rest of the text, so the work grows with the square of its length: for a
    # typical IMDB review the LSTM(256) alone costs about 0.4 s of the server's CPU, more than the rest of the
    # page. A class of 30 pasting reviews would queue behind it, so long texts are measured when asked.
    measure = st.toggle(
        "Measure which words mattered (for every text from now on)",
        help=f"Texts of up to {explain.OCCLUSION_AUTOMATIC_TOKENS} tokens are always measured.",
        **ui.option(f"{key}_measure_words"),
    )
    if length > explain.OCCLUSION_AUTOMATIC_TOKENS and not measure:
        st.caption(
            f"Occlusion removes each of the {length} tokens in turn and reads the rest of the text again, for "
            f"each model shown: about {length * length // 2:,} extra steps per model. Turn it on to see which "
            "words swung each verdict."
        )
        return
    importances = importances_of(bundle=bundle, names=list(inspections), review=review)
    # Inspector.importance gives p(text) − p(without t); with p(text) that is p(without t), and so its log-odds.
    effects = {
        name: log_odds_importance(inspection.trajectory[-1], importances[name])
        for name, inspection in inspections.items()
    }
    scale = explain.shared_scale(effects.values())
    clip = explain.power_of_ten(PROBABILITY_CLIP)
    st.write(
        "Occlusion: remove one token and see how the model's verdict changes, measured in log-odds, "
        "logit p(text) − logit p(text without the token), where logit p = ln(p / (1 − p)). Green pushed towards "
        "positive, red towards negative; +1 multiplies the odds of positive by e ≈ 2.7, for every model alike. "
        "All removals run in one pass: each text without a token starts from the state the text had just "
        "before that token, so no prefix is read twice."
    )
    st.caption(
        f"One colour scale for every model: the colour saturates at ±{scale:.2f} log-odds, the largest effect of "
        f"any model shown. (Probabilities are clipped to [{clip}, 1 − {clip}] first.)"
    )
    for name, inspection in inspections.items():
        tokens, effect = inspection.tokens, effects[name]
        display = DISPLAY_NAMES[name]
        swing = explain.verdict_swing(float(inspection.trajectory[-1]), effect)
        st.markdown(f"**{display}**, p(positive) = {inspection.trajectory[-1]:.3f}")
        st.caption(explain.swing_sentence(display, swing, effect, tokens, ui.literal))
        st.caption(explain.reach_sentence(display, explain.importance_reach(effect), tokens, ui.literal))
        ui.show_html(ui.highlighted_tokens(tokens, effect, scale=scale, unit=" log-odds"))
    with st.expander("Importance as bars, on the same scale (hover for the token)"):
        for name, inspection in inspections.items():
            ui.plotly_chart(
                step_plots.log_odds_bars(inspection.tokens, effects[name], DISPLAY_NAMES[name], scale),
                key=f"{key}_importance_{name}",
            )


def memory_result_or_stop(bundle) -> dict | None:
    """The measured memory experiment (None if never computed); a file that fails its check stops the page."""
    try:
        return memory.load_memory_experiment(bundle.models_dir, bundle.manifest)
    except ModelFileError as error:
        st.warning("The memory experiment's file was refused.")
        st.text(str(error))
        st.stop()


def memory_readouts(*, result: dict) -> None:
    """The textbook contrast first (the last-state SimpleRNN against the gated models, one computed sentence),
    then the mean-readout SimpleRNN as a practitioner's fix, and why it resists filler."""
    names = memory.display_names(result)
    if memory.TEXTBOOK in result["models"]:
        st.markdown(
            f"**The textbook contrast.** The first curve, the **{names[memory.TEXTBOOK]}**, is the slide's plain RNN: "
            "it classifies its last state h_T. It was trained for this experiment only, on the served SimpleRNN's "
            "data, vocabulary and GloVe start, and is not one of the served models."
        )
        st.text(str(result.get("contrast_summary", "")))
    else:
        st.info(
            "This measurement has no last-state SimpleRNN (the slide's plain RNN). Train it and measure again: "
            "`python -m rnndemo train --add --model rnn_last`, then `python -m rnndemo memory`."
        )
    averaging = [names[name] for name, values in result["models"].items() if values.get("readout") == "mean"]
    if averaging:
        st.caption(
            f"The dashed {', '.join(averaging)} is **a fix a practitioner would use**, for a while. "
            f"{memory.MEAN_READOUT_REASON} {memory.mean_readout_sentence(result)} "
            "Read the two charts apart: early words reach its verdict directly (left) even where its last state no "
            "longer depends on them (right), so the readout, not the recurrence, carries the longer memory."
        )


def memory_experiment(*, bundle, number: int, key: str) -> None:
    """Accuracy and gradient against distance, for every recurrent model."""
    st.subheader(f"{number}. Is the plain RNN's memory short? (measured)")
    result = memory_result_or_stop(bundle)
    if result is None:
        st.info("The memory experiment has not been computed for these models; run `python -m rnndemo memory`.")
        return
    # Text from a file is treated like visitor text: shown, never parsed as Markdown.
    design = result["design"].split("\n\n")[1] if "\n\n" in result["design"] else result["design"]
    st.text(" ".join(design.split()))  # the file wraps its lines at 80 characters; the page wraps them itself
    memory_readouts(result=result)
    names = memory.display_names(result)
    digest = bundle.manifest["files"][MEMORY_FILE]  # the charts are the verified file's, whoever asks
    left, right = st.columns(2)
    with left:
        ui.shared_chart(
            lambda: memory_plots.memory_accuracy_figure(result, names),
            cache_key=("memory_accuracy", digest),
            key=f"{key}_memory_accuracy",
        )
        st.text(str(result.get("accuracy_summary", "")))
    with right:
        ui.shared_chart(
            lambda: memory_plots.memory_gradient_figure(result, names),
            cache_key=("memory_gradient", digest),
            key=f"{key}_memory_gradient",
        )
        zero = [names[name] for name, values in result["models"].items() if min(values["gradient"]["mean_norm"]) == 0]
        if zero:
            st.caption(
                f"The {', '.join(zero)} gradient reaches exactly 0 (below what float32 can hold); those points are "
                "drawn one decade below the smallest measured value, at the bottom of the chart."
            )
        st.text(str(result.get("gradient_summary", "")))


ui.leave_legacy_router()
st.title("Inside the RNN")
st.caption(
    "Three claims of the lesson, checked on the real cached models: the state h summarises what was read; "
    "a plain RNN has a short memory; an LSTM learns what to forget and what to keep."
)
bundle = ui.bundle_or_stop()
review = ui.text_input("inside", height=120)
names = chosen_models(available=recurrent_models_or_stop(bundle), key="inside")
not_recurrent_note(bundle=bundle)
inspections = inspections_or_stop(bundle=bundle, names=names, review=review)

first = inspections[names[0]]
if first.cut_tokens:
    ui.truncation_notice(int(bundle.manifest["sequence_length"]), first.cut_tokens)
sections = itertools.count(1)  # numbered as drawn: the gate sections appear only for the models shown
unfolded(inspection=first, number=next(sections), key="inside")
step_by_step(bundle=bundle, inspections=inspections, number=next(sections), key="inside")
# Sections with their own control are fragments: choosing the units or measuring the words redraws them alone.
st.fragment(state_maps)(
    inspections=inspections, numbers=[next(sections) for _ in range(1 + len(gated(inspections)))], key="inside"
)
st.fragment(word_importance)(bundle=bundle, inspections=inspections, review=review, number=next(sections), key="inside")
memory_experiment(bundle=bundle, number=next(sections), key="inside")

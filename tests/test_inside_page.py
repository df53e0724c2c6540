"""The inside page's stepper and its importance section under AppTest, checked against the library's numbers."""

import json
import re

import numpy as np
import pytest

from rnndemo import stepper, ui, unit_text
from rnndemo.explain import OCCLUSION_AUTOMATIC_TOKENS
from rnndemo.inspect import Inspector

from .apptest_support import all_text, go, open_page

TEXT = "A dull start, but the acting is superb and the ending moved me."
LAYERS_BY_COLUMNS = {columns: layer for layer, columns in stepper.COLUMNS.items()}
NAMES_BY_LAYER = {"SimpleRNN": "rnn", "LSTM": "lstm", "GRU": "gru"}


def step(app) -> int:
    return app.session_state["inside_step"]


def step_tables(app) -> dict[str, object]:
    """The stepper's equation tables, by model name (each layer has its own columns)."""
    tables = {}
    for frame in (element.value for element in app.dataframe):
        layer = LAYERS_BY_COLUMNS.get(tuple(column for column in frame.columns if column != "unit"))
        if layer:
            tables[NAMES_BY_LAYER[layer]] = frame
    return tables


def assert_step_shown(app, bundle, position: int) -> None:
    """What the page shows for the step is what stepper.step_equation computes for the same text and step."""
    tables = step_tables(app)
    assert tables and set(tables) <= set(bundle.classifiers)
    for name, frame in tables.items():
        classifier = bundle.classifiers[name]
        inspection = Inspector(classifier).inspect(TEXT)
        expected = stepper.step_equation(classifier, inspection, position)
        assert frame["unit"].tolist() == list(expected.units), name
        for column, values in expected.terms.items():
            np.testing.assert_allclose(frame[column].to_numpy(dtype=float), values, atol=1e-6, err_msg=column)
        shown = expected.embedding[: stepper.SHOWN_EMBEDDING_NUMBERS]
        codes = [str(code.value) for code in app.code]
        assert "[" + ", ".join(f"{value:+.3f}" for value in shown) + ", …]" in codes
        assert expected.equation.replace("; ", "\n") in codes  # the model's own equation, a statement a line
        assert f"p(positive) = **{expected.probability:.3f}**" in all_text(app)
    token, count = inspection.tokens[position], len(inspection.tokens)
    assert (
        f"Token **{position + 1}** of {count}: ` {token} `, vocabulary id **{inspection.ids[position]}**"
        in all_text(app)
    )
    current = [block for block in app.get("html") if 'data-rnndemo="current-token"' in str(block.proto.body)]
    assert len(current) == 1 and f">{token}</span>" in str(current[0].proto.body).split("current-token")[1][:400]
    charts = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    running = [chart for chart in charts if chart["layout"]["title"]["text"].startswith("Running prediction")]
    marked = [trace for trace in running[0]["data"] if trace.get("mode") == "markers"]
    assert [trace["x"] for trace in marked] == [[position + 1]] * len(tables)
    assert [trace["y"][0] for trace in marked] == pytest.approx(
        [float(Inspector(bundle.classifiers[name]).inspect(TEXT).trajectory[position]) for name in tables], abs=1e-6
    )


@pytest.mark.slow
def test_next_previous_and_the_slider_move_the_step_which_survives_reruns(bundle):
    """A visitor steps forward and back, drags the slider, reruns and switches pages: the step follows, and
    the numbers shown are the library's for that step."""
    app = open_page("pages/inside.py", TEXT)
    assert not app.exception and step(app) == 0
    assert app.button(key="inside_step_previous").disabled
    assert_step_shown(app, bundle, 0)
    app.button(key="inside_step_next").click().run()
    app.button(key="inside_step_next").click().run()
    assert step(app) == 2 and app.slider(key="inside_step_slider").value == 3
    app.button(key="inside_step_previous").click().run()
    assert step(app) == 1
    assert_step_shown(app, bundle, 1)
    app.slider(key="inside_step_slider").set_value(8).run()
    assert step(app) == 7 and not app.exception
    app.run()
    assert step(app) == 7 and app.slider(key="inside_step_slider").value == 8
    assert_step_shown(app, bundle, 7)
    go(app, "pages/tokens.py")
    go(app, "pages/inside.py")
    assert step(app) == 7 and app.slider(key="inside_step_slider").value == 8


@pytest.mark.slow
def test_next_stops_at_the_last_token():
    app = open_page("pages/inside.py", "a fine film")
    app.slider(key="inside_step_slider").set_value(3).run()
    assert step(app) == 2 and app.button(key="inside_step_next").disabled


@pytest.mark.slow
def test_play_moves_on_and_pause_stops(bundle):
    """Play moves one token on each run (in a browser, the stepper's timer makes the runs) and shows Pause and a
    progress bar; Pause keeps the step; at the end Play stops itself."""
    app = open_page("pages/inside.py", TEXT)
    app.button(key="inside_step_play").click().run()
    assert step(app) == 1 and app.session_state["inside_step_playing"]
    assert app.button(key="inside_step_play").label == "Pause"
    assert not app.slider and "Playing: token 2 of" in str(app.get("progress")[0].proto.text)  # no slider to race
    app.button(key="inside_step_play").click().run()
    assert step(app) == 1 and not app.session_state["inside_step_playing"]
    app.run()
    assert step(app) == 1
    last = app.slider(key="inside_step_slider").max
    app.slider(key="inside_step_slider").set_value(last - 1).run()
    app.button(key="inside_step_play").click().run()
    assert step(app) == last - 1 and not app.session_state["inside_step_playing"]  # reached the end: stopped
    assert app.button(key="inside_step_play").label == "Play" and not app.exception
    app.button(key="inside_step_play").click().run()  # from the last token, Play starts again at the beginning
    assert step(app) == 1


@pytest.mark.slow
def test_a_new_text_starts_the_stepper_at_its_first_token():
    """A step past the end of a new, shorter text never reaches the tables: the stepper starts again."""
    app = open_page("pages/inside.py", TEXT)
    app.slider(key="inside_step_slider").set_value(10).run()
    assert step(app) == 9
    app.text_area(key="inside_text_area").input("Superb.").run()
    assert not app.exception and step(app) == 0
    assert not app.slider  # one token: nothing to slide
    assert "Token **1** of 1" in all_text(app)


@pytest.mark.slow
def test_importance_is_in_log_odds_on_one_stated_scale(bundle):
    """Every model's importance is logit p(text) − logit p(without the token), coloured on one scale that
    the page states, and each model gets a sentence on what swung its verdict."""
    app = open_page("pages/inside.py", TEXT)
    effects = {}
    for name in step_tables(app):  # the models the page shows, in its order
        inspector = Inspector(bundle.classifiers[name])
        effects[name] = inspector.log_odds_importance(inspector.inspect(TEXT).ids)[1]
    scale = max(float(np.abs(values).max()) for values in effects.values())
    stated = re.search(r"saturates at ±([0-9.]+) log-odds", all_text(app))
    assert stated and float(stated.group(1)) == pytest.approx(scale, abs=0.006)
    rows = [str(block.proto.body) for block in app.get("html") if " log-odds" in str(block.proto.body)]
    assert len(rows) == len(effects)
    for row, values in zip(rows, effects.values()):
        shown = [float(number) for number in re.findall(r'title="[^"]*: ([+-][0-9.]+) log-odds"', row)]
        np.testing.assert_allclose(shown, values, atol=2e-3)
    text = all_text(app)
    assert text.count(" says positive; ") + text.count(" says negative; ") == len(effects)
    assert text.count(" reaches back ") == len(effects)


@pytest.mark.slow
def test_sections_are_numbered_in_the_order_drawn_for_any_choice_of_models():
    """Gate sections appear only for the models shown; the numbers never skip or repeat."""
    app = open_page("pages/inside.py")
    for shown in ("all", "rnn", "lstm", "gru"):
        app.radio(key="inside_model").set_value(shown).run()
        assert not app.exception
        numbers = [int(re.match(r"(\d+)\. ", str(header.value)).group(1)) for header in app.subheader]
        assert numbers == list(range(1, len(numbers) + 1)), (shown, numbers)
        titles = " | ".join(str(header.value) for header in app.subheader)
        assert ("LSTM gates" in titles) == (shown in ("all", "lstm")), titles
        assert ("GRU gates" in titles) == (shown in ("all", "gru")), titles


@pytest.mark.slow
def test_the_stepper_position_is_in_the_link_and_a_link_opens_the_stepper_there():
    """?step= counts tokens from 1: a link opens the stepper at that token; Next writes the new step into the URL;
    a new text starts at its first token again, with no step in the URL; a step past the end is the last token."""
    app = open_page("pages/inside.py", TEXT, query={"step": "5"})
    assert not app.exception and step(app) == 4 and app.query_params["step"] == "5"
    assert app.slider(key="inside_step_slider").value == 5
    app.button(key="inside_step_next").click().run()
    assert step(app) == 5 and app.query_params["step"] == "6"
    app.run()  # a rerun keeps it: the URL holds what this session wrote
    assert step(app) == 5
    app.text_area(key="inside_text_area").input("A new text of my own, with a few more words.").run()
    assert step(app) == 0 and "step" not in app.query_params
    past = open_page("pages/inside.py", TEXT, query={"step": "999"})
    assert step(past) == len(TEXT.split()) - 1 and past.query_params["step"] == str(len(TEXT.split()))
    assert step(open_page("pages/inside.py", TEXT, query={"step": "two"})) == 0


@pytest.mark.slow
def test_a_long_text_is_measured_when_asked_and_every_text_after_it(bundle):
    """Occlusion grows with the square of the length, so past OCCLUSION_AUTOMATIC_TOKENS it waits for the
    toggle; once on, it stays on for the next text, and the numbers are the library's."""
    long_text = " ".join(["The acting is superb but the plot is a dull mess."] * 7)
    inspector = Inspector(bundle.classifiers["lstm"])
    length = len(inspector.inspect(long_text).tokens)
    assert length > OCCLUSION_AUTOMATIC_TOKENS
    app = open_page("pages/inside.py", long_text)
    assert not [block for block in app.get("html") if " log-odds" in str(block.proto.body)]
    assert f"removes each of the {length} tokens" in all_text(app)
    app.toggle(key="inside_measure_words").set_value(True).run()
    assert not app.exception
    rows = [str(block.proto.body) for block in app.get("html") if " log-odds" in str(block.proto.body)]
    assert len(rows) == len(step_tables(app))
    expected = inspector.log_odds_importance(inspector.inspect(long_text).ids)[1]
    for row in rows:
        shown = [float(number) for number in re.findall(r'title="[^"]*: ([+-][0-9.]+) log-odds"', row)]
        if len(shown) == len(expected) and np.allclose(shown, expected, atol=2e-3):
            break
    else:
        pytest.fail("no row shows the LSTM's occlusion importance")
    app.text_area(key="inside_text_area").input(long_text + " The ending moved me.").run()
    assert len([block for block in app.get("html") if " log-odds" in str(block.proto.body)]) == len(rows)


def panel_charts(app) -> dict[str, dict]:
    """The projector panel's charts by their element key's part (unfolded, prediction, gates)."""
    charts = {}
    for chart in app.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        title = spec["layout"]["title"]["text"]
        for part, start in (("unfolded", "LSTM unfolded at token"), ("prediction", "Running prediction")):
            if title.startswith(start):
                charts[part] = spec
        if title.startswith("Gates at token"):
            charts["gates"] = spec
    return charts


def unit_text_blocks(app) -> list[str]:
    return [str(block.proto.body) for block in app.get("html") if 'data-rnndemo="unit-text"' in str(block.proto.body)]


@pytest.mark.slow
def test_the_projector_panel_shows_the_step_the_gates_and_the_text_coloured_by_one_unit(bundle):
    """A lecturer in presenter mode gets the projector panel: the word, the LSTM unfolded at t, every running
    prediction marked at t and the gates at t (means recomputed with numpy), and the text coloured by the unit that
    varies most; picking another unit recolours it, puts it in the link, and marks its gates."""
    app = open_page("pages/inside.py", TEXT, query={"present": "1", "step": "4"})
    assert not app.exception and app.toggle(key="inside_step_projector").value
    assert_step_shown(app, bundle, 3)  # the word, the tables and the marked running prediction, as without the panel
    lstm = Inspector(bundle.classifiers["lstm"]).inspect(TEXT)
    most_active = int(np.argmax(lstm.hidden.std(axis=0)))
    assert app.selectbox(key="inside_step_colour_model").value == "lstm"  # the first gated model shown
    assert app.selectbox(key="inside_step_colour_unit").value == "most active"
    assert f"most active on this text: unit {most_active}" in app.selectbox(key="inside_step_colour_unit").label
    charts = panel_charts(app)
    assert set(charts) == {"unfolded", "prediction", "gates"}
    assert "token 4" in charts["unfolded"]["layout"]["title"]["text"]
    gates = charts["gates"]["data"]
    bars = {trace["name"]: dict(zip(trace["y"], trace["x"])) for trace in gates if trace["type"] == "bar"}
    assert set(bars) == {"LSTM", "GRU"}
    gru = Inspector(bundle.classifiers["gru"]).inspect(TEXT)
    for model, inspection, names in (("LSTM", lstm, ("input", "forget", "output")), ("GRU", gru, ("update", "reset"))):
        for gate in names:
            assert bars[model][f"{model} {gate}"] == pytest.approx(float(inspection.gates[gate][3].mean()), abs=1e-6)
    diamonds = [trace for trace in gates if trace["type"] == "scatter"]
    assert len(diamonds) == 1 and diamonds[0]["x"] == pytest.approx(
        [float(lstm.gates[gate][3, most_active]) for gate in ("input", "forget", "output")], abs=1e-6
    )
    blocks = unit_text_blocks(app)
    assert blocks and f"h = {lstm.hidden[3, most_active]:+.3f}" in blocks[0]
    assert any(f"LSTM unit {most_active}" in str(block.proto.body) for block in app.get("html"))

    offered = unit_text.units_by_activity(lstm.hidden, 8)
    assert app.selectbox(key="inside_step_colour_unit").options == ["most active", *(f"unit {u}" for u in offered)]
    other = offered[1]  # the second most active
    app.selectbox(key="inside_step_colour_unit").set_value(f"unit {other}").run()
    assert not app.exception and ui.option("inside_step_colour_unit")["bind"] == "query-params"  # in the link
    blocks = unit_text_blocks(app)
    titles = re.findall(r'title="token (\d+): [^"]*, h = ([+-][0-9.]+)"', blocks[-1])  # the whole text
    assert [int(position) for position, _ in titles] == list(range(1, len(lstm.tokens) + 1))
    np.testing.assert_allclose([float(value) for _, value in titles], lstm.hidden[:, other], atol=6e-4)
    assert panel_charts(app)["gates"]["data"][1]["x"] == pytest.approx(
        [float(lstm.gates[gate][3, other]) for gate in ("input", "forget", "output")], abs=1e-6
    )
    app.button(key="inside_step_next").click().run()
    assert step(app) == 4 and "token 5" in panel_charts(app)["unfolded"]["layout"]["title"]["text"]
    assert app.selectbox(key="inside_step_colour_unit").value == f"unit {other}"


@pytest.mark.slow
def test_the_projector_panel_is_off_by_default_outside_presenter_mode_and_a_link_carries_the_unit(bundle):
    """Without presenter mode the stepper is drawn as before until the visitor turns the panel on; a link with a
    unit opens the panel's colouring on that unit; the SimpleRNN alone has no gates to draw, and says so."""
    linked = unit_text.units_by_activity(Inspector(bundle.classifiers["lstm"]).inspect(TEXT).hidden, 8)[2]
    app = open_page("pages/inside.py", TEXT, query={"inside_step_colour_unit": f"unit {linked}"})
    assert not app.exception and not app.toggle(key="inside_step_projector").value
    assert not unit_text_blocks(app) and "gates" not in panel_charts(app)
    app.toggle(key="inside_step_projector").set_value(True).run()
    assert not app.exception and unit_text_blocks(app)
    assert app.selectbox(key="inside_step_colour_unit").value == f"unit {linked}"
    app.radio(key="inside_model").set_value("rnn").run()
    assert not app.exception and "gates" not in panel_charts(app)
    assert "No gates: the SimpleRNN" in all_text(app)
    assert app.selectbox(key="inside_step_colour_model").value == "rnn"
    app.toggle(key="inside_step_projector").set_value(False).run()
    app.toggle(key="presenter_toggle").set_value(True).run()  # presenter mode switched on: the panel follows
    assert not app.exception and app.toggle(key="inside_step_projector").value

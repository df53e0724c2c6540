"""The text's and presenter mode's sync with the URL (?text=, ?text_cut=, ?present=), fast: AppTest runs only the
frame's sync (ui.init_session, as app.py does before every page), with no page, no model and no server.

Back and Forward are simulated as Streamlit marks them: AppTest's script runner builds its rerun request with
`is_history_navigation=True`, which the real ScriptRunContext then carries (no function of rnndemo is replaced).
"""

from __future__ import annotations

import functools

import pytest
from streamlit.runtime.scriptrunner import RerunData
from streamlit.testing.v1 import AppTest, local_script_runner

from rnndemo.text import DEFAULT_TEXT

URL_TEXT_LIMIT = 5_000  # what ?text= holds at most: the number the app and docs promise, written here on purpose
MY_TEXT = "A quiet, patient film that earns its ending."
LINKED_TEXT = "An awful, boring film; I walked out."


def _frame():
    """What app.py runs before every page: the shared session defaults and the URL sync."""
    import streamlit as st

    from rnndemo import ui
    from rnndemo.ui import compat

    ui.init_session()
    # proves the simulation reached ui
    st.session_state["probe_history_navigation"] = compat.is_history_navigation()


@pytest.fixture
def app():
    app = AppTest.from_function(_frame, default_timeout=60)
    app.run()
    assert not app.exception and app.session_state["review_text"] == DEFAULT_TEXT
    assert "text" not in app.query_params  # a bare URL means the lesson's review
    return app


def run(app: AppTest, monkeypatch: pytest.MonkeyPatch | None = None) -> AppTest:
    """One rerun; with `monkeypatch`, one the browser's Back or Forward button started."""
    if monkeypatch is None:
        app.run()
    else:
        with monkeypatch.context() as patch:
            patch.setattr(local_script_runner, "RerunData", functools.partial(RerunData, is_history_navigation=True))
            app.run()
        assert app.session_state["probe_history_navigation"]
    assert not app.exception, [each.value for each in app.exception]
    if monkeypatch is None:
        assert not app.session_state["probe_history_navigation"]
    return app


def type_text(app: AppTest, text: str) -> AppTest:
    """The visitor's own text (as a review box's callback sets it), then a rerun that writes it into the URL."""
    app.session_state["review_text"] = text
    return run(app)


def test_the_url_follows_the_text_this_session_wrote(app):
    type_text(app, MY_TEXT)
    assert _param(app, "text") == MY_TEXT
    run(app)  # its own value comes back unchanged: nothing is adopted, nothing rewritten
    assert app.session_state["review_text"] == MY_TEXT and _param(app, "text") == MY_TEXT


def _param(app: AppTest, name: str) -> str | None:
    value = app.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def test_a_text_value_this_session_did_not_write_is_adopted(app, monkeypatch):
    """Back to a URL whose ?text= holds another text (or a pasted link): that text becomes the review."""
    type_text(app, MY_TEXT)
    app.query_params["text"] = LINKED_TEXT
    run(app, monkeypatch)
    assert app.session_state["review_text"] == LINKED_TEXT and _param(app, "text") == LINKED_TEXT
    app.query_params["text"] = MY_TEXT  # and Forward again
    run(app, monkeypatch)
    assert app.session_state["review_text"] == MY_TEXT
    app.query_params["text"] = LINKED_TEXT  # a link pasted into the address bar: no history navigation
    run(app)
    assert app.session_state["review_text"] == LINKED_TEXT


def test_back_to_a_url_without_text_restores_the_lessons_review(app, monkeypatch):
    """Back to the bare URL the visit began with: no ?text= there means the lesson's text, on Back/Forward only."""
    type_text(app, MY_TEXT)
    del app.query_params["text"]
    run(app, monkeypatch)
    assert app.session_state["review_text"] == DEFAULT_TEXT and "text" not in app.query_params


def test_a_page_switch_that_drops_the_parameter_keeps_the_text_and_writes_it_again(app):
    """A page switch drops every parameter no widget is bound to: a missing ?text= then means nothing."""
    type_text(app, MY_TEXT)
    del app.query_params["text"]
    run(app)
    assert app.session_state["review_text"] == MY_TEXT and _param(app, "text") == MY_TEXT


def test_presenter_mode_follows_the_url_and_back_forward(app, monkeypatch):
    app.query_params["present"] = "1"  # a link a teacher was given
    run(app)
    assert app.session_state["present"] is True
    del app.query_params["present"]  # a page switch drops it: still presenting, and written again
    run(app)
    assert app.session_state["present"] is True and _param(app, "present") == "1"
    del app.query_params["present"]  # Back to the URL without it: presenter mode ends
    run(app, monkeypatch)
    assert app.session_state["present"] is False and "present" not in app.query_params
    app.query_params["present"] = "true"  # Forward again: any value but 0/false/no/off turns it on
    run(app, monkeypatch)
    assert app.session_state["present"] is True and _param(app, "present") == "1"
    app.query_params["present"] = "0"
    run(app)
    assert app.session_state["present"] is False and "present" not in app.query_params


@pytest.mark.parametrize("length", [URL_TEXT_LIMIT - 1, URL_TEXT_LIMIT, URL_TEXT_LIMIT + 1])
def test_the_url_holds_a_text_up_to_5000_characters_and_says_when_it_holds_only_the_start(app, length):
    text = ("abcdefghi " * 600)[:length]  # no edge whitespace: the whole text is the review
    type_text(app, text)
    assert app.session_state["review_text"] == text
    assert _param(app, "text") == text[:URL_TEXT_LIMIT] and len(_param(app, "text")) == min(length, URL_TEXT_LIMIT)
    assert ("text_cut" in app.query_params) == (length > URL_TEXT_LIMIT)


@pytest.mark.parametrize("length", [URL_TEXT_LIMIT - 1, URL_TEXT_LIMIT, URL_TEXT_LIMIT + 1])
def test_a_link_up_to_5000_characters_is_adopted_whole_and_a_longer_one_is_cut_with_a_notice(app, length):
    text = ("jklmnopqr " * 600)[:length]
    app.query_params["text"] = text
    run(app)
    assert app.session_state["review_text"] == text[:URL_TEXT_LIMIT]
    notice = app.session_state["url_text_notice"]
    if length > URL_TEXT_LIMIT:
        assert "only the first 5,000 characters" in notice
    else:
        assert notice == ""
    assert _param(app, "text") == text[:URL_TEXT_LIMIT]


def _parameter_frame():
    """A page's own parameter (the Inside page's ?step=): adopt what this session did not write, then write it."""
    import streamlit as st

    from rnndemo import ui
    from rnndemo.ui import compat

    ui.init_session()
    st.session_state["probe_history_navigation"] = compat.is_history_navigation()
    st.session_state["probe_adopted"] = ui.url_parameter_to_adopt("step")
    if st.session_state["probe_adopted"][0]:
        st.session_state["probe_step"] = st.session_state["probe_adopted"][1]
    ui.write_url_parameter("step", st.session_state.setdefault("probe_step", None))


def test_a_pages_parameter_missing_from_the_url_is_adopted_as_none_on_back_forward_only(monkeypatch):
    """The stepper's ?step= is gone after a page switch (kept, written again) and after Back to a URL without it
    (adopted: the stepper returns to the start), as the text's ?text= is."""
    app = AppTest.from_function(_parameter_frame, default_timeout=60)
    run(app)
    assert app.session_state["probe_adopted"] == (False, None) and "step" not in app.query_params
    app.query_params["step"] = "7"  # a link to step 7
    run(app)
    assert app.session_state["probe_adopted"] == (True, "7") and _param(app, "step") == "7"
    run(app)  # its own value back: nothing to adopt
    assert app.session_state["probe_adopted"] == (False, None)
    del app.query_params["step"]  # a page switch drops it: nothing adopted, the step is written again
    run(app)
    assert app.session_state["probe_adopted"] == (False, None) and _param(app, "step") == "7"
    del app.query_params["step"]  # Back to the URL without it: adopted as "no step"
    run(app, monkeypatch)
    assert app.session_state["probe_adopted"] == (True, None) and "step" not in app.query_params

"""A fresh server's first runs, when a class arrives at once: a page that Streamlit ran alone (its legacy `pages/`
router) hands itself over to app.py's frame, even when another session's first run already cleared the router's
process-wide flag. The browser version is test_first_requests_to_every_page_at_once_get_the_frame (test_browser.py),
which met this race in CI (/home without the wide layout); here it is made to happen on every run."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _page_then_frame():
    """A page's first run arrives without app.py (no frame); its rerun comes through app.py, which frames it."""
    import streamlit as st

    from rnndemo.ui import compat

    st.session_state.setdefault("runs", 0)
    st.session_state["runs"] += 1
    if st.session_state["runs"] > 1:
        st.session_state[compat.FRAMED_KEY] = True  # what ui.init_session does in app.py
    compat.leave_legacy_router()
    st.write(f"the page's body, run {st.session_state['runs']}")


def test_a_page_run_without_the_frame_reruns_through_it_after_the_flag_was_cleared():
    from streamlit.runtime.pages_manager import PagesManager

    app = AppTest.from_function(_page_then_frame, default_timeout=30)
    PagesManager.uses_pages_directory = False  # another session's st.navigation got there first
    app.run()
    assert not app.exception
    assert app.session_state["runs"] == 2
    assert [each.value for each in app.markdown] == ["the page's body, run 2"]
    app.run()  # framed from now on: no further rerun
    assert app.session_state["runs"] == 3


def test_a_framed_run_does_not_rerun():
    from rnndemo.ui import compat

    app = AppTest.from_function(_page_then_frame, default_timeout=30)
    app.session_state[compat.FRAMED_KEY] = True
    app.run()
    assert app.session_state["runs"] == 1

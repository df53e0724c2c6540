"""Every workaround that reaches into Streamlit's private API (or patches around its behaviour), in one place.

Each was checked against one Streamlit version, `CHECKED_STREAMLIT`. On another version each one says so once on
stderr, names what may not work, and falls back to doing nothing harmful: the server guard is not installed, a
probe that cannot find what it reads answers as if nothing were there. tests/test_architecture.py allows these
private imports here only.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import streamlit as st

# The Streamlit version whose private API these workarounds were checked against ("1.67.x").
CHECKED_STREAMLIT = "1.67."


def on_checked_version() -> bool:
    """True when the running Streamlit is the version the workarounds were checked against."""
    return st.__version__.startswith(CHECKED_STREAMLIT)


@functools.cache
def warn_unchecked(workaround: str, fallback: str) -> None:
    """Say once per process that a workaround runs on a Streamlit version it was not checked against."""
    print(
        f"rnndemo: warning: {workaround} was checked on Streamlit {CHECKED_STREAMLIT}x, not {st.__version__}; "
        f"{fallback}",
        file=sys.stderr,
        flush=True,
    )


# Set in session state by app.py (ui.init_session) before it runs a page: a page run alone lacks it.
FRAMED_KEY = "rnndemo_framed_by_app"


def leave_legacy_router() -> None:
    """Hand a fresh server's first run over to app.py's navigation (call first on every page).

    Until st.navigation has run once in a process, a `pages/` folder beside app.py makes
    Streamlit serve a deep link such as /inside by running pages/inside.py alone: no page
    config, no frame, file-name navigation. Page hashes come from url_path, and every page file has
    a url_path equal to its file stem (pages/home.py: its hidden twin /home, beside "index" and
    "walkthrough"), so after leaving that mode a rerun resolves to the same page through app.py.

    The mode is one flag for the whole process, and the first st.navigation clears it. When a class arrives at
    once, other sessions' first runs may already be running a page alone by then, so each run asks whether
    app.py framed it (FRAMED_KEY, set by ui.init_session) instead of reading the flag alone.
    Covered by tests/test_browser.py::test_first_requests_to_every_page_at_once_get_the_frame.
    """
    if not on_checked_version():
        warn_unchecked("leave_legacy_router", "a fresh server's first deep link may open without the frame.")
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # moved or gone in this version: nothing to leave
        return

    legacy_mode = getattr(PagesManager, "uses_pages_directory", False)
    if legacy_mode or not st.session_state.get(FRAMED_KEY):
        if legacy_mode:
            PagesManager.uses_pages_directory = False
        st.rerun()


def _script_run_context():
    """The running script's context (Streamlit's private ScriptRunContext), or None outside a script run."""
    if not on_checked_version():
        warn_unchecked("the script-run context probe", "Back/Forward may not be detected; sessions may share one id.")
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx
    except ImportError:  # moved or gone in this version: answer as outside a run
        return None
    return get_script_run_ctx()


def is_history_navigation() -> bool:
    """True when this run answers the browser's Back or Forward button."""
    context = _script_run_context()
    return bool(getattr(context, "is_history_navigation", False))


def session_id() -> str:
    """This visitor's session id (a race job and an upload's cache share belong to it)."""
    context = _script_run_context()
    return getattr(context, "session_id", None) or "no session"


# The browser history's one rule (docs/ARCHITECTURE.md, "State design"): the page and the review text are history
# entries; an option is not. Streamlit writes a widget bound to the URL with history.replaceState, but whatever the
# script writes into st.query_params (the text, presenter mode, the Time series options, the stepper's ?step=) with
# history.pushState, so Back walked through every move of a Time series slider and every stepper step. This script,
# run once per browser tab, turns a pushState that keeps the path and ?text= into a replaceState.
# A first run's writes come before the script has run: a link whose option the app corrects (?step=999 of a
# 105-token text, ?present=yes, an unreadable option set back to its default, a long text's cut mark) got an entry
# of its own, and Back from it stayed on the page (Chromium). So the script, once it runs on a page just opened,
# walks back over those entries to the link's own (the one entry of this page whose state is null: Streamlit pushes
# {}), without telling Streamlit (popstate is stopped), and writes the corrected address there.
HISTORY_RULE_KEY = "rnndemo_history_rule"  # the hidden container the script is drawn in (ui.widgets._READABLE_CSS)
_HISTORY_RULE_HTML = """
<script>
if (!window.rnndemoHistoryRule) {
  window.rnndemoHistoryRule = true;
  const push = window.history.pushState.bind(window.history);
  const replace = window.history.replaceState.bind(window.history);
  const sameEntry = (first, second) => first.pathname === second.pathname
    && first.searchParams.get("text") === second.searchParams.get("text");
  let latest = window.location.href;  // the last address Streamlit wrote
  window.history.replaceState = function (state, title, url) {
    if (url !== undefined && url !== null) latest = new URL(url, window.location.href).href;
    return replace(state, title, url);
  };
  window.history.pushState = function (state, title, url) {
    if (url === undefined || url === null) return push(state, title, url);
    const next = new URL(url, window.location.href);
    if (!sameEntry(next, new URL(window.location.href))) { latest = next.href; return push(state, title, url); }
    return window.history.replaceState(state, title, url);
  };
  const opened = performance.getEntriesByType("navigation")[0];
  if (opened && opened.type === "navigate" && window.history.state !== null
      && sameEntry(new URL(opened.name), new URL(window.location.href))) {
    let steps = 0;
    const walkBack = (event) => {
      event.stopImmediatePropagation();  // Streamlit would rerun the page for a Back of the visitor's
      steps += 1;
      if (window.history.state !== null && steps < 20) { window.history.back(); return; }
      window.removeEventListener("popstate", walkBack, true);
      window.history.replaceState({}, "", latest);
    };
    window.addEventListener("popstate", walkBack, true);
    window.history.back();
  }
}
</script>
"""


def keep_options_out_of_history() -> None:
    """Draw the script above (hidden): a change that keeps the page and the text replaces the history entry."""
    with st.container(key=HISTORY_RULE_KEY):
        st.html(_HISTORY_RULE_HTML, unsafe_allow_javascript=True)


def _ignore_clear_cache_request(self) -> None:
    """Stands in for AppSession._handle_clear_cache_request: a visitor may not clear every visitor's caches."""
    print("rnndemo: ignored a clear_cache request from a browser", file=sys.stderr, flush=True)


def guard_server() -> bool:
    """Patch Streamlit's session so no browser can clear the server's caches, and none is told server details.

    - Any websocket client may send the `clear_cache` BackMsg, without UI or token. It cleared every
      visitor's caches and made the server reload its models (~4.3 s of CPU each time).
    - Every new session was told the app's absolute path, the Streamlit and Python versions, the OS and
      an installation id. The frontend needs none of them to run the app.

    Idempotent; the launcher calls it before the server starts, app.py on every run. Returns whether the
    guards are on (False, with a warning, on a Streamlit version whose private API was not checked).
    """
    from streamlit.runtime import app_session

    session = app_session.AppSession
    if getattr(session, "_rnndemo_guarded", False):
        return True
    if not on_checked_version() or not hasattr(session, "_handle_clear_cache_request"):
        print(
            f"rnndemo: warning: Streamlit {st.__version__} is not guarded (checked: {CHECKED_STREAMLIT}x)",
            file=sys.stderr,
            flush=True,
        )
        return False
    create_new_session_message = session._create_new_session_message

    def without_server_details(self, *arguments, **keywords):
        message = create_new_session_message(self, *arguments, **keywords)
        message.new_session.main_script_path = Path(message.new_session.main_script_path).name
        initialize = message.new_session.initialize
        initialize.user_info.Clear()  # the installation ids
        initialize.environment_info.Clear()  # Streamlit and Python versions, the OS
        return message

    session._handle_clear_cache_request = _ignore_clear_cache_request
    session._create_new_session_message = without_server_details
    session._rnndemo_guarded = True
    return True


def _ignore_clear_session(*arguments, **keywords) -> None:
    """Stands in for keras.backend.clear_session inside the app server (see below)."""


def stop_streamlit_clearing_keras() -> None:
    """Keep TensorFlow's kernel cache across reruns.

    After every script run Streamlit calls `keras.backend.clear_session()`
    (ScriptRunner._clean_problem_modules). That empties TensorFlow's kernel cache, so the
    first call of each model in the next rerun re-instantiates and re-optimises its graph:
    60–90 ms instead of 1–10 ms, measured in the served app with py-spy. It also resets
    Keras global state while other sessions' threads may be using the shared models.
    The served models never need it, so in the app process it becomes a no-op. On another Streamlit version
    it is replaced all the same: the served models never need it there either.
    """
    if not on_checked_version():
        warn_unchecked("keeping Keras' kernel cache", "keras.backend.clear_session is made a no-op all the same.")
    import keras

    keras.backend.clear_session = _ignore_clear_session

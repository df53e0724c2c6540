"""One way to open a page under AppTest: through app.py's navigation, asserting that it arrived."""

from __future__ import annotations

import functools

from streamlit.components.v2 import manifest_scanner
from streamlit.testing.v1 import AppTest

from .conftest import PROJECT_ROOT

# Every AppTest's first run scans the metadata of every installed package for Streamlit v2 components (~0.3 s on an
# idle machine, over 1 s on a busy one; the fast tier opens about 60 apps). The installed packages do not change
# during a test session, so one scan per process serves every app; the app itself uses no v2 component (the scan
# finds none). If a Streamlit version drops the function, the apps simply scan as before.
if hasattr(manifest_scanner, "scan_component_manifests"):
    manifest_scanner.scan_component_manifests = functools.cache(manifest_scanner.scan_component_manifests)

# Each page file and the title it shows (st.title). switch_page to a wrong path silently stays
# where it was, so a page test first proves it is on the page it means.
PAGE_TITLES = {
    "pages/home.py": "From a movie review to an RNN's verdict",
    "pages/tokens.py": "Text → tokens → indices",
    "pages/embeddings.py": "Words become vectors",
    "pages/compare.py": "SimpleRNN vs LSTM vs GRU",
    "pages/language_model.py": "Language model: the next word",
    "pages/time_series.py": "Time series: the same recurrent layers forecast",
    "pages/inside.py": "Inside the RNN",
    "pages/race.py": "Train it yourself",
    "pages/model_cards.py": "Model cards",
    "pages/batch.py": "Batch check",
}
PAGES = list(PAGE_TITLES)


def new_app(text: str | None = None, query: dict | None = None) -> AppTest:
    """The app before its first run, with the shared text and URL parameters seeded."""
    app = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    if text is not None:
        app.session_state["review_text"] = text
    for key, value in (query or {}).items():
        app.query_params[key] = value
    return app


def titles(app: AppTest) -> list[str]:
    return [str(title.value) for title in app.title]


def go(app: AppTest, path: str) -> AppTest:
    """Switch to `path` as the sidebar would and assert the page's title is shown."""
    app.switch_page(path).run()
    assert PAGE_TITLES[path] in titles(app), (path, titles(app), [e.value for e in app.exception])
    return app


def open_page(path: str, text: str | None = None, query: dict | None = None) -> AppTest:
    """Open `path` as a browser opens its URL: app.py's frame and navigation run with that page, and no other page
    runs first (running the home page first cost 0.3 s of CPU per test and tested nothing of this page)."""
    app = new_app(text, query)
    return go(app, path)


def all_text(app: AppTest) -> str:
    parts = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "code", "title", "subheader", "text"):
        parts.extend(str(element.value) for element in getattr(app, kind))
    return "\n".join(parts)

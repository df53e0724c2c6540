"""rnndemo: the frame of the app. Sets the page config, shared session state, the URL and navigation."""

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import streamlit as st  # noqa: E402

from rnndemo import ui  # noqa: E402

# No browser may clear the caches; TensorFlow imports under the load lock (see rnndemo/loading.py).
ui.server_ready()

# The icon ships with the app: a :material/ icon would make the browser fetch it from a font CDN.
ICON = Path(__file__).parent / ".streamlit" / "favicon.png"
st.set_page_config(
    page_title="rnndemo: text to RNN",
    page_icon=str(ICON),
    layout="wide",
    initial_sidebar_state="auto",
)
ui.init_session()
ui.presenter_frame()

# Every page file has a url_path equal to its file's stem, so Streamlit's legacy `pages/` router (which
# serves a fresh server's first request) and st.navigation name each page alike (see ui.leave_legacy_router).
# The Walkthrough is the default page, whose URL is "/" (a default page's url_path is not used); hidden
# twins serve /home (its file's stem) and /walkthrough (its title), which visitors type.
PAGES = [
    st.Page("pages/home.py", title="Walkthrough", icon=":material/home:", default=True, url_path="index"),
    st.Page("pages/home.py", title="Walkthrough", icon=":material/home:", url_path="home", visibility="hidden"),
    st.Page("pages/home.py", title="Walkthrough", icon=":material/home:", url_path="walkthrough", visibility="hidden"),
    st.Page("pages/tokens.py", title="Text → tokens → indices", icon=":material/text_fields:", url_path="tokens"),
    st.Page("pages/embeddings.py", title="Embeddings", icon=":material/scatter_plot:", url_path="embeddings"),
    st.Page("pages/compare.py", title="RNN vs LSTM vs GRU", icon=":material/compare_arrows:", url_path="compare"),
    st.Page("pages/language_model.py", title="Language model", icon=":material/edit_note:", url_path="language_model"),
    st.Page("pages/time_series.py", title="Time series", icon=":material/show_chart:", url_path="time_series"),
    st.Page("pages/inside.py", title="Inside the RNN", icon=":material/biotech:", url_path="inside"),
    st.Page("pages/race.py", title="Train it yourself", icon=":material/timer:", url_path="race"),
    st.Page("pages/model_cards.py", title="Model cards", icon=":material/assignment:", url_path="model_cards"),
    st.Page("pages/batch.py", title="Batch check", icon=":material/upload_file:", url_path="batch"),
]
started = time.perf_counter()
st.navigation(PAGES, position=ui.navigation_position()).run()
if os.environ.get("RNNDEMO_TIMING"):  # diagnostics for the benchmark: server time of each rerun
    print(f"rnndemo: rerun {(time.perf_counter() - started) * 1000:.0f} ms", file=sys.stderr, flush=True)

"""rnndemo: the frame of the app. Sets the page config, shared session state and navigation."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import streamlit as st  # noqa: E402

from rnndemo import ui  # noqa: E402

st.set_page_config(page_title="rnndemo: text to RNN", page_icon="🎬", layout="wide")
ui.init_session()

PAGES = [
    st.Page("pages/home.py", title="Walkthrough", icon="🏠", default=True, url_path="home"),
    st.Page("pages/tokens.py", title="Text → tokens → indices", icon="🔤", url_path="tokens"),
    st.Page("pages/embeddings.py", title="Embeddings", icon="🧭", url_path="embeddings"),
    st.Page("pages/compare.py", title="RNN vs LSTM", icon="⚖️", url_path="compare"),
    st.Page("pages/inside.py", title="Inside the RNN", icon="🔬", url_path="inside"),
    st.Page("pages/model_cards.py", title="Model cards", icon="📋", url_path="models"),
    st.Page("pages/batch.py", title="Batch check", icon="📦", url_path="batch"),
]
st.navigation(PAGES).run()

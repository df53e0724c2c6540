"""The real app in a real browser: navigation, verdicts, sharing links, and no script injection."""

import os
import time
import urllib.parse

import pytest

from benchmarks.browser import (
    PROJECT_ROOT,
    chromium_available,
    launch_browser,
    open_from_navigation,
    paste_review,
    streamlit_server,
    wait_for_idle,
)

pytestmark = pytest.mark.browser  # drives Chromium against a real server: left out of `make test-fast`

if not chromium_available():
    if os.environ.get("RNNDEMO_REQUIRE_BROWSER"):
        raise RuntimeError("Chromium is required for the browser tests here (apt-get install -y chromium)")
    pytest.skip("no Chromium on this machine (apt-get install -y chromium)", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

from rnndemo.data import BAIT_EXCERPT, sample_label  # noqa: E402
from rnndemo.text import DEFAULT_TEXT  # noqa: E402

SCREENSHOTS = PROJECT_ROOT / "artifacts" / "screenshots"
PAGE_TITLES = [
    "Walkthrough",
    "Text → tokens → indices",
    "Embeddings",
    "RNN vs LSTM vs GRU",
    "Language model",
    "Inside the RNN",
    "Train it yourself",
    "Model cards",
    "Batch check",
]
# Each page's URL (its file stem) and the heading it shows.
PAGE_URLS = {
    "/home": "From a movie review to an RNN's verdict",
    "/tokens": "Text → tokens → indices",
    "/embeddings": "Words become vectors",
    "/compare": "SimpleRNN vs LSTM vs GRU",
    "/language_model": "Language model: the next word",
    "/time_series": "Time series: the same recurrent layers forecast",
    "/inside": "Inside the RNN",
    "/race": "Train it yourself",
    "/model_cards": "Model cards",
    "/batch": "Batch check",
}
# The sidebar's Walkthrough link is the default page, at "/".
NAVIGATION_HEADINGS = {**PAGE_URLS, "/": PAGE_URLS["/home"]}
CENTERED_LAYOUT_WIDTH = 736  # Streamlit's main column without layout="wide"
XSS = [
    "<script>window.__xss = 1; alert(1)</script>",
    '<img src=x onerror="window.__xss=1;alert(1)">',
    '[click](javascript:window.__xss=1) <svg onload="window.__xss=1">',
    '"><iframe srcdoc="<script>parent.__xss=1</script>"></iframe> $\\alert{1}$ **bold**',
]


@pytest.fixture(scope="module")
def server():
    with streamlit_server() as (url, process, seconds):
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = launch_browser(playwright)
        yield chromium
        chromium.close()


def new_page(browser, dialogs: list):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    return page


def open_page(browser, url: str, dialogs: list | None = None):
    """A new tab on `url`, once its first script run has finished."""
    page = new_page(browser, [] if dialogs is None else dialogs)
    page.goto(url)
    wait_for_idle(page, 120_000)
    return page


def exceptions_on(page) -> int:
    return page.locator("[data-testid='stException']").count()


def test_every_page_from_the_navigation(server, browser):
    """A visitor clicks through every page in the sidebar and sees no error."""
    dialogs = []
    page = new_page(browser, dialogs)
    page.goto(server)
    wait_for_idle(page, 120_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for number, title in enumerate(PAGE_TITLES):
        path = open_from_navigation(page, title, NAVIGATION_HEADINGS)
        assert exceptions_on(page) == 0, title
        assert heading(page) == NAVIGATION_HEADINGS[path], title
        page.wait_for_timeout(500)
        # For people to look at: is this what a teacher would put on a projector?
        page.screenshot(path=str(SCREENSHOTS / f"{number}_{title.split()[0].lower()}.png"), full_page=True)
    assert not dialogs
    page.close()


def test_paste_shows_verdicts(server, browser):
    """Pasting a review on the RNN-vs-LSTM page shows both models' verdicts and the running-prediction chart."""
    page = open_page(browser, f"{server}/compare")
    paste_review(page, "An absolute masterpiece, moving and beautifully acted. I loved every minute.")
    wait_for_idle(page)
    metrics = page.locator("[data-testid='stMetricValue']").all_inner_texts()
    assert metrics.count("positive") >= 2, metrics
    assert page.locator(".js-plotly-plot").count() >= 1  # the running-prediction chart
    assert exceptions_on(page) == 0
    page.close()


def test_paste_shows_tokens(server, browser):
    """Pasting a review on the tokens page shows its tokens and their count."""
    page = open_page(browser, f"{server}/tokens")
    paste_review(page, "I'm glad, REALLY glad<br />I watched it")
    page.wait_for_selector("text=Tokens (7)", timeout=60_000)
    assert "i'm glad really glad i watched it" in page.locator("[data-testid='stCode']").all_inner_texts()[1]
    assert exceptions_on(page) == 0
    page.close()


def test_embeddings_page_draws_a_plotly_chart(server, browser):
    """The embeddings page draws its PCA map with Plotly."""
    page = open_page(browser, f"{server}/embeddings")
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
    assert page.locator(".js-plotly-plot").count() >= 1
    assert exceptions_on(page) == 0
    page.close()


@pytest.mark.parametrize("payload", XSS)
def test_pasted_scripts_never_run(server, browser, payload):
    """XSS payloads pasted into the review box, on every page with the box, and via ?text= run nothing."""
    dialogs = []
    page = new_page(browser, dialogs)
    page.goto(f"{server}/inside?text={urllib.parse.quote(payload + ' a great film')}")
    wait_for_idle(page, 120_000)
    for path in ("", "tokens", "compare", "embeddings"):
        page.goto(f"{server}/{path}")
        wait_for_idle(page, 120_000)
        paste_review(page, payload + " terrible acting")
        wait_for_idle(page)
        assert page.evaluate("() => window.__xss === undefined"), path
        assert exceptions_on(page) == 0, path
    # The embeddings page's other text inputs: query word, extra words and the analogy boxes.
    page.goto(f"{server}/embeddings")
    wait_for_idle(page, 120_000)
    for position in range(page.locator("input[type='text']").count()):
        box = page.locator("input[type='text']").nth(position)
        box.fill(payload[:100])
        box.press("Enter")
        wait_for_idle(page)
        assert page.evaluate("() => window.__xss === undefined"), position
        assert exceptions_on(page) == 0, position
    assert not dialogs
    page.close()


def test_inside_page_draws_heatmaps_and_gates(server, browser):
    """Inside the RNN shows the unfolded graph, hidden-state heatmaps, gates and the memory curves."""
    page = open_page(browser, f"{server}/inside")
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 8", timeout=60_000)
    # Plotly draws each chart's frame before its heatmap layer: wait for the layers (a loaded machine takes longer).
    page.wait_for_function(
        "() => document.querySelectorAll('.js-plotly-plot .heatmaplayer').length >= 6", timeout=60_000
    )
    assert page.locator(".js-plotly-plot .heatmaplayer").count() >= 6  # 2 hidden-state maps, 3 gates, cell state
    assert exceptions_on(page) == 0
    page.close()


def test_language_model_page_suggests_appends_and_generates(server, browser):
    """A visitor types a prefix, clicks a suggested next word (it is appended to the text), asks for the
    next generated word, and sees every chart, with no error."""
    page = open_page(browser, f"{server}/language_model")
    paste_review(page, "This was one of the best")
    page.wait_for_function("() => document.querySelector('textarea').value === 'This was one of the best'")
    wait_for_idle(page)  # the paste's own rerun has finished: the suggestions are for this text
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3", timeout=60_000)
    suggestion = page.locator("[data-testid='stMain'] button", has_text="·").first
    word = suggestion.inner_text().split("·")[0].strip()
    suggestion.click()
    page.wait_for_function(
        "(word) => document.querySelector('textarea').value.endsWith(' ' + word)", arg=word, timeout=60_000
    )
    wait_for_idle(page)
    before = page.locator("[data-testid='stMain'] [data-testid='stSlider']").nth(2).inner_text()
    page.locator("[data-testid='stMain'] button", has_text="Next step").click()
    wait_for_idle(page)
    after = page.locator("[data-testid='stMain'] [data-testid='stSlider']").nth(2).inner_text()
    assert before != after, (before, after)
    assert page.locator("[data-testid='stMain'] span[title^='−ln p']").count() >= 6  # the surprise colouring
    assert exceptions_on(page) == 0
    page.close()


def test_shared_link_prefills_the_text(server, browser):
    """A teacher's ?text= link opens with that review in the box, shown as text."""
    page = new_page(browser, [])
    page.goto(f"{server}/compare?text={urllib.parse.quote('<b>Dreadful</b> and boring')}")
    wait_for_idle(page, 120_000)
    # Wait for the value itself: right after load the text area can exist before its first value arrives.
    page.wait_for_function(
        "() => { const area = document.querySelector('textarea'); "
        "return area && area.value === '<b>Dreadful</b> and boring'; }",
        timeout=60_000,
    )
    assert page.locator("textarea").first.input_value() == "<b>Dreadful</b> and boring"
    assert page.locator("b", has_text="Dreadful").count() == 0
    page.close()


def test_batch_says_why_a_label_like_column_was_not_chosen(server, browser, tmp_path):
    """A "sentiment" column with one value that is not a label: no label column is chosen, and the page says
    why (choosing it then names the odd value: tests/test_batch.py checks that message)."""
    upload = tmp_path / "reviews.csv"
    upload.write_text("review,sentiment\nA wonderful film.,pos\nDull and far too long.,neg\nHard to say.,maybe\n")
    page = open_page(browser, f"{server}/batch")
    page.locator("input[type='file']").set_input_files(str(upload))
    page.wait_for_selector("text=named like a label column", timeout=60_000)
    assert page.get_by_text("not every value is one of").count() == 1
    assert exceptions_on(page) == 0
    page.close()


def test_batch_upload_good_and_bad_files(server, browser, tmp_path):
    """A labelled CSV gets per-model accuracy; a binary file gets a clear message and the page keeps working."""
    good = tmp_path / "reviews.csv"
    good.write_text(
        'text,label\n"A wonderful, moving film.",1\nDull and far too long.,0\n"=cmd|\' /C calc\'!A0 awful",0\n"  ",1\n'
    )
    bad = tmp_path / "photo.csv"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    page = open_page(browser, f"{server}/batch")
    page.locator("input[type='file']").set_input_files(str(bad))
    page.wait_for_selector("text=looks binary", timeout=60_000)
    assert exceptions_on(page) == 0
    page.locator("input[type='file']").set_input_files(str(good))
    page.wait_for_selector("text=Against your labels", timeout=60_000)
    page.wait_for_function(
        "() => document.querySelectorAll(\"[data-testid='stMetricValue']\").length >= 3", timeout=60_000
    )
    assert (
        "100.0%" in page.locator("[data-testid='stMetricValue']").all_inner_texts()
    )  # some model gets all three right
    # The row without words is not scored, and the page says so (no invented p = 0.5).
    assert page.get_by_text("1 row has no words once cleaned; no model predicts it").count() == 1
    assert exceptions_on(page) == 0
    page.close()


def enter_word(page, index: int, words: str, done: str) -> None:
    """Type into the index-th text box of the page, press Enter, and wait until the JS condition `done` holds
    and the fragments have redrawn."""
    from .browser_sweep import settle

    box = page.locator("[data-testid='stMain'] [data-testid='stTextInput'] input").nth(index)
    box.fill(words)
    box.press("Enter")
    page.wait_for_function(done, polling=100, timeout=60_000)
    settle(page)


def heading(page) -> str:
    return page.locator("h1").first.inner_text()


def text_in_box(page) -> str:
    """The review box's value, once the box has received one."""
    page.wait_for_function(
        "() => { const area = document.querySelector('textarea'); return area && area.value.length > 0; }",
        timeout=60_000,
    )
    return page.locator("textarea").first.input_value()


def test_first_requests_to_every_page_at_once_get_the_frame(browser):
    """A fresh server's first requests, to every page's URL at once (a class arriving on different pages), each
    show that page inside the app's frame: wide layout and the app's navigation (not Streamlit's file-name
    router). One server for all pages: a server per page cost 25 s each in CI."""
    with streamlit_server() as (url, process, seconds):
        pages = {path: new_page(browser, []) for path in PAGE_URLS}
        for path, page in pages.items():
            page.goto(url + path, wait_until="commit")  # every request is sent before any page has run
        for path, page in pages.items():
            wait_for_idle(page, 120_000)
            page.wait_for_timeout(300)
            wait_for_idle(page)
            assert heading(page) == PAGE_URLS[path], path
            assert page.url.rstrip("/").endswith(path)
            width = page.evaluate(
                "() => document.querySelector(\"[data-testid='stMainBlockContainer']\").getBoundingClientRect().width"
            )
            assert width > CENTERED_LAYOUT_WIDTH, (path, width)
            assert page.locator("[data-testid='stSidebarNav'] a").all_inner_texts()[-1].endswith("Batch check"), path
            assert not page.get_by_text("Page not found").count(), path
            assert exceptions_on(page) == 0, path
            page.close()


@pytest.mark.xdist_group("sweep")  # its own queue, beside the other server tests (tests/conftest.py)
def test_sweep_every_control_from_a_deep_link(browser, tmp_path):
    """On a fresh server whose first request is a deep link, every control of every page is used once
    (discovered from each page's DOM), with no error anywhere."""
    from .browser_sweep import sweep_page

    upload = tmp_path / "reviews.csv"
    upload.write_text('text,label\n"A wonderful, moving film.",1\nDull and far too long.,0\n,1\n')
    counts = {}
    options_used: set[tuple[str, str]] = set()  # a select box shared by pages sweeps its options once in all
    with streamlit_server() as (url, process, seconds):
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        page.goto(url + "/model_cards")
        wait_for_idle(page, 120_000)
        for title in PAGE_TITLES:
            open_from_navigation(page, title, NAVIGATION_HEADINGS)
            counts[title] = sweep_page(page, upload, options_used=options_used)
        context.close()
    print("controls used per page:", {title: dict(used) for title, used in counts.items()})
    assert counts["Model cards"]["number"] == 2 and counts["Model cards"]["button"] >= 1
    assert counts["RNN vs LSTM vs GRU"]["toggle"] + counts["RNN vs LSTM vs GRU"]["checkbox"] >= 2
    assert counts["Embeddings"]["slider"] == 2 and counts["Embeddings"]["tab"] == 2
    assert counts["Batch check"]["upload"] == 1 and counts["Batch check"]["selectbox"] >= 2
    assert counts["Text → tokens → indices"]["checkbox"] == 4 and counts["Text → tokens → indices"]["radio"] == 5


def toggle_presenter_mode(page, on: bool) -> None:
    """Switch presenter mode with its toggle (in the sidebar, or at the top of the page when on)."""
    page.locator(".st-key-presenter_toggle label").first.click()  # the frame's toggle (ui.PRESENTER_TOGGLE)
    page.wait_for_function(f"() => window.location.search.includes('present=1') === {str(on).lower()}", timeout=30_000)
    wait_for_idle(page)


def test_reload_back_forward_follow_the_url(server, browser):
    """The URL follows the text: reload keeps it, Back and Forward show the text of their URL,
    a page switch keeps it. The page and the text are history entries, an option is not (docs/ARCHITECTURE.md):
    presenter mode switched on and off in between replaces the entry, so Back goes to the text before."""
    page = open_page(browser, f"{server}/tokens")
    paste_review(page, "A dull film")
    wait_for_idle(page)
    page.wait_for_url("**/tokens?text=A+dull+film", timeout=30_000)
    paste_review(page, "A moving film")
    wait_for_idle(page)
    page.wait_for_url("**/tokens?text=A+moving+film", timeout=30_000)
    toggle_presenter_mode(page, True)  # written by the script, as the Time series options and ?step= are
    toggle_presenter_mode(page, False)
    page.wait_for_url("**/tokens?text=A+moving+film", timeout=30_000)
    open_from_navigation(page, "RNN vs LSTM vs GRU", NAVIGATION_HEADINGS)
    assert page.url.endswith("/compare?text=A+moving+film") and text_in_box(page) == "A moving film"
    page.go_back()
    wait_for_idle(page)
    assert heading(page) == "Text → tokens → indices" and text_in_box(page) == "A moving film"
    page.go_back()
    wait_for_idle(page)
    page.wait_for_function("() => document.querySelector('textarea').value === 'A dull film'", timeout=30_000)
    assert page.url.endswith("/tokens?text=A+dull+film")
    page.go_forward()
    wait_for_idle(page)
    page.wait_for_function("() => document.querySelector('textarea').value === 'A moving film'", timeout=30_000)
    page.reload()
    wait_for_idle(page, 120_000)
    assert text_in_box(page) == "A moving film" and page.url.endswith("/tokens?text=A+moving+film")
    assert exceptions_on(page) == 0
    page.close()


def test_a_link_the_app_corrects_when_it_opens_leaves_with_one_back(server, browser):
    """A visitor opens a link whose options the app corrects on its first run, before the page's history rule is in
    place (a step past the text's end, ?present=yes, an unreadable option): the page shows the corrected view at its
    corrected address, and one Back leaves the app for the page before. (Each correction used to push an entry of
    its own, so Back stayed on the same page.) The rule still holds after: Next replaces the entry."""
    for link, corrected in (
        ("/inside?step=999", "/inside?step=105"),
        ("/?present=yes", "/?present=1"),
        ("/tokens?tokens_order=bogus", "/tokens"),
    ):
        page = new_page(browser, [])
        page.goto("about:blank")
        page.goto(server + link)
        wait_for_idle(page, 120_000)
        page.wait_for_function(f"() => window.location.href === {server + corrected!r}", timeout=30_000)
        page.wait_for_timeout(1000)  # the history rule's walk back to the link's own entry
        assert exceptions_on(page) == 0, link
        if link.startswith("/inside"):
            page.get_by_text("Token 105 of 105").first.wait_for(timeout=30_000)
            page.get_by_role("button", name="Previous").first.click()
            page.wait_for_function("() => window.location.search.includes('step=104')", timeout=30_000)
        page.go_back()
        page.wait_for_url("about:blank", timeout=30_000)
        page.close()


def test_copy_link_copies_a_link_that_opens_the_same_view(server, browser):
    """Copy link puts the page's URL with its text and options on the clipboard; opening it shows the same view."""
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    from .browser_sweep import settle

    page.goto(f"{server}/embeddings")
    wait_for_idle(page, 120_000)
    settle(page)
    paste_review(page, "Sharp, funny & sad")
    settle(page)
    enter_word(page, 0, "terrible", "() => window.location.search.includes('embeddings_query=terrible')")
    page.locator("button[data-rnndemo='copy-link']").click()
    page.wait_for_selector("button[data-rnndemo='copy-link']:has-text('Link copied')", timeout=10_000)
    link = page.evaluate("() => navigator.clipboard.readText()")
    assert (
        link.startswith(f"{server}/embeddings?")
        and "text=Sharp%2C+funny+%26+sad" in link
        and "embeddings_query=terrible" in link
    )
    fresh = context.new_page()
    fresh.goto(link)
    wait_for_idle(fresh, 120_000)
    settle(fresh)  # the neighbour box is drawn by a fragment, after the main run
    assert text_in_box(fresh) == "Sharp, funny & sad"
    fresh.wait_for_function(
        "() => { const box = document.querySelector(\"[data-testid='stMain'] [data-testid='stTextInput'] input\");"
        " return box && box.value === 'terrible'; }",
        timeout=30_000,
    )
    context.close()


def test_the_sample_picker_loads_a_labelled_review_and_follows_the_text(server, browser):
    """First load: the picker names the lesson's example in the box. Load a negative review: its true label is
    shown and the picker keeps its choice. Edit the text: the picker says "your own text" and Load is off."""
    from .browser_sweep import open_selectbox, settle

    page = open_page(browser, f"{server}/compare")
    # Found by its label: Compare has other selectboxes (the minimal pairs'), and a CI run read one of those.
    picker = (
        page.locator("[data-testid='stSelectbox']", has_text="Or pick a sample").locator("input").first
    )  # the combobox shows its choice as its value
    assert picker.input_value() == sample_label(BAIT_EXCERPT) != BAIT_EXCERPT  # short; named in full below the box
    assert page.get_by_text(f"Sample: {BAIT_EXCERPT}. True label: positive (labelled by the lesson)").count() == 1
    open_selectbox(page, 0).filter(has_text="negative IMDB review").first.click()
    settle(page)
    page.get_by_role("button", name="Load sample").click()
    settle(page)
    assert picker.input_value() == "negative IMDB review"
    assert text_in_box(page) != DEFAULT_TEXT
    caption = page.locator("[data-testid='stCaptionContainer']", has_text="True label").first.inner_text()
    assert "True label: negative" in caption, caption
    marks = page.locator("[data-testid='stMetricValue']").all_inner_texts()
    assert marks and all(mark.endswith(("✓", "✗")) for mark in marks), marks
    paste_review(page, "A dull, lifeless film.")
    settle(page)
    assert picker.input_value() == "your own text"
    assert page.get_by_role("button", name="Load sample").is_disabled()
    assert exceptions_on(page) == 0
    page.close()


# Every label a sample picker can show, measured in its own input's type: (room in px, [label, width in px]).
PICKER_LABEL_WIDTHS = """(input, labels) => {
    const style = getComputedStyle(input), ruler = document.createElement('canvas').getContext('2d');
    ruler.font = style.font;
    const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return [room, labels.map((label) => [label, ruler.measureText(label).width])];
}"""


def test_on_a_phone_the_sample_picker_shows_its_whole_choice(server, browser):
    """A student on a 390×844 phone, and the same phone in presenter mode: every choice of the sample picker fits
    its box whole (Streamlit's selectbox cut "the Bait excerpt, as on the slide (its first 594 characters)"), and the
    lesson sample in the box is named in full under it."""
    from rnndemo.ui import SAMPLE_KINDS

    labels = [sample_label(kind) for kind in SAMPLE_KINDS]
    for query in ("", "?present=1"):
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(f"{server}/compare{query}")
        wait_for_idle(page, 120_000)
        picker = page.locator("[data-testid='stSelectbox']", has_text="Or pick a sample").locator("input").first
        assert picker.input_value() == sample_label(BAIT_EXCERPT)
        room, widths = picker.evaluate(PICKER_LABEL_WIDTHS, [BAIT_EXCERPT, *labels])
        assert widths[0][1] > room, (query, room, widths[0])  # the full name: the measure sees the cut
        too_wide = [(label, round(width)) for label, width in widths[1:] if width > room]
        assert not too_wide, (query, room, too_wide)
        caption = page.locator("[data-testid='stCaptionContainer']", has_text="True label").first
        assert caption.inner_text().startswith(f"Sample: {BAIT_EXCERPT}.")
        assert caption.evaluate("element => element.getBoundingClientRect().right") <= 390
        page.screenshot(path=str(SCREENSHOTS / f"sample_picker_390x844{query.replace('?', '_')}.png"))
        assert exceptions_on(page) == 0
        page.close()


def test_the_why_card_links_to_the_stepper_at_the_token_it_names(server, browser):
    """On the Walkthrough, the LSTM's "why it said that" card links to Inside: the link opens the stepper at the
    token where the LSTM's running prediction last crossed 0.5, and ?step= says so; Next moves it on in the URL."""
    from .browser_sweep import settle

    page = open_page(browser, f"{server}/")
    link = page.get_by_role("link", name="Step through the LSTM on Inside the RNN, from token")
    step = link.inner_text().rsplit(" ", 1)[-1]
    link.click()
    page.wait_for_function("() => window.location.pathname.endsWith('/inside')", timeout=30_000)
    wait_for_idle(page, 120_000)
    settle(page)
    assert urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)["step"] == [step]
    page.get_by_text(f"Token {step} of").first.wait_for(timeout=60_000)
    page.get_by_role("button", name="Next").click()
    page.wait_for_function(f"() => window.location.search.includes('step={int(step) + 1}')", timeout=30_000)
    assert exceptions_on(page) == 0
    page.go_back()  # a step is an option, not a history entry: Back returns to the Walkthrough
    page.wait_for_function("() => !window.location.pathname.endsWith('/inside')", timeout=30_000)
    wait_for_idle(page, 120_000)
    assert heading(page) == PAGE_URLS["/home"]
    page.close()


def test_typed_urls_of_the_walkthrough_open_it_without_a_not_found_dialog(server, browser):
    """/, /home (the file's stem) and /walkthrough (the page's title) all open the Walkthrough on a running
    server; a mistyped path says "Page not found" and still shows it. (A fresh server's very first request is
    routed by file name before the app's navigation exists: there only file stems resolve.)"""
    for path in ("/", "/home", "/walkthrough"):
        page = open_page(browser, server + path)
        page.wait_for_timeout(500)
        assert heading(page) == PAGE_URLS["/home"], path
        assert page.get_by_text("Page not found").count() == 0, path
        page.close()
    page = open_page(browser, server + "/no_such_page")
    page.wait_for_timeout(500)
    assert heading(page) == PAGE_URLS["/home"] and page.get_by_text("Page not found").count() == 1
    page.close()


def test_nothing_is_fetched_from_outside_the_server(server, browser):
    """Nothing is downloaded at run time: every request of every page (favicon included) goes to the app's server."""
    page = new_page(browser, [])
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    for path in PAGE_URLS:
        page.goto(server + path)
        wait_for_idle(page, 120_000)
        page.wait_for_timeout(300)
    outside = [url for url in requests if not url.startswith((server, "data:", "blob:"))]
    assert not outside, outside[:5]
    page.close()


def test_a_paste_over_100000_characters_keeps_its_end_and_says_so(server, browser):
    """A huge paste is not silently ignored: the last 100,000 characters are used, and the page says what was cut."""
    page = open_page(browser, f"{server}/compare")
    paste_review(page, "dreadful " * 15_000 + "but in the end a wonderful, moving film")
    wait_for_idle(page)
    page.wait_for_selector("text=only the last 100,000 were kept", timeout=60_000)
    assert page.locator("textarea").first.input_value().endswith("a wonderful, moving film")
    assert exceptions_on(page) == 0
    page.close()


def test_the_app_works_under_the_documented_content_security_policy(server, browser):
    """The CSP in docs/DEPLOY.md does not break the app: pages draw, charts render, the copy link works."""
    import re

    from benchmarks.browser import launch_options

    block = (PROJECT_ROOT / "docs" / "DEPLOY.md").read_text(encoding="utf-8")
    policy = re.search(r'add_header Content-Security-Policy "([^"]+)" always;', block).group(1)
    options = launch_options()
    # Responses fulfilled by the test (to add the header) lose their address space, and Chromium's
    # local-network checks would then block the websocket to 127.0.0.1; a real proxy has no such issue.
    options["args"] = [*options["args"], "--disable-features=LocalNetworkAccessChecks"]
    from playwright.sync_api import Error as PlaywrightError

    browser = browser.browser_type.launch(**options)  # a second Chromium with that one flag
    try:
        context = browser.new_context(
            viewport={"width": 1400, "height": 1000}, permissions=["clipboard-read", "clipboard-write"]
        )
        violations = []
        page = context.new_page()
        page.on(
            "console",
            lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
        )

        def with_policy(route):
            try:
                response = route.fetch()
            except PlaywrightError:
                # A request the next navigation cancelled (the server reset it): an unhandled error here
                # left that navigation waiting forever in one CI run, so the request is aborted instead.
                route.abort()
                return
            headers = {**response.headers, "content-security-policy": policy, "x-frame-options": "DENY"}
            route.fulfill(response=response, headers=headers)

        page.route(f"{server}/**", with_policy)
        for path in ("/compare", "/inside", "/embeddings"):
            page.goto(server + path, wait_until="commit", timeout=120_000)
            wait_for_idle(page, 120_000)
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
            assert exceptions_on(page) == 0, path
        page.locator("button[data-rnndemo='copy-link']").click()
        page.wait_for_selector("button[data-rnndemo='copy-link']:has-text('Link copied')", timeout=10_000)
        assert not violations, violations[:3]
    finally:
        browser.close()  # also when an assertion failed: its routes must not reach the next test


def test_visitor_words_in_messages_render_as_typed(server, browser):
    """Icon and emoji shortcodes, autolinks, images, HTML and LaTeX typed as words come back literally:
    no icon, link, image, bold or formula is drawn from them (Streamlit's own Markdown, in Chromium)."""
    words = [
        ":material/home:",
        "www.example.com",
        "user@example.com",
        "![img](http://127.0.0.1:9/x.png)",
        "<b>bold</b>",
        "$x^2$",
        ":smile:",
        "[x](javascript:window.__xss=1)",
    ]
    from .browser_sweep import settle

    page = open_page(browser, f"{server}/embeddings")
    settle(page)  # the fragments too: typing into a box that is still being drawn loses the text
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    enter_word(page, 1, " ".join(words), "() => document.body.innerText.includes('No vector here for')")
    enter_word(page, 0, "user@example.com", "() => document.body.innerText.includes('has no vector in')")
    messages = page.locator(
        "[data-testid='stMain'] [data-testid='stCaptionContainer'], [data-testid='stMain'] [data-testid='stAlert']"
    )
    text = " ".join(messages.all_inner_texts()).replace("\u2060", "")  # the invisible joiner of ui.literal
    for word in words:
        assert word in text, (word, text[-1200:])
    for selector in ("a", "img", "b", ".katex", "[data-testid='stIconMaterial']"):
        assert messages.locator(selector).count() == 0, selector
    assert not [url for url in requests if "127.0.0.1:9" in url]
    assert page.evaluate("() => window.__xss === undefined")
    page.close()


PROJECTOR = {"width": 1280, "height": 720}  # the presenter-mode screen: everything that matters above its fold
SIDEBAR_WIDTH = (
    "() => { const bar = document.querySelector(\"[data-testid='stSidebar']\"); "
    "return bar ? bar.getBoundingClientRect().width : 0; }"  # hidden or not drawn: no width
)


def metric_bottoms(page) -> list[float]:
    """The bottom edge (px from the top of the viewport, not scrolled) of every verdict metric on the page."""
    return page.evaluate(
        "() => [...document.querySelectorAll(\"[data-testid='stMain'] [data-testid='stMetric']\")]"
        ".map(element => element.getBoundingClientRect().bottom)"
    )


def paragraph_font_size(page, text: str) -> float:
    """The computed font size (px) of the main-area paragraph that contains `text`."""
    paragraph = page.locator("[data-testid='stMain'] [data-testid='stMarkdownContainer'] p", has_text=text).first
    return paragraph.evaluate("element => parseFloat(getComputedStyle(element).fontSize)")


def open_on_projector(browser, url: str):
    page = browser.new_page(viewport=PROJECTOR)
    page.goto(url)
    wait_for_idle(page, 120_000)
    page.wait_for_timeout(800)  # let late layout (charts, metrics) settle before measuring
    wait_for_idle(page)
    return page


def test_presenter_mode_puts_every_verdict_above_the_fold_with_larger_type(server, browser):
    """At 1280×720 with ?present=1: the sidebar is folded away, every model's verdict on Compare and on the
    Walkthrough ends above the fold, and the type is at least 1.2 times larger than in normal mode.
    Screenshots of every page in presenter mode go to artifacts/screenshots/presenter_*.png."""
    step = "Lowercase, drop"  # a plain paragraph of the Walkthrough, in both modes
    normal = open_on_projector(browser, f"{server}/compare")
    verdict_count = len(metric_bottoms(normal))  # on Compare every metric is a model's verdict
    normal.close()
    normal = open_on_projector(browser, f"{server}/home")
    normal_size = paragraph_font_size(normal, step)
    assert normal.evaluate(SIDEBAR_WIDTH) > 100
    # The sidebar's toggle switches presenter mode on: the sidebar folds away and the URL says so.
    normal.locator("[data-testid='stSidebar'] label", has_text="Presenter mode").click()
    normal.wait_for_function(f"() => ({SIDEBAR_WIDTH})() < 1", timeout=60_000)
    wait_for_idle(normal)
    assert "present=1" in normal.url
    normal.close()

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for path in PAGE_URLS:
        page = open_on_projector(browser, f"{server}{path}?present=1")
        assert page.locator("h1").first.inner_text() == PAGE_URLS[path], path
        assert exceptions_on(page) == 0, path
        assert page.evaluate(SIDEBAR_WIDTH) < 1, path  # collapsed
        if path in ("/home", "/compare"):
            bottoms = metric_bottoms(page)
            assert len(bottoms) == verdict_count >= 2, (path, bottoms)
            assert max(bottoms) <= PROJECTOR["height"], (path, bottoms)
            cut = page.evaluate(  # a verdict shown as "positiv…" is not read by the room
                "() => [...document.querySelectorAll(\"[data-testid='stMetricValue'], "
                "[data-testid='stMetricValue'] *\")].filter(e => e.scrollWidth > e.clientWidth + 1).length"
            )
            assert cut == 0, path
        if path == "/home":
            assert paragraph_font_size(page, step) >= 1.2 * normal_size
        # What the room sees, then the whole page (Streamlit scrolls its main section, not the document,
        # so the viewport is stretched to the page's height for the second one).
        page.screenshot(path=str(SCREENSHOTS / f"presenter_{path.strip('/')}.png"))
        height = page.evaluate("() => document.querySelector(\"[data-testid='stMain']\").scrollHeight")
        page.set_viewport_size({"width": PROJECTOR["width"], "height": min(int(height), 8000)})
        page.wait_for_timeout(800)
        page.screenshot(path=str(SCREENSHOTS / f"presenter_{path.strip('/')}_full.png"))
        page.close()


# The race page ----------------------------------------------------------------------------------------------

RACE_FIRST_POINT = (
    "() => { const chart = document.querySelector('.js-plotly-plot');"
    " return !!chart && !!chart.data && chart.data.some((trace) => trace.x && trace.x.length > 0); }"
)
RACE_POINTS = (
    "() => { const chart = document.querySelector('.js-plotly-plot');"
    " return chart && chart.data ? chart.data.reduce((sum, trace) => sum + (trace.x ? trace.x.length : 0), 0) : 0; }"
)


def child_processes(pid: int) -> set[int]:
    found = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as handle:
            found.update(int(child) for child in handle.read().split())
    return found


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def idle_standby(server_pid: int, timeout: float = 60) -> int:
    """The standby worker once it has imported TensorFlow: a child of the server whose CPU time stops growing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in child_processes(server_pid):
            try:
                before = cpu_ticks(child)
                time.sleep(0.7)
                if cpu_ticks(child) == before and before > 100:  # > 1 s of CPU: TensorFlow was imported
                    return child
            except FileNotFoundError:
                continue
        time.sleep(0.2)
    raise AssertionError("no idle standby worker")


def set_slider(page, label: str, key: str) -> None:
    slider = page.locator("[data-testid='stSlider']", has_text=label).locator("input[type='range']")
    slider.focus()  # visually hidden; the keyboard moves the thumb
    page.keyboard.press(key)
    wait_for_idle(page)


def test_race_train_draws_curves_and_a_result_then_stop_frees_the_worker(browser):
    """A visitor opens the race, presses Train with a 1-second budget and watches three curves and the result;
    then trains for 60 s and presses Stop mid-race. Measured: the first curve point within 2 s of Train (the
    standby worker ready, as it is a few seconds after the page opens), the worker gone within 1 s of Stop."""
    with streamlit_server() as (url, process, seconds):  # its own server: its worker processes are its children
        page = open_page(browser, url + "/race")
        race_then_stop(page, process.pid)
        page.close()


def race_then_stop(page, server_pid: int) -> None:
    """A 1-second race to its end, then a 60-second race stopped once its curves have grown."""
    assert page.locator("h1").first.inner_text() == "Train it yourself"
    set_slider(page, "Training time per cell", "Home")
    set_slider(page, "Lag T", "Home")
    standby = idle_standby(server_pid)
    standby_ticks = cpu_ticks(standby)
    clicked = time.monotonic()
    page.get_by_role("button", name="Train").click()
    page.wait_for_function(RACE_FIRST_POINT, polling=20, timeout=60_000)
    first_point = time.monotonic() - clicked
    print(f"first curve point {first_point:.2f} s after Train")
    # The standby that had imported TensorFlow trained the race (its CPU time grew), not a worker started cold.
    assert cpu_ticks(standby) > standby_ticks
    # The worker runs at nice 10: on a CI machine whose tests keep both cores busy it gets a small share of them,
    # and a 3-second race with its evaluations took over 60 s there. Wait for the end, whichever it is, then say it.
    ends = ("Finished in", "Stopped after", "did not finish")
    ended = page.get_by_text(ends[0]).or_(page.get_by_text(ends[1])).or_(page.get_by_text(ends[2]))
    ended.first.wait_for(timeout=300_000)
    assert page.get_by_text("Finished in").count() == 1, page.locator("[data-testid='stMain']").inner_text()[:2000]
    wait_for_idle(page)
    # The results table comes in the live section's last run, which can land just after the status under load
    # (a CI run on a busy machine found the status drawn and the table not yet).
    page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=60_000)
    assert page.evaluate(RACE_POINTS) >= 6
    assert page.get_by_text("At T = 10, in 1 s each").count() == 1
    # Catches a stall, not a speed (the standby check above is what shows the warm start): fresh-clone CI runs,
    # with servers, Chromium and a niced worker on the 2 cores, measured 2.46 s and 4.99 s here.
    assert first_point < 15.0

    set_slider(page, "Training time per cell", "End")
    worker = idle_standby(server_pid)
    page.get_by_role("button", name="Train").click()
    page.get_by_text("Training: about").wait_for(timeout=60_000)  # the new race's chart, not the last one's
    page.wait_for_function(f"() => ({RACE_POINTS})() >= 6", polling=50, timeout=120_000)
    stopped = time.monotonic()
    page.get_by_role("button", name="Stop").click()
    while os.path.exists(f"/proc/{worker}") and time.monotonic() - stopped < 10:
        time.sleep(0.005)
    freed = time.monotonic() - stopped
    print(f"Stop -> worker process gone {freed:.3f} s after the click")
    page.get_by_text("Stopped after").wait_for(timeout=30_000)
    # Click to worker gone, through Chromium and the server's rerun. The library's own bound (Stop to reaped
    # within 1 s) is test_race_jobs' test_stop_terminates_the_worker_within_a_second; end to end, a run here with
    # two other engineers' tests on the 2 cores measured 1.26 s. A worker Stop did not terminate would train on
    # for the rest of its 3 x 60 s.
    assert freed < 5.0
    assert exceptions_on(page) == 0

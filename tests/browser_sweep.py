"""Use every control on a page in Chromium, discovered from the page's DOM (not from a list kept by hand)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from benchmarks.browser import wait_for_idle

# (kind, CSS selector of one control): every Streamlit control the app draws.
CONTROLS = {
    "checkbox": "[data-testid='stCheckbox'] label",
    "toggle": "[data-testid='stToggle'] label",
    "radio": "[data-testid='stRadio']",
    "selectbox": "[data-testid='stSelectbox']",
    "number": "[data-testid='stNumberInput']",
    "slider": "[data-testid='stSlider']",
    "text_input": "[data-testid='stTextInput'] input",
    "text_area": "[data-testid='stTextArea'] textarea",
    "button": "[data-testid='stButton'] button:not([disabled])",  # a disabled button is not a control to use
    "download": "[data-testid='stDownloadButton'] button",
    "popover": "[data-testid='stPopoverButton']",
    "html_button": "[data-testid='stHtml'] button",
    "tab": "[data-testid='stTab']",
    "expander": "[data-testid='stExpander'] summary",
    "upload": "[data-testid='stFileUploader'] input[type='file']",
}
MAIN = "[data-testid='stMain'] "
VISIBLE = " >> visible=true"  # controls in a closed tab or popover are used once they are shown
SAMPLE_TEXT = "A dull, lifeless film. The acting is wooden and the plot makes no sense."


def settle(page) -> None:
    """Wait for the rerun and for fragments' skeletons to be replaced."""
    wait_for_idle(page)
    page.wait_for_function("() => !document.querySelector(\"[data-testid='stSkeleton']\")", polling=100, timeout=60_000)
    wait_for_idle(page)


def exceptions(page) -> list[str]:
    return page.locator("[data-testid='stException']").all_inner_texts()


class StaleOption(Exception):
    """A selectbox no longer offers an option read when it was last opened: the page changed it since."""


def selectbox_key(page, index: int) -> tuple:
    """What a selectbox's options may depend on: the page, the box's place, its label and shown value, and the
    uploaded files (the batch page's column boxes list the upload's columns)."""
    box = page.locator(MAIN + CONTROLS["selectbox"] + VISIBLE).nth(index)
    uploads = page.locator(MAIN + "[data-testid='stFileUploader']").all_inner_texts()
    return (page.url.split("?")[0], index, box.inner_text(), tuple(uploads))


def discover(page, known_options: dict[tuple, list[str]]) -> list[tuple]:
    """Every (kind, index, option) a visitor can use on the page as it is drawn now.

    A selectbox's options are read by opening it, which costs a second or so; they are read again only when the
    page, the box's position, its label or its shown value changed (`known_options` keeps what was read)."""
    found = []
    for kind, selector in CONTROLS.items():
        controls = page.locator(MAIN + selector + ("" if kind == "upload" else VISIBLE))
        for index in range(controls.count()):
            if kind == "radio":
                for option in controls.nth(index).locator("[data-testid='stRadioOption']").all_inner_texts():
                    found.append((kind, index, option.strip()))
            elif kind == "selectbox":
                key = selectbox_key(page, index)
                if key not in known_options:
                    known_options[key] = selectbox_options(page, index)
                found.extend((kind, index, option) for option in known_options[key])
            elif kind in ("number", "slider", "text_input"):
                found.extend([(kind, index, "up"), (kind, index, "down")])
            else:
                found.append((kind, index, ""))
    return found


def open_selectbox(page, index: int):
    """Open a selectbox's list (its combobox opens on ArrowDown; a synthetic click does not) and return its options.

    The list is taken as open only once no other list is left on the page and this field says it is expanded:
    a closing list of the previous selectbox can linger for a moment, and its options are not this box's."""
    box = page.locator(MAIN + CONTROLS["selectbox"] + VISIBLE).nth(index)
    box.scroll_into_view_if_needed()
    field = box.locator("input")
    listboxes = page.get_by_role("listbox")
    for _attempt in range(4):
        page.locator("body").press("Escape")  # close any open list and let the field take focus anew
        field.blur()
        try:
            page.wait_for_function("() => !document.querySelector(\"[role='listbox']\")", polling=50, timeout=3_000)
        except Exception:  # noqa: BLE001 - a list that will not close: the next Escape tries again
            continue
        field.focus()
        page.keyboard.press("ArrowDown")
        try:
            listboxes.get_by_role("option").first.wait_for(timeout=3_000)
            if field.get_attribute("aria-expanded") == "true" and listboxes.count() == 1:
                return listboxes.get_by_role("option")
        except Exception:  # noqa: BLE001 - retry: the list sometimes misses the first key after a rerun
            continue
    raise AssertionError(f"selectbox {index} did not open")


def selectbox_options(page, index: int) -> list[str]:
    texts = [text.strip() for text in open_selectbox(page, index).all_inner_texts()]
    page.keyboard.press("Escape")
    return texts


def perform(page, action: tuple, upload_file: Path | None) -> None:
    kind, index, option = action
    control = page.locator(MAIN + CONTROLS[kind] + ("" if kind == "upload" else VISIBLE)).nth(index)
    if kind == "radio":
        control.locator("[data-testid='stRadioOption']", has_text=option).first.click()
    elif kind == "selectbox":
        offered = [text.strip() for text in open_selectbox(page, index).all_inner_texts()]
        if option not in offered:
            page.keyboard.press("Escape")
            raise StaleOption(option)
        for _attempt in range(3):
            wanted = open_selectbox(page, index).filter(has_text=option)
            try:
                wanted.first.wait_for(timeout=5_000)
            except Exception:  # noqa: BLE001 - the list was redrawn under us: open it again
                continue
            wanted.first.click()
            break
        else:
            shown = page.get_by_role("listbox").get_by_role("option").all_inner_texts()
            raise AssertionError(f"selectbox {index} has no option {option!r}; it shows {shown}")
    elif kind == "number":
        control.locator(f"[data-testid='stNumberInputStep{'Up' if option == 'up' else 'Down'}']").click()
    elif kind == "slider":
        control.locator("input[type='range']").focus()  # visually hidden; the keyboard moves the thumb
        page.keyboard.press("End" if option == "up" else "Home")
    elif kind == "text_input":
        control.fill("bad" if option == "up" else "")
        control.press("Enter")
    elif kind == "text_area":
        control.fill(SAMPLE_TEXT)
        control.press("Control+Enter")
    elif kind == "popover":
        control.click()
        page.wait_for_timeout(300)
        page.keyboard.press("Escape")
    elif kind == "upload":
        control.set_input_files(str(upload_file))
    else:  # checkbox, toggle, button, download, tab, expander
        control.click()


def selectbox_label(page, index: int) -> str:
    box = page.locator(MAIN + CONTROLS["selectbox"] + VISIBLE).nth(index)
    return box.locator("[data-testid='stWidgetLabel']").inner_text().strip()


def sweep_page(
    page, upload_file: Path | None = None, limit: int = 200, options_used: set[tuple[str, str]] | None = None
) -> Counter:
    """Use every control (each radio and select option, both directions of numbers and sliders) once;
    returns how many interactions of each kind ran.

    `options_used` ((label, option) pairs, shared by the pages of one sweep) keeps a select box that several
    pages share, the review's sample picker, from loading all its 12 samples on every page: an option already
    used on an earlier page is skipped once this page has used the box once. (AppTest's sweep in test_state.py
    picks every option on every page.)"""
    settle(page)
    done: set[tuple] = set()
    used: Counter = Counter()
    known_options: dict[tuple, list[str]] = {}
    options_used = set() if options_used is None else options_used
    boxes_used: set[str] = set()
    while sum(used.values()) < limit:
        pending = [action for action in discover(page, known_options) if action not in done]
        labels = {index: selectbox_label(page, index) for kind, index, _ in pending if kind == "selectbox"}
        pending = [
            action
            for action in pending
            if not (
                action[0] == "selectbox"
                and labels[action[1]] in boxes_used
                and (labels[action[1]], action[2]) in options_used
            )
        ]
        if not pending:
            return used
        # Emptying a text box hides what depends on it (neighbour tables and their downloads): do it last.
        action = min(pending, key=lambda action: action[0] == "text_input" and action[2] == "down")
        done.add(action)
        try:
            perform(page, action, upload_file)
        except StaleOption:  # read the options anew: what the page offers now is discovered on the next pass
            known_options.clear()
            continue
        settle(page)
        used[action[0]] += 1
        if action[0] == "selectbox":
            boxes_used.add(labels[action[1]])
            options_used.add((labels[action[1]], action[2]))
        assert not exceptions(page), (action, exceptions(page))
    raise AssertionError("the sweep did not converge")

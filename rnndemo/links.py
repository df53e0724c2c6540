"""A page option in a shared link: how its value is written into a query parameter, and read back from one.

The Time series page keeps each of its options in its own query parameter, written from Python
(`ui.write_url_parameter`) rather than bound by Streamlit (`bind="query-params"`), because reading is the page's job:
a value the page cannot show gets a sentence that says so and the option's default, instead of Streamlit's silent
default. Like every option's, a change replaces the browser's history entry (docs/ARCHITECTURE.md, "State design").

Each kind of option reads a parameter's text (None when the URL has none: the default) and returns the value and
None, or the default and the sentence; it writes None for the default, so a link holds only what was changed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

Quote = Callable[[str], str]  # how a value from the URL is written into a sentence (the page: ui.literal)
MAX_LISTED = 8  # more offered values than this are summarised as "N values from first to last"


def plain_quote(text: str) -> str:
    return f"'{text}'"


def offered(options: tuple[str, ...]) -> str:
    """The values an option offers, in a sentence: all of them, or the first and last of a long list."""
    if len(options) <= MAX_LISTED:
        return ", ".join(options)
    return f"{len(options)} values from {options[0]} to {options[-1]}"


def _shown(value: str, quote: Quote) -> str:
    return quote(value) if value.strip() else "nothing"


@dataclass(frozen=True)
class Choice:
    """One of a list (a radio, a selectbox, a select slider); the link holds the option's text."""

    name: str  # what the sentence calls the option, e.g. "the horizon h"
    options: tuple[str, ...]
    default: str

    def read(self, value: str | None, quote: Quote = plain_quote) -> tuple[str, str | None]:
        if value is None or value in self.options:
            return (self.default if value is None else value), None
        return self.default, (
            f"This link sets {self.name} to {_shown(value, quote)}, which this page does not offer "
            f"(it offers {offered(self.options)}), so it shows the default, {self.default}."
        )

    def write(self, value: str) -> str | None:
        return None if value == self.default else value


@dataclass(frozen=True)
class Choices:
    """Any of a list (a multiselect); the link holds the chosen options in the list's order, joined by commas, and an
    empty parameter means none."""

    name: str
    options: tuple[str, ...]  # none of them holds a comma
    default: tuple[str, ...]

    def read(self, value: str | None, quote: Quote = plain_quote) -> tuple[tuple[str, ...], str | None]:
        if value is None:
            return self.default, None
        given = [part.strip() for part in value.split(",") if part.strip()]
        unknown = [part for part in given if part not in self.options]
        kept = tuple(option for option in self.options if option in given)
        if not unknown:
            return kept, None
        listed = ", ".join(_shown(part, quote) for part in unknown[:MAX_LISTED]) + " …" * (len(unknown) > MAX_LISTED)
        start = (
            f"This link lists {listed} in {self.name}, which this page does not offer "
            f"(it offers {offered(self.options)})"
        )
        if kept:
            return kept, f"{start}, so they are left out."
        return self.default, f"{start}, and nothing else, so it shows the default: {', '.join(self.default) or 'none'}."

    def write(self, value: tuple[str, ...] | list[str]) -> str | None:
        chosen = tuple(option for option in self.options if option in value)
        return None if chosen == self.default else ",".join(chosen)


@dataclass(frozen=True)
class WholeNumber:
    """A whole number from `low` to `high` (a slider); the link holds it in digits."""

    name: str
    low: int
    high: int
    default: int

    def read(self, value: str | None, quote: Quote = plain_quote) -> tuple[int, str | None]:
        if value is None:
            return self.default, None
        text = value.strip()
        if re.fullmatch(r"[0-9]{1,9}", text) and self.low <= int(text) <= self.high:
            return int(text), None
        return self.default, (
            f"This link sets {self.name} to {_shown(value, quote)}, which is not a whole number from {self.low} to "
            f"{self.high}, so it shows the default, {self.default}."
        )

    def write(self, value: int) -> str | None:
        return None if value == self.default else str(value)


Option = Choice | Choices | WholeNumber  # any option a link can hold

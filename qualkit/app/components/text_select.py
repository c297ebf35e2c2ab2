"""Select words in a transcript with the mouse or the keyboard, and (optionally) pick a code for them.

A small Streamlit custom component (``st.components.v2``; inline JavaScript and CSS read from the files
beside this module, no build step, nothing fetched from the network). Python cuts the text into words
with exact code-point offsets (:mod:`qualkit.app.components.passages`); the browser only reports which
words were selected, so an emoji, a decomposed accent or a CRLF line end can never shift an offset.

Two ways to use it:

- :func:`select_text` — one passage in, a :class:`Selection` (or None) out; for a card that needs a
  span, such as the review queue's "adjust the span".
- :func:`text_selector` — many passages (a page of a transcript) with coded spans drawn in their code
  colours, a type-ahead code picker, and actions on the coded spans; ``on_action`` is called (as a
  Streamlit callback, before the page reruns) and reads the request with :func:`read_action`.

Keyboard: Tab into the text; ←/→ move word by word, ↑/↓ to the previous/next turn, Home/End to the
turn's ends; Shift with any of them selects; Enter opens the code list (type to filter, ↑/↓, Enter
applies); Esc closes or clears. The mouse selects as usual; the selection snaps to whole words.

Example:
    >>> chosen = select_text("I am so tired.", 120, key="card_span")  # doctest: +SKIP
    >>> chosen.start, chosen.end, chosen.text  # doctest: +SKIP
    (128, 133, 'tired')
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from qualkit.app import clicks
from qualkit.app.components.passages import (
    Action,
    Highlight,
    Passage,
    Selection,
    layout,
    parse_action,
    selection_parts,
)
from qualkit.errors import InvalidInput

NAME = "qualkit_text_select"
_HERE = Path(__file__).parent

__all__ = ["CodeOption", "Highlight", "Passage", "Selection", "read_action", "select_text", "text_selector"]


@dataclass(frozen=True)
class CodeOption:
    """A code the picker offers: id, name, colour and a hint shown beside it (e.g. its parent).

    Example:
        >>> CodeOption("workload", "Workload", "#aec7e8", "Systemic drivers").name
        'Workload'
    """

    id: str
    name: str
    color: str = "#ddd"
    hint: str = ""


@functools.cache
def _component() -> Callable[..., Any]:
    """Register the component once per process (its HTML/JS/CSS never change while the app runs)."""
    return st.components.v2.component(
        NAME,
        css=(_HERE / "text_select.css").read_text(encoding="utf-8"),
        js=(_HERE / "text_select.js").read_text(encoding="utf-8"),
        # No shadow root: the page's selection API (window.getSelection) must see the words. The CSS is
        # scoped under .qk-sel instead.
        isolate_styles=False,
    )


def text_selector(
    passages: Sequence[Passage],
    *,
    key: str,
    highlights: Sequence[Highlight] = (),
    codes: Sequence[CodeOption] | None = None,
    on_action: Callable[[], None] | None = None,
    recent: Sequence[str] = (),
    readonly: bool = False,
    report_selection: bool = False,
    picker: bool = True,
    aria_label: str = "Transcript text",
    empty_text: str = "Nothing to show.",
) -> Any:
    """Draw passages with their coded spans; the reader selects words and (with ``codes``) codes them.

    ``codes`` None (or ``readonly``) shows no picker: the reader can still select (and copy) words
    and read what is coded. ``on_action`` runs before the next script run when the reader asks for
    something; read the request there with :func:`read_action`. ``report_selection`` keeps the
    current selection in the result's ``selection`` (used by :func:`select_text`); ``picker=False``
    opens no panel after a selection (the caller acts on the returned selection itself).

    Example:
        >>> text_selector([Passage(5, "So tired.", 40, label="Ana")], key="tx",  # doctest: +SKIP
        ...               codes=[CodeOption("exhaustion", "Emotional exhaustion")], on_action=apply)
    """
    data = layout(passages, highlights)
    data.update(
        codes=None if codes is None else [{"id": c.id, "name": c.name, "color": c.color, "hint": c.hint} for c in codes],
        recent=list(recent), readonly=bool(readonly), report_selection=bool(report_selection), picker=bool(picker),
        aria_label=aria_label, empty_text=empty_text,
    )
    callbacks: dict[str, Callable[[], None]] = {"on_action_change": clicks.tracked(key, on_action or _ignore)}
    if report_selection:
        callbacks["on_selection_change"] = _ignore
    result = _component()(key=key, data=data, **callbacks)
    if clicks.missed(key) and on_action is not None and _asked(key):
        # A tab reconnected to a restarted server: Streamlit dropped this request's callback (see clicks).
        # The request is only readable in this run, so it is made here and the page drawn again.
        on_action()
        st.rerun()
    return result


def _asked(key: str) -> bool:
    """True when the reader's request arrived in this script run."""
    return bool(_raw_action(key))


def _raw_action(key: str) -> Any:
    """The request the selector under ``key`` sent in this script run, as sent (None when there is none)."""
    value = st.session_state.get(key)
    return value.get("action") if hasattr(value, "get") else None


def _ignore() -> None:
    """A callback that does nothing: Streamlit keeps a component value only for events with a callback."""


def read_action(key: str, passages: Sequence[Passage], highlights: Sequence[Highlight] = ()) -> Action | None:
    """The reader's request from the selector mounted under ``key``, checked against what was shown.

    Call it from ``on_action``. Raises :class:`~qualkit.errors.InvalidInput` with a plain message when
    the request does not match the passages (a stale page); returns None when there is none.

    Example:
        >>> action = read_action("tx", passages, highlights)  # doctest: +SKIP
        >>> action.kind, action.selection.parts  # doctest: +SKIP
        ('code', (Part(passage=5, start=43, end=48, text='tired'),))
    """
    return parse_action(_raw_action(key), passages, highlights)


def select_text(text: str, start: int = 0, highlights: Sequence[Highlight] = (), *, key: str,
                label: str = "") -> Selection | None:
    """Let the reader select words of one passage; returns the selection (exact offsets) or None.

    ``start`` is the absolute offset of ``text`` in its source, so the returned offsets are absolute too.

    Example:
        >>> chosen = select_text("I am so tired.", 120, key="card_span")  # doctest: +SKIP
    """
    passage = Passage(key, text, start, label=label)
    result = text_selector([passage], key=key, highlights=highlights, readonly=True, report_selection=True,
                           picker=False, aria_label=f"{label or 'Passage'} text")
    raw = result.get("selection") if hasattr(result, "get") else None
    if not raw:
        return None
    try:
        return selection_parts(raw, [passage])
    except InvalidInput:
        return None  # a selection of another text (the card changed): nothing is selected here

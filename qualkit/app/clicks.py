"""Buttons whose action is not lost when the app server restarts under an open tab.

A tab that reconnects to a restarted server is a new Streamlit session that has not run the page's
script yet, so Streamlit does not know the callbacks of the buttons on screen and silently drops the
first click's ``on_click`` (the click itself still arrives: the button returns True). A team lost a
typed memo this way. :func:`button` notices a click whose callback did not run, keeps the call, and
reruns; :func:`run_missed` (called by ``app.py`` before any page draws) makes it then, where callbacks
normally run.

Example:
    >>> from qualkit.app import clicks
    >>> clicks.button("Save memo", key="tx_memo_save", on_click=print, args=("saved",))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

MISSED = "qk_missed_clicks"
RAN = "qk_click_ran::"


def button(label: str, *, key: str, on_click: Callable[..., Any], args: Sequence[Any] = (),
           kwargs: dict[str, Any] | None = None, where: Any = None, submit: bool = False, **options: Any) -> bool:
    """``st.button`` (``submit``: ``form_submit_button``) in ``where`` whose ``on_click`` runs even on a new session's first click.

    Example:
        >>> button("Assign", key="dc_assign", on_click=print, where=st.sidebar)  # doctest: +SKIP
        False
    """
    draw = (where or st).form_submit_button if submit else (where or st).button
    clicked = draw(label, key=key, on_click=tracked(key, on_click), args=tuple(args), kwargs=dict(kwargs or {}),
                   **options)
    if not missed(key) or not clicked:
        return clicked
    st.session_state.setdefault(MISSED, []).append((on_click, tuple(args), dict(kwargs or {})))
    st.rerun()
    return clicked  # pragma: no cover - st.rerun() does not return


def tracked(key: str, callback: Callable[..., Any]) -> Callable[..., Any]:
    """``callback``, noting that it ran for the widget ``key`` in this script run (see :func:`missed`).

    Example:
        >>> tracked("tx", print)  # doctest: +ELLIPSIS
        <function tracked.<locals>.run at ...>
    """
    def run(*args: Any, **kwargs: Any) -> Any:
        st.session_state[RAN + key] = True
        return callback(*args, **kwargs)

    return run


def missed(key: str) -> bool:
    """True unless the :func:`tracked` callback of widget ``key`` ran for this script run (call once, after the widget).

    Example:
        >>> missed("tx")  # doctest: +SKIP
        True
    """
    return not st.session_state.pop(RAN + key, False)


def run_missed() -> None:
    """Make the clicks whose callbacks Streamlit dropped, in order, before the page draws.

    Example:
        >>> run_missed()  # doctest: +SKIP
    """
    for on_click, args, kwargs in st.session_state.pop(MISSED, []):
        on_click(*args, **kwargs)

"""Which pages a visitor gets: the log-in page until they log in, then the study pages by section.

Example:
    >>> sorted(PAGES)[:3]
    ['analysis', 'codebook', 'double_coding']
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGES_DIR = Path(__file__).with_name("pages")

# name -> (title, icon); the file is pages/<name>.py and its URL /<name>.
PAGES: dict[str, tuple[str, str]] = {
    "login": ("Log in", ":material/login:"),
    "study": ("Study", ":material/folder_open:"),
    "transcript": ("Transcript", ":material/description:"),
    "queue": ("Review queue", ":material/fact_check:"),
    "codebook": ("Codebook", ":material/menu_book:"),
    "double_coding": ("Double coding", ":material/group:"),
    "history": ("History", ":material/history:"),
    "team": ("Team", ":material/manage_accounts:"),
    "themes": ("Themes", ":material/explore:"),
    "analysis": ("Analysis", ":material/bar_chart:"),
    "reliability": ("Reliability", ":material/balance:"),
    "export": ("Export", ":material/download:"),
}
SECTIONS: dict[str, list[str]] = {
    "Study": ["study", "transcript", "queue", "codebook"],
    "Team": ["double_coding", "history", "team"],
    "Results": ["themes", "analysis", "reliability", "export"],
}


def page(name: str, *, default: bool = False) -> st.Page:
    """The ``st.Page`` for one of :data:`PAGES` (usable with ``st.page_link`` and ``st.switch_page``).

    Example:
        >>> page("study").title  # doctest: +SKIP
        'Study'
    """
    title, icon = PAGES[name]
    return st.Page(PAGES_DIR / f"{name}.py", title=title, icon=icon, url_path=name, default=default)


def pages_for(logged_in: bool) -> dict[str, list[st.Page]] | list[st.Page]:
    """The navigation: only the log-in page for visitors, every section for team members.

    A visitor who opens a link to a page (or reloads one after the log-in expired) gets the log-in page at
    that address, not "page not found"; once logged in, the same address is the page they asked for.

    Example:
        >>> [p.title for p in pages_for(False)][:2]  # doctest: +SKIP
        ['Log in', 'Log in']
    """
    if not logged_in:
        title, icon = PAGES["login"]
        return [page("login", default=True), *(st.Page(PAGES_DIR / "login.py", title=title, icon=icon, url_path=name)
                                               for name in PAGES if name != "login")]
    return {section: [page(name, default=name == "study") for name in names] for section, names in SECTIONS.items()}

"""Custom Streamlit components written for qualkit (``st.components.v2``, inline JS/CSS, no build step, offline).

Example:
    >>> from qualkit.app.components import select_text  # doctest: +SKIP
"""

from qualkit.app.components.passages import Action, Highlight, Part, Passage, Selection, selectable_words
from qualkit.app.components.text_select import CodeOption, read_action, select_text, text_selector

__all__ = ["Action", "CodeOption", "Highlight", "Part", "Passage", "Selection", "read_action", "select_text",
           "selectable_words", "text_selector"]

"""Emergent themes: discover them with BERTopic tuned for focus groups, edit them, save them, code them.

One small module per job: ``discover`` runs the whole discovery (:func:`discover_themes`); ``prepare``
turns segments into the sentences or windows that are clustered; ``words`` holds the spoken stop list,
the lemmatising tokenizer and c-TF-IDF labels; ``fit`` chooses defaults by corpus size and runs BERTopic
(or the scikit-learn fallback); ``describe`` builds themes with quotes, prevalence and nearest codes;
``result`` holds :class:`ThemeResult` and :class:`Theme`; ``edit`` merges, splits, renames and
discards; ``runs`` saves, loads, edits and promotes runs of a project; ``synthetic`` generates corpora
with planted themes for tests and benchmarks. This package only re-exports the public names.

Example:
    >>> from qualkit.themes.words import spoken_tokens
    >>> spoken_tokens("Um, you know, the nurses were exhausted, like, yeah.")
    ['nurse', 'exhaust']
"""

from qualkit.themes.discover import discover_themes
from qualkit.themes.result import Theme, ThemeResult

__all__ = ["Theme", "ThemeResult", "discover_themes"]

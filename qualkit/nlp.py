"""English language helpers: the offline spaCy pipeline and the shared stop-word list.

The pipeline is blank English + sentencizer + lookup lemmatizer; the stop-word and filler list serves
distinctive words, theme words and learned-coder rationales alike.

A trained pipeline (e.g. ``en_core_web_sm``) is used only when asked for and installed; nothing is
downloaded. Each call builds a fresh pipeline, so callers (coders, readers) own theirs and there is no
hidden module-level state; the app keeps one in ``st.cache_resource``.

Example:
    >>> nlp = load_nlp()
    >>> [t.lemma_ for t in nlp("The nurses were exhausted.")][:3]
    ['The', 'nurse', 'be']
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language

# Spoken fillers and contractions that carry no content, for word lists and rationales.
FILLERS: frozenset[str] = frozenset({
    "e.g.", "i.e.", "etc", "um", "uh", "uhm", "er", "erm", "mm", "mhm", "hmm", "yeah", "okay", "ok", "oh", "gonna",
    "wanna", "kinda", "sorta", "like", "just", "really", "know", "think", "mean", "thing",
    "things", "lot", "don't", "it's", "i'm", "that's", "you're", "we're", "they're", "can't",
    "didn't", "doesn't", "isn't", "there's", "i've", "i'd", "i'll",
})


def english_stopwords() -> frozenset[str]:
    """scikit-learn's English stop words plus spoken fillers (um, yeah, okay, ...).

    Example:
        >>> "the" in english_stopwords() and "yeah" in english_stopwords()
        True
    """
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | FILLERS


TRAINED_PIPELINES = ("en_core_web_sm", "en_core_web_md", "en_core_web_lg", "en_core_web_trf")


def trained_pipeline_name() -> str | None:
    """The name of an installed trained English pipeline (for NER), or ``None``.

    Example:
        >>> trained_pipeline_name() in (None, *TRAINED_PIPELINES)
        True
    """
    for name in TRAINED_PIPELINES:
        if importlib.util.find_spec(name) is not None:
            return name
    return None


def load_nlp(*, lemmatizer: bool = True, sentencizer: bool = True, trained: bool = False) -> Language:
    """Build the English pipeline qualkit uses for sentences, lemmas and (optionally) named entities.

    With ``trained=True`` and a trained pipeline installed, that pipeline is loaded from its package
    (its parser supplies sentences and its NER finds names); otherwise the blank pipeline is used.

    Example:
        >>> [s.text for s in load_nlp()("I was done. Totally done.").sents]
        ['I was done.', 'Totally done.']
    """
    import spacy

    if trained and (name := trained_pipeline_name()):
        return spacy.load(name)
    nlp = spacy.blank("en")
    if sentencizer:
        nlp.add_pipe("sentencizer")
    if lemmatizer:
        # The lookup tables come from the spacy-lookups-data package on disk, never from the network.
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp

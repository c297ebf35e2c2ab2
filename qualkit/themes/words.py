"""Theme words: a spoken-language stop list, a lemmatising tokenizer and class-based TF-IDF labels.

Focus-group talk is full of fillers ("um", "like", "you know", "kind of"), so plain c-TF-IDF labels
themes with them. The tokenizer drops multi-word fillers first, then lemmatises with spaCy's lookup
table (offline) and removes English and spoken stop words, so top words are content words.
c-TF-IDF follows BERTopic's ``ClassTfidfTransformer`` (L1-normalised class term frequency, square-rooted
to damp frequent words, times ``log(1 + average class size / word frequency)``); it lives here so that
labels are the same with or without BERTopic and can be recomputed after a merge or split of a stored
run, without the fitted model.

Example:
    >>> import numpy as np
    >>> docs = ["The inbox never ends.", "Inbox messages at midnight.", "We are short staffed.", "Short staffed again."]
    >>> labels = theme_words(docs, np.array([0, 0, 1, 1]), top_n=2)
    >>> labels[0][0][0], labels[1][0][0]
    ('inbox', 'short staffed')
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from scipy import sparse

SPOKEN_PHRASES: tuple[str, ...] = (
    "you know what i mean", "you know", "i mean", "kind of", "sort of", "i guess", "you see", "or something",
    "and stuff", "and everything", "and all that", "at the end of the day", "to be honest", "a little bit",
    "a lot of", "i feel like", "i think", "i don't know", "i dunno",
)
SPOKEN_STOP_WORDS: frozenset[str] = frozenset((
    "um", "umm", "uh", "uhh", "uhm", "erm", "er", "ah", "ahh", "oh", "ooh", "hmm", "hm", "mm", "mmm", "mhm",
    "mmhmm", "mm-hmm", "uh-huh", "huh", "eh", "ha", "haha", "yeah", "yea", "yep", "yup", "nah", "yes", "no",
    "okay", "ok", "alright", "like", "right", "well", "so", "just", "really", "actually", "basically",
    "literally", "totally", "honestly", "obviously", "definitely", "probably", "maybe", "pretty", "gonna",
    "wanna", "gotta", "kinda", "sorta", "dunno", "lemme", "cause", "cuz", "stuff", "thing", "lot", "lots",
    "bit", "guess", "mean", "know", "think", "say", "tell", "get", "got", "go", "going", "come", "make",
    "want", "feel", "look", "let", "sure", "exactly", "agree", "question", "good", "great", "kind", "sort",
    "way", "little", "absolutely", "anyway", "anyways", "whatever", "wow", "gosh", "god", "sorry", "thank",
    "thanks", "laugh", "laughs", "laughter", "laughing", "inaudible", "crosstalk", "unintelligible",
    "pause", "silence", "overlap", "something", "anything", "everything", "nothing", "someone", "somebody",
    "everybody", "everyone", "anybody", "people", "person",
    # greetings and sign-offs: introductions and goodbyes are not themes
    "hi", "hello", "hey", "bye", "goodbye", "welcome", "cheers", "please",
))
NUMBER_WORDS: frozenset[str] = frozenset((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty", "thirty",
    "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred", "thousand", "million", "half",
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "once",
    "twice", "dozen", "couple",
))
# Words of any alphabet, digits inside ("N95s"): [a-z] cut "cliché" to "clich" and "N95s" to "n" and "s".
_TOKEN = re.compile(r"[^\W\d_](?:[\w'-]*[^\W_])?")
_BREAK = re.compile(r"[,.;:!?()\[\]\"]")
_PHRASES = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in SPOKEN_PHRASES) + r")\b")


def stop_words() -> frozenset[str]:
    """English stop words and fillers (:func:`qualkit.nlp.english_stopwords`) plus the spoken words above.

    Example:
        >>> {"um", "the", "yeah", "don't"} <= stop_words()
        True
    """
    from qualkit.nlp import english_stopwords

    return english_stopwords() | SPOKEN_STOP_WORDS | NUMBER_WORDS


# The lookup table maps a few common words to the wrong lemma ("does" -> "doe", "dying" -> "dye").
LEMMA_OVERRIDES: dict[str, str] = {
    "does": "do", "dying": "die", "matter": "matter", "matters": "matter", "better": "better", "worse": "worse",
    "left": "left", "data": "data", "media": "media", "meeting": "meeting", "meetings": "meeting",
    "feelings": "feeling", "news": "news", "nights": "night", "hospitals": "hospital", "as": "as",
}


class LemmaTokenizer:
    """Lower-case, drop fillers, lemmatise (spaCy lookup table, offline), drop stop words, add bigrams.

    Returns the content lemmas of a text followed by bigrams of lemmas that stood next to each other
    (a stop word between two words breaks the pair, so no "barely eye" from "barely keep my eyes").
    It also counts the surface forms of each lemma so labels can show the word people actually said
    ("exhausted" rather than "exhaust"). The lookup table loads on the first call.

    Example:
        >>> LemmaTokenizer()("Like, the night nurses were sort of drowning in notes")
        ['night', 'nurse', 'drown', 'note', 'night nurse']
    """

    def __init__(self, *, bigrams: bool = True, extra_stop_words: Iterable[str] = ()) -> None:
        self.bigrams = bigrams
        self.extra_stop_words = tuple(extra_stop_words)

    def _setup(self) -> None:
        from qualkit.nlp import load_nlp

        nlp = load_nlp(sentencizer=False)
        self._table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
        self._stop = stop_words() | frozenset(self.extra_stop_words)
        self._memo: dict[str, str | None] = {}
        self.surfaces: dict[str, Counter[str]] = {}

    def _lemma(self, word: str) -> str | None:
        lemma = self._memo.get(word, "")
        if lemma == "":
            lemma = LEMMA_OVERRIDES.get(word) or (word if "'" in word else self._table.get(word, word))
            # a hyphenated word made of stop words only ("twenty-four", "someone-else") is one too
            stop = word in self._stop or lemma in self._stop or "'" in lemma or (
                "-" in word and all(part in self._stop for part in word.split("-") if part))
            lemma = None if stop else lemma
            self._memo[word] = lemma
        return lemma

    def __call__(self, text: str) -> list[str]:
        if not hasattr(self, "_table"):
            self._setup()
        text = _PHRASES.sub(" , ", text.lower().replace("’", "'"))
        unigrams: list[str] = []
        pairs: list[str] = []
        previous: str | None = None
        previous_word, previous_end = "", 0
        for match in _TOKEN.finditer(text):
            word = match.group()
            lemma = self._lemma(word)
            if lemma is None:
                previous = None
                continue
            self.surfaces.setdefault(lemma, Counter())[word] += 1
            unigrams.append(lemma)
            # a comma, full stop or removed filler between two words also breaks the pair
            if self.bigrams and previous is not None and not _BREAK.search(text, previous_end, match.start()):
                pairs.append(f"{previous} {lemma}")
                self.surfaces.setdefault(pairs[-1], Counter())[f"{previous_word} {word}"] += 1
            previous, previous_word, previous_end = lemma, word, match.end()
        return unigrams + pairs

    def display(self, term: str) -> str:
        """Show a lemma (or a bigram of lemmas) as its most frequent surface form.

        Example:
            >>> tok = LemmaTokenizer()
            >>> _ = tok("I was exhausted, so exhausted")
            >>> tok.display("exhaust")
            'exhausted'
        """
        surfaces = getattr(self, "surfaces", {})
        if term in surfaces:
            return surfaces[term].most_common(1)[0][0]
        return " ".join(surfaces[p].most_common(1)[0][0] if p in surfaces else p for p in term.split())


def spoken_tokens(text: str) -> list[str]:
    """Content-word lemmas of one text, without bigrams (a convenience over :class:`LemmaTokenizer`).

    Example:
        >>> spoken_tokens("I mean, the EHR is, um, endless")
        ['ehr', 'endless']
    """
    return LemmaTokenizer(bigrams=False)(text)


def make_vectorizer(n_docs: int, *, tokenizer: LemmaTokenizer | None = None, min_df: int | None = None) -> Any:
    """A CountVectorizer over lemmatised content words and adjacent bigrams, pruned for large corpora.

    Example:
        >>> make_vectorizer(100).min_df
        1
    """
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(analyzer=tokenizer or LemmaTokenizer(),
                           min_df=(1 if n_docs < 2000 else 2) if min_df is None else min_df)


def class_tfidf(counts: sparse.spmatrix, labels: np.ndarray, classes: Sequence[int],
                multiplier: np.ndarray | None = None) -> np.ndarray:
    """c-TF-IDF of each class in ``classes`` from a document-term count matrix (BERTopic's formula).

    ``multiplier`` scales the IDF of each term (BERTopic boosts seed words by 1.2 the same way).

    Example:
        >>> m = sparse.csr_matrix(np.array([[2, 0], [0, 1]]))
        >>> class_tfidf(m, np.array([0, 1]), [0, 1]).round(2).tolist()
        [[0.56, 0.0], [0.0, 0.92]]
    """
    present = np.unique(labels)
    index = {c: i for i, c in enumerate(present)}
    membership = sparse.csr_matrix((np.ones(len(labels)), ([index[c] for c in labels], np.arange(len(labels)))),
                                   shape=(len(present), len(labels)))
    per_class = (membership @ counts).tocsr().astype(np.float64)
    frequency = np.asarray(per_class.sum(axis=0)).ravel()
    frequency[frequency == 0] = 1.0
    average = max(float(per_class.sum(axis=1).mean()), 1.0)
    idf = np.log(average / frequency + 1.0)
    if multiplier is not None:
        idf = idf * multiplier
    sums = np.asarray(per_class.sum(axis=1)).ravel()
    sums[sums == 0] = 1.0
    tf = sparse.diags(1.0 / sums) @ per_class
    tf.data = np.sqrt(tf.data)
    weights = (tf @ sparse.diags(idf)).toarray()
    out = np.zeros((len(classes), counts.shape[1]))
    for row, c in enumerate(classes):
        if c in index:
            out[row] = weights[index[c]]
    return out


def top_terms(weights: np.ndarray, vocabulary: Sequence[str], top_n: int = 10) -> list[tuple[str, float]]:
    """The ``top_n`` highest-weighted terms, skipping a term already covered by a stronger one.

    A bigram is dropped when both its words are already listed; a word is dropped when it is part of a
    listed bigram, so labels read "prior authorization, fax" rather than "prior authorization, prior".

    Example:
        >>> top_terms(np.array([0.9, 0.8, 0.5]), ["prior authorization", "prior", "fax"], top_n=2)
        [('prior authorization', 0.9), ('fax', 0.5)]
    """
    chosen: list[tuple[str, float]] = []
    covered: set[str] = set()
    lengths = np.array([len(term.split()) for term in vocabulary])
    for i in np.lexsort((-lengths, -np.round(weights, 9))):  # ties go to the longer phrase
        if weights[i] <= 0 or len(chosen) >= top_n:
            break
        term = vocabulary[i]
        parts = term.split()
        if (len(parts) == 1 and term in covered) or (len(parts) > 1 and all(p in covered for p in parts)):
            continue
        chosen.append((term, round(float(weights[i]), 4)))
        covered.update(parts)
        covered.add(term)
    return chosen


def theme_words(
    texts: Sequence[str],
    labels: np.ndarray,
    *,
    top_n: int = 10,
    vectorizer: Any = None,
    counts: sparse.spmatrix | None = None,
    seed_words: Sequence[str] = (),
) -> dict[int, list[tuple[str, float]]]:
    """Top c-TF-IDF words of every theme (outliers, label -1, take part in the IDF but get no words).

    Pass a fitted ``vectorizer`` with its ``counts`` matrix to reuse them (e.g. after an edit).
    ``seed_words`` (lemmatised terms, e.g. from code cues) weigh 1.2 times more, as in BERTopic.

    Example:
        >>> theme_words(["night shift again", "night shift call", "inbox notes", "inbox charting"],
        ...             np.array([0, 0, 1, 1]), top_n=1)
        {0: [('night shift', 0.8004)], 1: [('inbox', 0.8004)]}
    """
    if counts is None:
        vectorizer = vectorizer or make_vectorizer(len(texts))
        try:
            counts = vectorizer.fit_transform(list(texts))
        except ValueError:  # every document was empty after removing stop words
            return {int(c): [] for c in np.unique(labels) if c != -1}
    classes = [int(c) for c in np.unique(labels) if c != -1]
    vocabulary = vectorizer.get_feature_names_out()
    seeds = set(seed_words)
    multiplier = np.array([1.2 if term in seeds else 1.0 for term in vocabulary]) if seeds else None
    weights = class_tfidf(counts, np.asarray(labels), classes, multiplier)
    show = getattr(vectorizer.analyzer, "display", str) if callable(vectorizer.analyzer) else str
    return {c: [(show(term), weight) for term, weight in top_terms(weights[row], vocabulary, top_n)]
            for row, c in enumerate(classes)}


def seed_terms(cues: Sequence[str]) -> list[str]:
    """Code cues as vocabulary terms: lemmatised content words, and the cue's words as one phrase.

    Example:
        >>> seed_terms(["moral injury", "short-staffed", "you know"])
        ['moral', 'injury', 'moral injury', 'short-staffed']
    """
    tokenizer = LemmaTokenizer(bigrams=False)
    terms: list[str] = []
    for cue in cues:
        lemmas = tokenizer(cue)
        terms += lemmas
        if len(lemmas) == 2:
            terms.append(" ".join(lemmas))
    return list(dict.fromkeys(terms))


def label_from_words(words: Sequence[str], n: int = 3) -> str:
    """A short human label from a theme's top words.

    Example:
        >>> label_from_words(["inbox", "message", "portal", "night"])
        'inbox, message, portal'
    """
    return ", ".join(words[:n]) if words else "(no content words)"

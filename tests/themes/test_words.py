"""Theme words: spoken stop list, lemmatising tokenizer with adjacent bigrams, c-TF-IDF labels."""

from __future__ import annotations

import numpy as np

from qualkit.themes.words import (
    LemmaTokenizer,
    class_tfidf,
    seed_terms,
    spoken_tokens,
    theme_words,
    top_terms,
)


def test_fillers_and_multiword_fillers_are_dropped():
    tokens = spoken_tokens("Um, you know, I mean, it's kind of like, yeah, sort of gonna be the EHR, uh, basically.")
    assert tokens == ["ehr"]


def test_lemmas_fix_bad_lookups_and_keep_content_words():
    assert spoken_tokens("The nurses were dying, it does matter") == ["nurse", "die", "matter"]


def test_bigrams_only_join_words_that_stood_together():
    tokens = LemmaTokenizer()("prior authorizations, barely keep my eyes open")
    assert "prior authorization" in tokens
    assert "authorization barely" not in tokens  # a comma breaks the pair
    assert "keep eye" not in tokens  # "my" stood between them


def test_labels_show_the_words_people_said():
    docs = ["I was so exhausted.", "Exhausted, so exhausted.", "The inbox is endless.", "Inbox at midnight."]
    words = theme_words(docs, np.array([0, 0, 1, 1]), top_n=3)
    assert words[0][0][0] == "exhausted" and "inbox" in [w for w, _ in words[1]]


def test_outliers_get_no_words_and_seed_words_weigh_more():
    docs = ["charting notes", "charting inbox", "random chatter here", "notes inbox"]
    plain = theme_words(docs, np.array([0, 0, -1, 0]), top_n=3)
    seeded = theme_words(docs, np.array([0, 0, -1, 0]), top_n=3, seed_words=["inbox"])
    assert set(plain) == {0}
    assert dict(seeded[0])["inbox"] > dict(plain[0])["inbox"]


def test_class_tfidf_prefers_distinctive_words():
    from scipy import sparse

    counts = sparse.csr_matrix(np.array([[3, 1], [0, 1]]))
    weights = class_tfidf(counts, np.array([0, 1]), [0, 1])
    assert weights[0, 0] > weights[0, 1]


def test_top_terms_skip_words_covered_by_a_bigram():
    assert [t for t, _ in top_terms(np.array([.9, .8, .7, .1]), ["night shift", "night", "shift", "call"])] == \
        ["night shift", "call"]


def test_seed_terms_lemmatise_cues():
    assert seed_terms(["short staffed", "um"]) == ["short", "staff", "short staff"]


def test_greetings_and_number_words_are_no_theme_words():
    tokens = spoken_tokens("Hi everyone, hello! Twenty-four hours on call, the first of twelve nights, someone-else")
    assert tokens == ["hour", "night"]


def test_words_keep_their_accents_and_digits():
    """A stranger's themes showed "clich" (from "cliché"), "n s" and "reusing n" (from "N95s")."""
    from qualkit.themes.words import spoken_tokens

    assert spoken_tokens("Reusing N95s felt like a cliché in 2020") == ["reuse", "n95s", "cliché"]

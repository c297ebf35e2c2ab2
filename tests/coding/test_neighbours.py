"""The neighbour coder: votes of the nearest decided texts, leave-one-out thresholds, a member of the ensemble."""

from __future__ import annotations

import numpy as np

import qualkit as qk
from qualkit.model import Code, Codebook

BOOK = Codebook("m", [Code("admin", "Admin"), Code("sleep", "Sleep")])
TEXTS = ["paperwork and forms", "forms again today", "more forms to sign", "I slept all weekend",
         "no sleep at all", "sleep is gone"]
LABELS = [["admin"], ["admin"], ["admin"], ["sleep"], ["sleep"], ["sleep"]]


def test_each_decided_text_is_scored_without_its_own_vote():
    coder = qk.NeighbourCoder(BOOK, embedder="lsa", k=1, min_decided=0).fit(TEXTS, LABELS)
    vectors = coder.vectors_
    # with k=1 a text's out-of-fold score comes from its nearest *other* text, never from itself
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = similarity.argmax(axis=1)
    expected = (coder.labels_[nearest] == 1).astype(np.float32)
    assert np.array_equal(coder.oof_scores_, expected)


def test_a_text_gets_the_codes_of_its_neighbours_and_codes_without_both_kinds_score_zero():
    book = Codebook("m", [*BOOK.codes, Code("hierarchy", "Hierarchy")])
    coder = qk.NeighbourCoder(book, embedder="lsa", k=3, min_decided=0).fit(TEXTS, LABELS)
    scores = coder.predict_scores(["forms and paperwork again"])
    assert scores["admin"].iloc[0] > 0.5 > scores["sleep"].iloc[0]
    assert scores["hierarchy"].iloc[0] == 0.0 and coder.models_[2] is None  # never applied: nothing to vote with


def test_the_default_coder_takes_it_beside_the_learned_coder_when_asked():
    coder = qk.AutoCoder(BOOK, embedder="lsa", neighbours=True).fit(TEXTS * 2, LABELS * 2)
    assert [name for name, _ in coder.estimators] == ["rules", "similarity", "learned", "neighbours"]
    assert isinstance(coder.estimators_["neighbours"], qk.NeighbourCoder)
    assert coder.predict(["forms, forms, forms"]) == [["admin"]]
    assert "neighbours" not in dict(qk.AutoCoder(BOOK).estimators)


def test_with_few_decisions_it_abstains_and_leaves_the_default_coder_as_it_was():
    """Measured on development splits: neighbours lose with few decided texts, so below min_decided they keep out."""
    few = qk.NeighbourCoder(BOOK, embedder="lsa").fit(TEXTS, LABELS)
    assert few.models_ == [None, None] and np.isnan(few.oof_scores_).all()
    alone = qk.AutoCoder(BOOK, embedder="lsa").fit(TEXTS * 2, LABELS * 2)
    beside = qk.AutoCoder(BOOK, embedder="lsa", neighbours=True).fit(TEXTS * 2, LABELS * 2)
    probe = ["forms again", "no sleep", "the rota"]
    assert np.allclose(alone.predict_scores(probe).to_numpy(), beside.predict_scores(probe).to_numpy(), atol=1e-4)

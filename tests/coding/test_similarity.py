"""SimilarityCoder: best sentence of a long turn, rationale naming the closest prototype, caching, MiniLM."""

from __future__ import annotations

import re

import numpy as np
import pytest

from qualkit.coding.similarity import SimilarityCoder
from qualkit.embeddings import CachedEmbedder, LsaEmbedder
from qualkit.model import Segment

CORPUS = ["The charting and the documentation take all evening.", "Forms, charting, documentation, forms.",
          "I ate lunch alone again, nobody to talk to.", "Alone on nights with nobody around.",
          "We had a barbecue for the unit on Sunday.", "The weather was nice at the weekend."] * 10


def test_lsa_fallback_scores_the_right_code(mini_codebook, nlp):
    from qualkit.coding._base import Batch

    coder = SimilarityCoder(mini_codebook, embedder="lsa", nlp=nlp).fit(CORPUS)
    texts = ["So much charting and documentation tonight.", "Alone, nobody to talk to."]
    raw = coder.raw_similarity(Batch.build(texts, nlp=nlp))[0]
    assert [coder.codes_[j] for j in raw.argmax(axis=1)] == ["paperwork", "isolation"]
    scores = coder.predict_scores(texts).to_numpy()
    assert ((scores >= 0) & (scores <= 1)).all() and scores[0].argmax() == 2
    assert coder.embedder_.name == "tfidf-lsa"


def test_best_sentence_of_a_long_turn_is_the_evidence(mini_codebook, nlp):
    coder = SimilarityCoder(mini_codebook, embedder="lsa", nlp=nlp).fit(CORPUS)
    text = ("We had a barbecue for the unit on Sunday. The weather was nice at the weekend, sunny and warm. "
            "My cousin came along with her two dogs and we stayed in the garden until late. "
            "But the charting and documentation take all evening. Anyway. That is about it from me, "
            "I think, unless anyone else has something to add before we move on to the next question.")
    assert len(text) > 300  # long turns are embedded sentence by sentence
    segment = Segment("s.txt", 100, 100 + len(text), text, id=3)
    coding = next(c for c in coder.predict_codings([segment], top_k=1))
    assert coding.code_id == "paperwork"
    (start, end), = coding.evidence
    assert text[start - 100:end - 100] == "But the charting and documentation take all evening."
    assert re.fullmatch(r"close to (definition|inclusion criteria|example \d) of paperwork \(\d\.\d\d\)", coding.rationale)


def test_embeddings_are_cached_per_text(mini_codebook, nlp):
    calls: list[int] = []

    class Counting(LsaEmbedder):
        def encode(self, texts, *, progress=False):
            calls.append(len(texts))
            return super().encode(texts, progress=progress)

    inner = Counting(n_components=16).fit(CORPUS)
    coder = SimilarityCoder(mini_codebook, embedder=CachedEmbedder(inner), nlp=nlp).fit()
    before = sum(calls)
    coder.predict(["Alone again.", "Alone again.", "Forms."])
    assert sum(calls) - before == 2
    coder.predict(["Alone again."])
    assert sum(calls) - before == 2


def test_near_misses_lower_the_score(mini_codebook, nlp):
    with_near = SimilarityCoder(mini_codebook, embedder="lsa", nlp=nlp).fit(CORPUS)
    without = SimilarityCoder(mini_codebook, embedder="lsa", near_miss_weight=0.0, nlp=nlp).fit(CORPUS)
    text = ["I was a bit tired after the conference"]
    assert with_near.predict_scores(text).loc[0, "exhaustion"] < without.predict_scores(text).loc[0, "exhaustion"]


@pytest.mark.embeddings
def test_minilm_finds_meaning_without_shared_words(burnout, minilm, nlp):
    coder = SimilarityCoder(burnout, embedder=minilm, nlp=nlp).fit()
    scores = coder.predict_scores([
        "Every evening I sit clicking through notes and forms in the electronic record.",
        "I feel completely alone here, there is no one I can talk to at work.",
    ])
    assert "administrative_burden" in scores.loc[0].nlargest(3).index
    assert "isolation" in scores.loc[1].nlargest(3).index
    coding = coder.predict_codings(["Nobody to talk to, I eat by myself every night."], top_k=1)[0]
    assert re.fullmatch(r"close to (definition|inclusion criteria|example \d) of isolation \(0\.\d\d\)", coding.rationale)
    assert np.isfinite(coder.center_).all()

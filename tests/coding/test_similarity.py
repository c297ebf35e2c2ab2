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
    assert re.fullmatch(r"close to (definition|inclusion criteria|example \d) of paperwork \(similarity \d\.\d\d\)", coding.rationale)


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
    assert re.fullmatch(r"close to (definition|inclusion criteria|example \d) of isolation \(similarity 0\.\d\d\)", coding.rationale)
    assert np.isfinite(coder.center_).all()


FILLERS = [f"Filler line {i}: we talked about the {w} for a while." for i, w in
           enumerate(["parking", "weather", "cafeteria", "elevators", "bus schedule", "new carpets", "coffee",
                      "football", "printer", "holiday rota"] * 8)]


@pytest.mark.parametrize("embedder", ["lsa", pytest.param("minilm", marks=pytest.mark.embeddings)])
def test_scores_do_not_depend_on_the_rest_of_the_batch(burnout, nlp, embedder, request):
    import qualkit as qk

    if embedder == "minilm":
        embedder = request.getfixturevalue("minilm")
    text = ["I never felt isolated, my team was always there.", "Honestly the paperwork never ends."]
    alone = qk.AutoCoder(burnout, embedder=embedder, nlp=nlp).fit(text)
    crowded = qk.AutoCoder(burnout, embedder=embedder, nlp=nlp).fit(text + FILLERS)
    np.testing.assert_allclose(alone.predict_scores(text).to_numpy(),
                               crowded.predict_scores(text + FILLERS).to_numpy()[:2], atol=1e-5)
    assert "isolation" not in crowded.predict(text + FILLERS)[0]
    assert sum(map(len, crowded.predict(FILLERS))) == 0  # neutral talk gets no codes


def test_calibration_uses_fixed_material_only(mini_codebook, nlp):
    coder = SimilarityCoder(mini_codebook, embedder="lsa", nlp=nlp).fit()
    refit = SimilarityCoder(mini_codebook, embedder="lsa", nlp=nlp).fit(CORPUS)
    np.testing.assert_allclose(coder.center_, refit.center_)
    negatives = coder.calibration_negatives()
    assert [len(v) for v in negatives] == [len(v) for v in refit.calibration_negatives()]
    # near-miss of exhaustion, the other codes' examples, and the shipped neutral talk
    from qualkit.coding._reference import NEUTRAL_TURNS

    assert len(negatives[0]) == 1 + 4 + len(NEUTRAL_TURNS)
    assert len(SimilarityCoder(mini_codebook, embedder="lsa", calibration="prototypes", nlp=nlp).fit()
               .calibration_negatives()[0]) == 1 + 4


def test_short_turns_get_their_span_as_evidence(mini_codebook, nlp):
    coder = SimilarityCoder(mini_codebook, embedder="lsa", nlp=nlp).fit()
    text = "  Charting and documentation again tonight.  "
    segment = Segment("s.txt", 40, 40 + len(text), text, id=1)
    coding = coder.predict_codings([segment], top_k=1)[0]
    assert coding.code_id == "paperwork"
    (start, end), = coding.evidence
    assert text[start - 40:end - 40] == text.strip()


@pytest.mark.parametrize(("param", "value"), [("calibration", "corpus"), ("z", "high"), ("contrast", 2.0),
                                              ("centroid_weight", -0.1), ("scale", 0)])
def test_bad_parameters_raise_one_clear_error(mini_codebook, nlp, param, value):
    import qualkit as qk

    with pytest.raises(qk.InvalidInput, match=f"'{param}' parameter of SimilarityCoder"):
        SimilarityCoder(mini_codebook, embedder="lsa", nlp=nlp, **{param: value}).fit()


def test_repr_is_short(burnout):
    text = repr(SimilarityCoder(burnout, embedder="lsa", z=3.0))
    assert text == "SimilarityCoder(<Codebook 'burnout' v3, 24 codable codes>, embedder='lsa', z=3.0)"

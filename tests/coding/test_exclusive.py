"""Exclusive codebooks (one code per unit): detected from the labels, one multinomial model, top-1 or uncoded."""

from __future__ import annotations

import numpy as np
import pytest

import qualkit as qk
from qualkit.coding.learned import LearnedCoder, exclusive_choice, is_exclusive
from qualkit.model import Code, Codebook

TALK = {
    "question": ["What brings you here today?", "How often do you drink?", "Can you tell me more about work?",
                 "What would you like to change?", "How do you feel about smoking?", "Why now?"],
    "reflection": ["So you feel stuck.", "It sounds like work is a lot.", "You want to be there for your kids.",
                   "You're worried about your health.", "So part of you wants to stop.", "You feel judged."],
    "other": ["Mm-hmm.", "Okay.", "Right.", "Hello, come in.", "Thanks for coming.", "See you next week."],
}


@pytest.fixture
def talk_codebook() -> Codebook:
    return Codebook("mi", [Code("question", "Question", definition="The counsellor asks something."),
                           Code("reflection", "Reflection", definition="The counsellor says back what the client said."),
                           Code("other", "Other", definition="Greetings, backchannels and logistics.")])


def _data() -> tuple[list[str], list[list[str]]]:
    texts, labels = [], []
    for code, lines in TALK.items():
        texts += lines + [f"{line} (again)" for line in lines]  # 36 rows: enough to read as one code per unit
        labels += [[code]] * (2 * len(lines))
    return texts, labels


def test_exclusive_is_detected_from_the_labels():
    assert is_exclusive(np.array([[1, 0], [0, 1], [-1, -1]]), min_rows=2)
    assert not is_exclusive(np.array([[1, 1], [0, 1]]), min_rows=2)  # a unit with two codes: multi-label
    assert not is_exclusive(np.array([[1, 0], [0, 0]]), min_rows=2)  # a unit with none: per-code decisions
    assert not is_exclusive(np.array([[1, -1], [0, 1]]), min_rows=2)  # partial labels are per-code decisions
    # Seen by a new researcher: ten single-coded survey answers made every answer get a code, "N/A" too.
    assert not is_exclusive(np.eye(3, dtype=int)[np.arange(10) % 3])
    assert is_exclusive(np.eye(3, dtype=int)[np.arange(30) % 3])


def test_one_multinomial_model_gives_each_unit_its_single_best_code(talk_codebook, nlp):
    texts, labels = _data()
    coder = LearnedCoder(talk_codebook, embedder="lsa", nlp=nlp).fit(texts, labels)
    assert coder.exclusive_ and len(coder.models_) == 1 and coder.C_ in (0.5, 2.0, 8.0)
    scores = coder.predict_scores(["How do you feel about that?", "Okay."]).to_numpy()
    assert np.allclose(scores.sum(axis=1), 1.0, atol=1e-5)
    predicted = coder.predict(["How do you feel about that?", "Okay.", "You feel stuck at work."])
    assert all(len(p) == 1 for p in predicted)
    assert predicted[1] == ["other"]
    assert [len(p) for p in coder.predict(texts[:3], top_k=2)] == [2, 2, 2]  # --top-k means what it says


def test_min_probability_leaves_a_unit_uncoded():
    chosen = exclusive_choice(np.array([[0.4, 0.35, 0.25], [0.9, 0.05, 0.05]]), np.full(3, 0.5))
    assert chosen.sum(axis=1).tolist() == [0, 1]


def test_the_default_coder_is_exclusive_when_the_labels_are(talk_codebook, nlp):
    texts, labels = _data()
    coder = qk.AutoCoder(talk_codebook, embedder="lsa", nlp=nlp).fit(texts, labels)
    assert coder.exclusive_ and 0 <= coder.weights_.max() <= 1
    assert all(len(p) == 1 for p in coder.predict(["What else?", "Right.", "So you are tired."]))
    multi = qk.AutoCoder(talk_codebook, embedder="lsa", nlp=nlp, exclusive=False).fit(texts, labels)
    assert not multi.exclusive_


def test_an_ensemble_takes_its_coders_as_parameters(talk_codebook, nlp):
    texts, labels = _data()
    ensemble = qk.Ensemble(talk_codebook, [("sim", qk.SimilarityCoder()), ("lr", LearnedCoder(C=1.0))],
                           embedder="lsa", nlp=nlp).fit(texts, labels)
    assert sorted(ensemble.estimators_) == ["lr", "sim"]
    assert ensemble.estimators_["lr"].C == 1.0 and ensemble.estimators_["lr"].codebook is talk_codebook
    assert ensemble.learned_ is ensemble.estimators_["lr"] and ensemble.rules_ is None
    assert ensemble.predict_scores(texts[:2]).shape == (2, 3)
    with pytest.raises(qk.InvalidInput, match="estimator names repeat"):
        qk.Ensemble(talk_codebook, [("a", qk.RuleCoder()), ("a", qk.RuleCoder())], nlp=nlp).fit()

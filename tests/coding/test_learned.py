"""LearnedCoder: learns from a handful of decisions, calibrated probabilities, partial labels, bad labels."""

from __future__ import annotations

import re

import numpy as np
import pytest

from qualkit.coding._base import label_matrix
from qualkit.coding.learned import LearnedCoder, best_threshold
from qualkit.errors import InvalidInput

TRAIN = [
    ("Two hours of charting every evening", ["paperwork"]),
    ("The forms and the inbox never end", ["paperwork"]),
    ("Prior auth faxes all afternoon", ["paperwork"]),
    ("Notes until midnight again", ["paperwork"]),
    ("I eat alone in my car", ["isolation"]),
    ("Nobody to talk to on nights", ["isolation"]),
    ("I moved here and know no one", ["isolation"]),
    ("Lonely on the night shift", ["isolation"]),
    ("We went bowling as a team", []),
    ("The coffee machine is broken", []),
    ("I drive to work at seven", []),
    ("The parking lot is full", []),
]


def test_learns_from_a_handful_of_examples(mini_codebook, nlp):
    texts, labels = zip(*TRAIN, strict=True)
    coder = LearnedCoder(mini_codebook, embedder="lsa", nlp=nlp).fit(list(texts), list(labels))
    assert coder.n_positive_.tolist() == [0, 4, 4]
    assert coder.models_[0] is None  # exhaustion has no examples: it scores 0
    predicted = coder.predict(["So many forms and faxes tonight", "I know no one, I eat alone"])
    assert predicted == [["paperwork"], ["isolation"]]
    scores = coder.predict_scores(["So many forms and faxes tonight"]).to_numpy()
    assert ((scores >= 0) & (scores <= 1)).all() and scores[0, 0] == 0
    coding = coder.predict_codings(["charting and forms all evening"], top_k=1)[0]
    assert coding.origin == "learned" and re.match(r"learned from 12 decisions \(probability \d\.\d\d\)", coding.rationale)


def test_calibration_and_thresholds_come_from_held_out_folds(mini_codebook, nlp):
    texts, labels = zip(*(TRAIN * 3), strict=True)
    coder = LearnedCoder(mini_codebook, embedder=None, nlp=nlp).fit(list(texts), list(labels))
    assert coder.calibrated_.tolist() == [False, True, True]
    assert np.isfinite(coder.oof_scores_[:, 1]).all() and np.isnan(coder.oof_scores_[:, 0]).all()
    assert 0 < coder.thresholds_[1] < 1


def test_partial_labels_leave_undecided_codes_out(mini_codebook, nlp):
    texts, labels = zip(*TRAIN, strict=True)
    partial = [dict.fromkeys(lab, True) if lab else {"paperwork": False} for lab in labels]
    coder = LearnedCoder(mini_codebook, embedder="lsa", nlp=nlp).fit(list(texts), partial)
    # Only the four negatives judged for paperwork count; isolation has positives but no negatives.
    assert coder.n_negative_.tolist() == [0, 0, 4]
    assert coder.models_[1] is None and coder.models_[2] is not None


def test_labels_naming_unknown_codes_are_refused(mini_codebook, nlp):
    with pytest.raises(InvalidInput, match=r"label 2 names the code 'paperwrok'.*did you mean 'paperwork'"):
        LearnedCoder(mini_codebook, embedder="lsa", nlp=nlp).fit(["a", "b"], [[], ["paperwrok"]])
    with pytest.raises(InvalidInput, match="needs labels"):
        LearnedCoder(mini_codebook, embedder="lsa", nlp=nlp).fit(["a"], None)
    with pytest.raises(InvalidInput, match="2 label entries for 1 texts"):
        LearnedCoder(mini_codebook, embedder="lsa", nlp=nlp).fit(["a"], [[], []])


def test_label_matrix_forms():
    codes = ["a", "b"]
    assert label_matrix([["a"], [], {"b": True}, None], codes).tolist() == [[1, 0], [0, 0], [-1, 1], [-1, -1]]
    assert label_matrix(np.array([[1, 0]]), codes).tolist() == [[1, 0]]


def test_best_threshold_shrinks_towards_the_prior():
    scores, labels = np.array([0.1, 0.2, 0.3, 0.9]), np.array([0, 0, 1, 1])
    free = best_threshold(scores, labels, strength=0)
    assert 0.2 < free < 0.3
    assert free < best_threshold(scores, labels, strength=5) < 0.5


def test_threshold_shrinkage_zero_keeps_the_best_held_out_threshold(mini_codebook, nlp):
    texts, labels = zip(*(TRAIN * 3), strict=True)
    free = LearnedCoder(mini_codebook, embedder=None, nlp=nlp, threshold_shrinkage=0).fit(list(texts), list(labels))
    shrunk = LearnedCoder(mini_codebook, embedder=None, nlp=nlp).fit(list(texts), list(labels))
    j = list(free.codes_).index("paperwork")  # calibrated, so its threshold was tuned on held-out folds
    assert free.calibrated_[j]
    rows = np.isfinite(free.oof_scores_[:, j])
    positives = np.array([c == ["paperwork"] for c in labels])[rows].astype(int)
    assert free.thresholds_[j] == pytest.approx(best_threshold(free.oof_scores_[rows, j], positives, strength=0))
    assert abs(shrunk.thresholds_[j] - 0.5) <= abs(free.thresholds_[j] - 0.5) + 1e-9


def test_rationale_names_content_words_not_fillers(mini_codebook, nlp):
    # Every isolation example says "yeah, for me ..." so the fillers carry weight in the model; the
    # rationale must still point at words a researcher can check.
    train = [(f"Yeah, for me {text}", codes) if codes == ["isolation"] else (text, codes) for text, codes in TRAIN]
    texts, labels = zip(*train, strict=True)
    coder = LearnedCoder(mini_codebook, embedder=None, nlp=nlp).fit(list(texts), list(labels))
    coding = next(c for c in coder.predict_codings(["Yeah, for me I am lonely and eat alone"], top_k=3)
                  if c.code_id == "isolation")
    words = set(re.findall(r'"([^"]+)"', coding.rationale.split("; words ", 1)[1]))
    assert words & {"lonely", "alone", "eat alone"}
    assert not any(set(term.split()) <= {"yeah", "for", "me"} for term in words)


def test_a_code_with_only_its_name_learns_from_its_name(nlp):
    """A names-only codebook (an NVivo node list, NHS theme names): a code the decisions show once is still
    learned from its name; before, the name was left out of the training rows and the one decision was all."""
    from qualkit.model import Code, Codebook

    codebook = Codebook("names", [Code("food", "Food and drink provision"), Code("staff", "Staff attitude")])
    texts = ["The nurses were rude to my mother", "Staff were kind and patient", "Lovely soup at lunch",
             "Parking was hard to find", "The doctor was dismissive", "Reception staff ignored us"]
    labels = [["staff"], ["staff"], ["food"], [], ["staff"], ["staff"]]
    unseen = ["No drink provision on the ward at night"]

    def score(codebook_examples: bool) -> float:
        coder = LearnedCoder(codebook, embedder="lsa", nlp=nlp, codebook_examples=codebook_examples)
        return float(coder.fit(texts, labels).predict_scores(unseen)["food"].iloc[0])

    assert score(True) > score(False) + 0.05

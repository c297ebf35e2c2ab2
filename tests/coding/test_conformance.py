"""One conformance test over every coder: scikit-learn estimator rules."""

from __future__ import annotations

import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from qualkit.coding import AutoCoder, LearnedCoder, RuleCoder, SimilarityCoder

TEXTS = ["so much paperwork", "I feel isolated", "charting all night", "lonely on nights"] * 3
LABELS = [["paperwork"], ["isolation"], ["paperwork"], ["isolation"]] * 3


@pytest.mark.parametrize("make", [
    lambda cb, nlp: RuleCoder(cb, nlp=nlp),
    lambda cb, nlp: SimilarityCoder(cb, embedder="lsa", nlp=nlp),
    lambda cb, nlp: LearnedCoder(cb, embedder="lsa", nlp=nlp),
    lambda cb, nlp: AutoCoder(cb, embedder="lsa", nlp=nlp),
], ids=["rules", "similarity", "learned", "ensemble"])
def test_every_coder_follows_the_estimator_rules(make, mini_codebook, nlp):
    coder = make(mini_codebook, nlp)
    params = coder.get_params()
    assert params["codebook"] is mini_codebook and not any(k.endswith("_") for k in vars(coder))
    for method in (coder.predict, coder.predict_scores, coder.predict_codings):
        with pytest.raises(NotFittedError):
            method(TEXTS)
    assert coder.fit(TEXTS, LABELS) is coder
    assert coder.predict_scores(TEXTS).shape == (len(TEXTS), 3)
    twin = clone(coder)
    assert type(twin) is type(coder) and twin is not coder
    assert twin.get_params().keys() == params.keys()
    assert twin.get_params()["nlp"] is nlp  # loaded models are shared, not copied
    assert twin.codebook is not mini_codebook and twin.codebook.ids == mini_codebook.ids
    with pytest.raises(NotFittedError):
        twin.predict(TEXTS)
    twin.set_params(code_moderators=True)
    assert twin.get_params()["code_moderators"] is True
    assert type(coder).__name__ in repr(coder)
    assert twin.fit(TEXTS, LABELS).predict(TEXTS) == coder.predict(TEXTS)

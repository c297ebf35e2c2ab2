"""One conformance test over every coder, found by itself: scikit-learn estimator rules."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import qualkit.coding
from qualkit.coding._base import BaseCoder

TEXTS = ["so much paperwork", "I feel isolated", "charting all night", "lonely on nights"] * 3
LABELS = [["paperwork"], ["isolation"], ["paperwork"], ["isolation"]] * 3


def every_coder() -> list[type[BaseCoder]]:
    """Each BaseCoder subclass defined in a module of qualkit.coding (a new coder is tested without a line here)."""
    found: dict[str, type[BaseCoder]] = {}
    for module in pkgutil.iter_modules(qualkit.coding.__path__):
        loaded = importlib.import_module(f"qualkit.coding.{module.name}")
        for _, cls in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(cls, BaseCoder) and cls is not BaseCoder and cls.__module__ == loaded.__name__:
                found[cls.__name__] = cls
    return [found[name] for name in sorted(found)]


def test_the_discovery_finds_the_known_coders():
    assert {"RuleCoder", "SimilarityCoder", "LearnedCoder", "Ensemble", "AutoCoder"} <= {c.__name__ for c in every_coder()}


@pytest.mark.parametrize("cls", every_coder(), ids=lambda c: c.__name__)
def test_every_coder_follows_the_estimator_rules(cls, mini_codebook, nlp):
    params = inspect.signature(cls).parameters
    coder = cls(mini_codebook, nlp=nlp, **({"embedder": "lsa"} if "embedder" in params else {}))
    params = coder.get_params()
    assert params["codebook"] is mini_codebook and not any(k.endswith("_") for k in vars(coder))
    for method in (coder.predict, coder.predict_scores, coder.predict_codings):
        with pytest.raises(NotFittedError):
            method(TEXTS)
    assert coder.fit(TEXTS, LABELS) is coder
    assert coder.predict_scores(TEXTS).shape == (len(TEXTS), 3)
    assert list(coder.codes_) == ["exhaustion", "isolation", "paperwork"]
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


@pytest.mark.parametrize("cls", every_coder(), ids=lambda c: c.__name__)
def test_every_learned_attribute_is_documented(cls, mini_codebook, nlp):
    params = inspect.signature(cls).parameters
    coder = cls(mini_codebook, nlp=nlp, **({"embedder": "lsa"} if "embedder" in params else {})).fit(TEXTS, LABELS)
    documented = "".join(klass.__doc__ or "" for klass in cls.__mro__)
    learned = [name for name in vars(coder) if name.endswith("_") and not name.startswith("_")]
    assert learned and [name for name in learned if name not in documented] == []

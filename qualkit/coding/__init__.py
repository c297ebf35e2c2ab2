"""Coders that suggest codes for segments: rules, semantic similarity, a learned coder, and their ensemble.

Every coder is a scikit-learn estimator (``fit`` returns ``self``, learned state ends in ``_``, ``clone``
and ``get_params`` work) over plain texts or :class:`~qualkit.model.Segment` objects.

Example:
    >>> import qualkit as qk
    >>> coder = qk.RuleCoder(qk.Codebook.load("burnout")).fit()
    >>> "administrative_burden" in coder.predict(["Two hours of paperwork every night."])[0]
    True
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "RuleCoder": "qualkit.coding.rules",
    "SimilarityCoder": "qualkit.coding.similarity",
    "LearnedCoder": "qualkit.coding.learned",
    "NeighbourCoder": "qualkit.coding.neighbours",
    "Ensemble": "qualkit.coding.ensemble",
    "AutoCoder": "qualkit.coding.ensemble",
    "suggest_next": "qualkit.coding.active",
    "rank_for_review": "qualkit.coding.active",
    "evaluate_codes": "qualkit.coding.evaluate",
    "label_matrix": "qualkit.coding._base",
    "Batch": "qualkit.coding._base",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'qualkit.coding' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = list(_LAZY)

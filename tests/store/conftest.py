"""A small coded project on each backend: the hand-built source, a three-code codebook, machine suggestions."""

from __future__ import annotations

from dataclasses import dataclass

import pytest


@dataclass
class Coded:
    """The store, the source, and the ids of its suggestions by (turn, code)."""

    store: object
    source: object
    ids: dict

    def segment(self, turn: int):
        return self.source.segments[turn]


@pytest.fixture
def coded(store, small_source) -> Coded:
    """``small_source`` stored with codebook ``mini`` (workload, exhaustion, support) and four suggestions."""
    from qualkit.model import Code, Codebook, Coding

    store.save_codebook(Codebook("mini", [Code(c, c.title()) for c in ("workload", "exhaustion", "support")]),
                        user="admin")
    store.add_source(small_source, user="admin")
    ann, bela = small_source.segments[1], small_source.segments[2]
    wanted = [(1, "exhaustion", 0.9), (1, "support", 0.5), (2, "workload", 0.75), (2, "exhaustion", 0.3)]
    codings = [Coding(small_source.segments[turn].id, code, origin="rules", coder="auto", score=score,
                      codebook_version=1) for turn, code, score in wanted]
    store.add_codings(codings, user="auto", action="suggest")
    assert ann.id and bela.id
    return Coded(store, small_source, {(turn, code): c.id for (turn, code, _), c in zip(wanted, codings, strict=True)})

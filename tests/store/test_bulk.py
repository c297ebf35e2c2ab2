"""A whole review recorded at once (a coder's finished work from outside): all of it, or none of it."""

from __future__ import annotations

import pytest

from qualkit.errors import ConflictError
from qualkit.model import Coding
from qualkit.store.bulk import record_review


def test_a_review_is_one_transaction(coded):
    store, ids = coded.store, coded.ids
    store.decide(ids[(2, "workload")], "reject", user="ben")
    added = Coding(coded.segment(2).id, "support", coder="gold")
    with pytest.raises(ConflictError, match="nothing was saved"):
        record_review(store, accept=[ids[(1, "exhaustion")]], reject=[ids[(2, "workload")]], add=[added], user="gold")
    assert store.coding(ids[(1, "exhaustion")]).status == "suggested" and store.codings_df(coder="gold").empty
    counts = record_review(store, accept=[ids[(1, "exhaustion")]], reject=[ids[(1, "support")]], add=[added],
                           user="gold")
    assert counts == {"accepted": 1, "rejected": 1, "added": 1}
    assert store.coding(ids[(1, "support")]).decided_by == "gold" and added.id is not None
    events = store.events_df("coding")
    assert set(events.loc[events["user"] == "gold", "action"]) == {"import"}

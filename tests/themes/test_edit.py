"""Researchers' edits: merge, split, rename, discard return new results and keep decisions."""

from __future__ import annotations

import pytest

from qualkit.errors import InvalidInput
from qualkit.themes import edit


def test_merge_puts_documents_in_the_first_theme(lsa_result):
    a, b = lsa_result.active[1].id, lsa_result.active[2].id
    merged = edit.merge(lsa_result, [a, b], label="Merged")
    assert merged.theme(a).size == lsa_result.theme(a).size + lsa_result.theme(b).size
    assert merged.theme(a).label == "Merged" and "merged themes" in merged.theme(a).history[-1]
    assert b not in [t.id for t in merged.themes] and merged.edits[-1]["action"] == "merge"
    assert lsa_result.theme(b).size > 0  # the input is unchanged


def test_split_refits_a_theme_into_new_ones(lsa_result):
    target = lsa_result.active[0]
    split = edit.split(lsa_result, target.id, n=3)
    new = [t for t in split.themes if t.id > max(x.id for x in lsa_result.themes)]
    assert len(new) == 3 and sum(t.size for t in new) == target.size
    assert all(t.history == [f"split from theme {target.id}"] for t in new)
    assert target.id not in [t.id for t in split.themes]


def test_rename_survives_later_edits(lsa_result):
    theme = lsa_result.active[0]
    renamed = edit.rename(lsa_result, theme.id, "Charting at night")
    other = [t.id for t in renamed.active if t.id != theme.id][:2]
    assert edit.merge(renamed, other).theme(theme.id).label == "Charting at night"


def test_discard_unassigns_documents_and_keeps_the_record(lsa_result):
    theme = lsa_result.active[-1]
    discarded = edit.discard(lsa_result, theme.id)
    assert discarded.theme(theme.id).status == "discarded" and discarded.theme(theme.id).size == 0
    assert theme.id not in [t.id for t in discarded.active]
    labels = discarded.documents["theme"].to_numpy()
    assert (labels == -1).sum() == (lsa_result.documents["theme"] == -1).sum() + theme.size
    with pytest.raises(InvalidInput, match="discarded"):
        edit.merge(discarded, [theme.id, discarded.active[0].id])


def test_hierarchy_and_prevalence_tables(lsa_result):
    tree = lsa_result.hierarchy()
    assert len(tree) == len(lsa_result.active) - 1
    assert sorted(tree["themes"].iloc[-1]) == sorted(t.id for t in lsa_result.active)
    table = lsa_result.prevalence("role")
    assert set(table.columns) == {"resident", "attending", "nurse", "staff"}
    first = lsa_result.active[0]
    assert table.loc[first.id].to_dict() == pytest.approx(first.prevalence["role"])


def test_split_without_n_is_sized_to_the_theme(lsa_result):
    target = lsa_result.active[0]
    merged = edit.merge(lsa_result, [t.id for t in lsa_result.active[:4]])  # one large theme to split
    big = merged.theme(target.id)
    split = edit.split(merged, big.id)
    new = [t for t in split.themes if t.id > max(x.id for x in merged.themes)]
    assert 2 <= len(new) <= 6 and sum(t.size for t in new) == big.size
    assert all(t.size >= 5 for t in new)

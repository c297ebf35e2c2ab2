"""Row helpers shared by the store: chunks, bind names, JSON-safe values, codings from rows and joined frames."""

from __future__ import annotations

import numpy as np

from qualkit.store.rows import (
    CODING_COLUMNS,
    bind_names,
    chunks,
    coding_frame,
    coding_from_row,
    coding_values,
    joined_codings,
    jsonable,
)
from qualkit.store.schema import CodingRow


def test_chunks_bind_names_and_json():
    assert [list(c) for c in chunks(list(range(5)), size=2)] == [[0, 1], [2, 3], [4]]
    assert list(chunks([])) == []
    assert bind_names({"_id": 1, "score": 0.5}) == {"_id": 1, "_score": 0.5}
    assert jsonable({"n": np.int64(3), "f": np.float32(0.5), "t": (1, {2}), 4: None}) == {
        "n": 3, "f": 0.5, "t": [1, [2]], "4": None}


def test_codings_from_rows_and_the_joined_frame(coded):
    store = coded.store
    with store.session() as session:
        row = session.get(CodingRow, coded.ids[(2, "workload")])
        coding = coding_from_row(row)
        values = coding_values(row)
        joined = session.execute(joined_codings(store.project_id).order_by(CodingRow.id)).all()
    assert (coding.code_id, coding.score, coding.version, coding.guid) == ("workload", 0.75, 1, row.guid)
    assert coding == store.coding(coding.id)
    assert values["id"] == coding.id and values["status"] == "suggested" and values["version"] == 1
    frame = coding_frame(joined)
    assert list(frame.columns) == CODING_COLUMNS
    assert frame.drop(columns=["created_at", "updated_at", "decided_at"]).equals(
        store.codings_df().drop(columns=["created_at", "updated_at", "decided_at"]))

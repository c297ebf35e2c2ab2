"""The passages behind a count: the segments a prevalence or co-occurrence cell counted, attributed by role.

Every number the analyses show can be opened: :func:`passages_behind` applies exactly the filters the
count applied (participant talk, accepted codings — or suggested too when asked —, roll-ups of
sub-codes, the group of ``by``), so the number of rows it returns is the number in the cell. Each row
carries an attribution by participant attributes, never by name (:func:`qualkit.analysis.quotes.attribution`),
and the source and segment ids that open the place in the transcript.

Example:
    >>> import pandas as pd
    >>> segs = pd.DataFrame({"id": [1, 2], "source": "g1", "source_id": 1, "speaker": ["A", "B"],
    ...                      "speaker_role": "participant", "kind": "turn", "text": ["So tired.", "Fine."],
    ...                      "role": ["resident", "staff"]})
    >>> cods = pd.DataFrame({"segment_id": [1], "code_id": ["exhaustion"], "status": ["accepted"]})
    >>> passages_behind(segs, cods, "exhaustion", by="role", group="resident")[["segment_id", "attribution"]].values.tolist()
    [[1, 'Resident, g1']]
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from qualkit.analysis._common import (
    code_names,
    counted_codings,
    group_labels,
    is_rollup,
    require_columns,
    rollup_pairs,
    talk_segments,
)
from qualkit.analysis.disclosure import guard_talk
from qualkit.analysis.quotes import attribution
from qualkit.model import Codebook

COLUMNS = ["segment_id", "source", "source_id", "turn", "start", "end", "attribution", "group", "text", "codes"]


def passages_behind(
    segments: pd.DataFrame,
    codings: pd.DataFrame,
    code: str,
    *,
    other: str | None = None,
    by: str | None = None,
    group: str | None = None,
    include_suggested: bool = False,
    include_moderator: bool = False,
    codebook: Codebook | None = None,
    bins: int | Sequence[float] | None = None,
    min_cell: int = 1,
) -> pd.DataFrame:
    """The segments counted in one cell: coded ``code`` (and ``other``, for a co-occurrence cell) in ``group``.

    ``code`` may be a roll-up id (``"disconnection+"``: the code or any of its sub-codes). ``by`` and
    ``group`` pick a prevalence cell's column (``group=None``: every group). Rows are in transcript
    order, with ``attribution`` ("Resident, group 2"), ``codes`` (the names of the codes counted on
    the segment) and ``source_id``/``segment_id`` to open the place in the transcript. With the ``min_cell``
    prevalence was given (:mod:`qualkit.analysis.disclosure`), ``group`` may be its "Other (groups of fewer than N
    people)" row.

    Example:
        >>> segs = pd.DataFrame({"id": [1, 2], "source": "g1", "speaker": ["A", "B"], "kind": "turn",
        ...                      "speaker_role": "participant", "text": ["Tired, no time.", "Tired."]})
        >>> cods = pd.DataFrame({"segment_id": [1, 1, 2], "code_id": ["tired", "time", "tired"],
        ...                      "status": "accepted"})
        >>> passages_behind(segs, cods, "tired", other="time")["segment_id"].tolist()
        [1]
    """
    require_columns(segments, ["id", "source"], "segments")
    require_columns(codings, ["segment_id", "code_id", "status"], "codings")
    talk = talk_segments(segments, include_moderator=include_moderator).copy()
    talk["_group"] = group_labels(talk, by, bins=bins)
    # The groups as prevalence showed them with this min_cell: "Other (groups of fewer than 3 people)" opens its passages.
    guard = guard_talk(talk, talk["_group"], min_cell=min_cell, by=by)
    if guard.active:
        talk["_group"] = guard.relabel(talk["_group"])
        talk = talk.loc[talk["_group"].notna()]
    pairs = counted_codings(codings, include_suggested=include_suggested)[["segment_id", "code_id"]]
    if any(is_rollup(c) for c in (code, other) if c):
        pairs = pd.concat([pairs, rollup_pairs(pairs, codebook)], ignore_index=True)
    pairs = pairs.loc[pairs["segment_id"].isin(set(talk["id"]))]
    wanted = set(pairs.loc[pairs["code_id"] == code, "segment_id"])
    if other is not None:
        wanted &= set(pairs.loc[pairs["code_id"] == other, "segment_id"])
    rows = talk.loc[talk["id"].isin(wanted)]
    if group is not None:
        rows = rows.loc[rows["_group"].astype(str) == str(group)]
    names = code_names(codebook)
    on_segment = (pairs.loc[~pairs["code_id"].map(is_rollup)].groupby("segment_id")["code_id"]
                  .agg(lambda ids: [names.get(c, c) for c in ids]))
    out = pd.DataFrame({
        "segment_id": rows["id"].astype(int).to_numpy(),
        "source": rows["source"].to_numpy(),
        "source_id": rows["source_id"].to_numpy() if "source_id" in rows else None,
        "turn": rows["turn"].to_numpy() if "turn" in rows else None,
        "start": rows["start"].to_numpy() if "start" in rows else None,
        "end": rows["end"].to_numpy() if "end" in rows else None,
        "attribution": [attribution(r) for r in rows.to_dict("records")],
        "group": rows["_group"].astype(str).to_numpy(),
        "text": rows["text"].to_numpy() if "text" in rows else None,
        "codes": [on_segment.get(i, []) for i in rows["id"]],
    }, columns=COLUMNS)
    return out.reset_index(drop=True)

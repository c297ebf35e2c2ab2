"""Thematic saturation: how many new codes each successive transcript (or session) adds.

Transcripts are taken in import order (or the order given); a code is *new* at the first step where
it occurs at least ``min_count`` times. The curve of cumulative codes flattening out is the usual
evidence of saturation (Guest, Bunce & Johnson 2006; Guest, Namey & Chen 2020). ``new_pct`` is the
new codes of a step as a share of all codes found by the end.

Example:
    >>> import pandas as pd
    >>> segs = pd.DataFrame({"id": [1, 2, 3], "source": ["g1", "g1", "g2"], "source_id": [1, 1, 2],
    ...                      "speaker": "A", "speaker_role": "participant", "kind": "turn"})
    >>> cods = pd.DataFrame({"segment_id": [1, 2, 3], "code_id": ["a", "b", "a"], "status": "accepted"})
    >>> saturation(segs, cods)[["unit", "new_codes", "cumulative_codes"]].values.tolist()
    [['g1', 2, 2], ['g2', 0, 2]]
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from qualkit.analysis._common import counted_codings, require_columns, talk_segments, with_ancestors
from qualkit.errors import InvalidInput
from qualkit.model import Codebook


def saturation(
    segments: pd.DataFrame,
    codings: pd.DataFrame,
    *,
    by: str = "source",
    order: Sequence[str] | None = None,
    min_count: int = 1,
    include_moderator: bool = False,
    include_suggested: bool = False,
    codebook: Codebook | None = None,
    rollup: bool = False,
) -> pd.DataFrame:
    """New and cumulative codes per successive unit of ``by`` (a transcript by default, or e.g. ``session``).

    Units follow ``order`` when given, else the order transcripts were imported (for ``source``) or
    the sorted values of ``by``. Units without any coding still appear, with zero new codes.

    Example:
        >>> segs = pd.DataFrame({"id": [1], "source": ["g1"], "speaker": "A", "speaker_role": "participant",
        ...                      "kind": "turn"})
        >>> cods = pd.DataFrame({"segment_id": [1], "code_id": ["a"], "status": "accepted"})
        >>> saturation(segs, cods)["new_code_ids"].tolist()
        [['a']]
    """
    require_columns(segments, ["id", "source"], "segments")
    if by not in segments.columns:
        raise InvalidInput(f"no column {by!r} on the segments", fix="use by='source' or a participant attribute")
    talk = talk_segments(segments, include_moderator=include_moderator)
    units = _unit_order(talk, by, order)
    pairs = counted_codings(codings, include_suggested=include_suggested)[["segment_id", "code_id"]]
    if rollup:
        pairs = with_ancestors(pairs, codebook)
    coded = pairs.merge(talk[["id", by]], left_on="segment_id", right_on="id")
    coded["_unit"] = coded[by].astype(str)
    counts = coded.groupby(["_unit", "code_id"]).size()
    present_in = {unit: sorted(code for (u, code), n in counts.items() if u == unit and n >= min_count)
                  for unit in units}
    seen: set[str] = set()
    rows = []
    for step, unit in enumerate(units, start=1):
        present = present_in[unit]
        new = [code for code in present if code not in seen]
        seen.update(new)
        rows.append({"step": step, "unit": unit, "codes_present": len(present), "new_codes": len(new),
                     "new_code_ids": new, "cumulative_codes": len(seen)})
    result = pd.DataFrame(rows, columns=["step", "unit", "codes_present", "new_codes", "new_code_ids",
                                         "cumulative_codes"])
    total = max(len(seen), 1)
    result["cumulative_pct"] = (100.0 * result["cumulative_codes"] / total).round(1)
    result["new_pct"] = (100.0 * result["new_codes"] / total).round(1)
    result.attrs.update(by=by, min_count=min_count, include_suggested=include_suggested, total_codes=len(seen))
    return result


def _unit_order(talk: pd.DataFrame, by: str, order: Sequence[str] | None) -> list[str]:
    present = talk[by].dropna().astype(str)
    if order is not None:
        missing = sorted(set(present) - {str(o) for o in order})
        if missing:
            raise InvalidInput(f"order leaves out {missing}", fix=f"list every value of {by!r}")
        return [str(o) for o in order]
    if by == "source" and "source_id" in talk:
        return list(dict.fromkeys(talk.sort_values("source_id", kind="stable")["source"].astype(str)))
    if by == "source":
        return list(dict.fromkeys(present))
    values = list(dict.fromkeys(present))
    try:
        return sorted(values, key=float)
    except ValueError:
        return sorted(values)

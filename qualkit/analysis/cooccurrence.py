"""Code co-occurrence: within one segment, or within a window of neighbouring turns.

``M[a, b]`` (a ≠ b) counts pairs of segments (s, t) of the same transcript where s carries code a,
t carries code b, and s and t are at most ``window`` turns apart. With ``window=0`` that is simply the
number of segments carrying both codes. The diagonal holds the number of segments carrying each code.
The matrix is symmetric. Turn distance uses the ``turn`` numbers (sentences of one turn are 0 apart)
and falls back to segment order; moderator turns count in the distance but their codings do not,
unless ``include_moderator``.

Example:
    >>> import pandas as pd
    >>> segs = pd.DataFrame({"id": [1, 2], "source": "g1", "speaker": ["A", "B"], "speaker_role": "participant",
    ...                      "kind": "turn", "turn": [0, 1], "seq": [0, 1]})
    >>> cods = pd.DataFrame({"segment_id": [1, 1, 2], "code_id": ["a", "b", "b"], "status": "accepted"})
    >>> int(cooccurrence(segs, cods).loc["a", "b"])
    1
    >>> int(cooccurrence(segs, cods, window=1).loc["a", "b"])
    2
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qualkit.analysis._common import (
    code_order,
    counted_codings,
    require_columns,
    rollup_pairs,
    talk_segments,
)
from qualkit.errors import InvalidInput
from qualkit.model import Codebook


def cooccurrence(
    segments: pd.DataFrame,
    codings: pd.DataFrame,
    *,
    window: int = 0,
    include_moderator: bool = False,
    include_suggested: bool = False,
    codebook: Codebook | None = None,
    rollup: bool = False,
    normalize: str | None = None,
) -> pd.DataFrame:
    """The code × code co-occurrence matrix (codes in codebook order when a codebook is given).

    ``normalize="jaccard"`` (only for ``window=0``) divides by the number of segments carrying either
    code. ``rollup`` (with a ``codebook``) adds a row and column per code with sub-codes, ``"x+"``
    (named "X + sub-codes" by :func:`qualkit.analysis._common.code_names`), beside the code's own.
    The settings are kept in ``result.attrs``.

    Example:
        >>> segs = pd.DataFrame({"id": [1], "source": "g1", "speaker": "A", "speaker_role": "participant",
        ...                      "kind": "turn", "turn": [0], "seq": [0]})
        >>> cods = pd.DataFrame({"segment_id": [1, 1], "code_id": ["a", "b"], "status": "accepted"})
        >>> float(cooccurrence(segs, cods, normalize="jaccard").loc["a", "b"])
        1.0
    """
    require_columns(segments, ["id", "source"], "segments")
    require_columns(codings, ["segment_id", "code_id", "status"], "codings")
    if window < 0:
        raise InvalidInput(f"window must be 0 or more turns, not {window}")
    if normalize not in (None, "jaccard"):
        raise InvalidInput(f"unknown normalization {normalize!r}", fix="use normalize=None or 'jaccard'")
    if normalize and window:
        raise InvalidInput("normalize='jaccard' is defined for window=0 only", fix="drop normalize or window")

    counted_ids = set(talk_segments(segments, include_moderator=include_moderator)["id"])
    pairs = counted_codings(codings, include_suggested=include_suggested)[["segment_id", "code_id"]]
    if rollup:
        pairs = pd.concat([pairs, rollup_pairs(pairs, codebook)], ignore_index=True)  # 'x+': x + sub-codes
    pairs = pairs.loc[pairs["segment_id"].isin(counted_ids)]
    codes = code_order(pairs["code_id"], codebook)
    matrix = np.zeros((len(codes), len(codes)), dtype=np.int64)
    if codes:
        position = _positions(segments)
        code_index = {c: i for i, c in enumerate(codes)}
        frame = pairs.assign(_code=pairs["code_id"].map(code_index))
        frame = frame.merge(position, left_on="segment_id", right_index=True)
        for _, part in frame.groupby("source", sort=False):
            seg_ids = part["segment_id"].unique()
            row_of = {s: i for i, s in enumerate(seg_ids)}
            incidence = np.zeros((len(seg_ids), len(codes)), dtype=np.int64)
            incidence[part["segment_id"].map(row_of).to_numpy(), part["_code"].to_numpy()] = 1
            if window == 0:
                matrix += incidence.T @ incidence
            else:
                pos = part.drop_duplicates("segment_id").set_index("segment_id").loc[seg_ids, "_pos"].to_numpy()
                near = (np.abs(pos[:, None] - pos[None, :]) <= window).astype(np.int64)
                matrix += incidence.T @ near @ incidence
        diagonal = pairs.groupby("code_id")["segment_id"].nunique().reindex(codes).to_numpy()
        np.fill_diagonal(matrix, diagonal)
    result = pd.DataFrame(matrix, index=pd.Index(codes, name="code_id"), columns=pd.Index(codes, name="code_id"))
    if normalize == "jaccard":
        n = np.diag(matrix).astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            result = result / (n[:, None] + n[None, :] - matrix)
    result.attrs.update(window=window, include_moderator=include_moderator, include_suggested=include_suggested,
                        normalize=normalize, unit="segment" if window == 0 else f"segments within {window} turns")
    return result


def _positions(segments: pd.DataFrame) -> pd.DataFrame:
    """Each segment's transcript and position: its turn number when the transcript has them all, else its order."""
    frame = segments[["id", "source"]].copy()
    seq = segments["seq"] if "seq" in segments else pd.Series(range(len(segments)), index=segments.index)
    turn = segments["turn"] if "turn" in segments else pd.Series(np.nan, index=segments.index)
    frame["_seq"] = seq.to_numpy()
    frame["_turn"] = pd.to_numeric(turn, errors="coerce").to_numpy()
    complete = frame.groupby("source")["_turn"].transform(lambda t: t.notna().all())
    rank = frame.groupby("source")["_seq"].rank(method="first") - 1
    frame["_pos"] = np.where(complete, frame["_turn"], rank).astype(float)
    return frame.set_index("id")[["source", "_pos"]]


def cooccurrence_pairs(matrix: pd.DataFrame, *, min_count: float = 1) -> pd.DataFrame:
    """The upper triangle of a co-occurrence matrix as a tidy table of pairs, strongest first.

    Example:
        >>> m = pd.DataFrame([[2, 1], [1, 3]], index=["a", "b"], columns=["a", "b"])
        >>> cooccurrence_pairs(m).values.tolist()
        [['a', 'b', 1]]
    """
    codes = list(matrix.index)
    rows = [(a, b, matrix.iloc[i, j]) for i, a in enumerate(codes) for j, b in enumerate(codes)
            if j > i and matrix.iloc[i, j] >= min_count]
    pairs = pd.DataFrame(rows, columns=["code_a", "code_b", "count"])
    return pairs.sort_values("count", ascending=False, kind="stable").reset_index(drop=True)

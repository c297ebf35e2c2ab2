"""Helpers shared by the analysis functions: which segments and codings count, group labels, clean text.

Every analysis works on the two frames the store hands out: ``store.segments_df()`` (one row per
segment, ``speaker_role`` moderator/participant, participant attributes as columns) and
``store.codings_df()`` (one row per coding, with ``status``, ``coder``, ``origin``, ``decided_by``).

Example:
    >>> import pandas as pd
    >>> codings = pd.DataFrame({"segment_id": [1, 1, 2], "code_id": ["a", "a", "b"],
    ...                         "status": ["accepted", "accepted", "suggested"]})
    >>> counted_codings(codings)[["segment_id", "code_id"]].values.tolist()
    [[1, 'a']]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from qualkit.errors import InvalidInput
from qualkit.model import CONSENSUS, Codebook

NON_TALK_KINDS = ("unattributed", "legend")
MISSING_GROUP = "(missing)"


def talk_segments(segments: pd.DataFrame, *, include_moderator: bool = False) -> pd.DataFrame:
    """The segments that count as talk: participants' turns, plus the moderator's when asked.

    Unattributed lines and speaker legends never count.

    Example:
        >>> segs = pd.DataFrame({"id": [1, 2], "speaker_role": ["moderator", "participant"],
        ...                      "kind": ["turn", "turn"]})
        >>> talk_segments(segs)["id"].tolist()
        [2]
    """
    keep = pd.Series(True, index=segments.index)
    if "kind" in segments:
        keep &= ~segments["kind"].isin(NON_TALK_KINDS)
    if not include_moderator and "speaker_role" in segments:
        keep &= segments["speaker_role"].fillna("") != "moderator"
    return segments.loc[keep]


def counted_codings(
    codings: pd.DataFrame, *, include_suggested: bool = False, codes: Iterable[str] | None = None
) -> pd.DataFrame:
    """One row per (segment, code) that counts: accepted codings, plus suggested ones when asked.

    Rejected codings never count. Several rows for the same segment and code (a suggestion and a
    coder's own row, say) collapse to one; the highest score is kept. Where two coders' disagreement
    was settled (a row ``decided_by`` consensus), the settlement alone decides: a settled "no" is not
    counted because one coder had applied the code.

    Example:
        >>> c = pd.DataFrame({"segment_id": [1, 1], "code_id": ["a", "a"], "status": ["accepted", "suggested"],
        ...                   "score": [0.4, 0.9]})
        >>> counted_codings(c, include_suggested=True)["score"].tolist()
        [0.9]
        >>> settled_no = pd.DataFrame({"segment_id": [1, 1], "code_id": ["a", "a"], "status": ["accepted", "rejected"],
        ...                            "decided_by": ["ben", "consensus"], "score": [None, None]})
        >>> len(counted_codings(settled_no))
        0
    """
    statuses = ["accepted", "suggested"] if include_suggested else ["accepted"]
    rows = codings
    if "decided_by" in codings and (codings["decided_by"] == CONSENSUS).any():
        settled = codings["decided_by"] == CONSENSUS
        keys = pd.MultiIndex.from_frame(codings[["segment_id", "code_id"]])
        rows = codings.loc[settled | ~keys.isin(keys[settled.to_numpy()])]
    rows = rows.loc[rows["status"].isin(statuses)]
    if codes is not None:
        rows = rows.loc[rows["code_id"].isin(list(codes))]
    if "score" in rows:
        rows = rows.sort_values("score", ascending=False, na_position="last", kind="stable")
    return rows.drop_duplicates(["segment_id", "code_id"]).sort_index()


def with_ancestors(pairs: pd.DataFrame, codebook: Codebook | None) -> pd.DataFrame:
    """Add, for every (segment, code) row, a row for each ancestor of the code (themes roll up).

    Example:
        >>> from qualkit.model import Code
        >>> cb = Codebook("t", [Code("theme", "Theme", codable=False), Code("a", "A", parent="theme")])
        >>> with_ancestors(pd.DataFrame({"segment_id": [1], "code_id": ["a"]}), cb)["code_id"].tolist()
        ['a', 'theme']
    """
    if codebook is None or pairs.empty:
        return pairs
    parents = {code.id: code.parent for code in codebook.codes}
    extra = []
    for row in pairs.itertuples(index=False):
        seen = {row.code_id}
        parent = parents.get(row.code_id)
        while parent and parent not in seen:
            extra.append({**row._asdict(), "code_id": parent})
            seen.add(parent)
            parent = parents.get(parent)
    if not extra:
        return pairs
    out = pd.concat([pairs, pd.DataFrame(extra)], ignore_index=True)
    return out.drop_duplicates(["segment_id", "code_id"]).reset_index(drop=True)


ROLLUP_SUFFIX = "+"  # a roll-up row's code id is the code's id with this suffix: "disconnection+"


def rollup_id(code_id: str) -> str:
    """The id of a code's roll-up row (the code and all its sub-codes counted together).

    Example:
        >>> rollup_id("disconnection"), is_rollup("disconnection+")
        ('disconnection+', True)
    """
    return f"{code_id}{ROLLUP_SUFFIX}"


def is_rollup(code_id: str) -> bool:
    """True for the id of a roll-up row (see :func:`rollup_id`).

    Example:
        >>> is_rollup("workload")
        False
    """
    return str(code_id).endswith(ROLLUP_SUFFIX)


def rollup_label(name: str) -> str:
    """How a roll-up row is labelled wherever it is shown: ``"Disconnection + sub-codes"``.

    Example:
        >>> rollup_label("Disconnection")
        'Disconnection + sub-codes'
    """
    return f"{name} + sub-codes"


def rollup_pairs(pairs: pd.DataFrame, codebook: Codebook | None) -> pd.DataFrame:
    """Roll-up rows for (segment, code) rows: one per code that has sub-codes, under :func:`rollup_id`.

    A segment coded with a sub-code counts for each ancestor's roll-up; one coded with a code that has
    sub-codes counts for that code's roll-up too. Each roll-up counts a segment once. The code's own
    rows stay as they are, so "Disconnection" (coded as such) and "Disconnection + sub-codes" are never
    mixed under one label.

    Example:
        >>> from qualkit.model import Code
        >>> cb = Codebook("t", [Code("theme", "Theme", codable=False), Code("a", "A", parent="theme")])
        >>> rollup_pairs(pd.DataFrame({"segment_id": [1, 2], "code_id": ["a", "a"]}), cb)["code_id"].tolist()
        ['theme+', 'theme+']
    """
    if codebook is None or pairs.empty:
        return pairs.iloc[0:0]
    parents = {code.id: code.parent for code in codebook.codes}
    has_children = {p for p in parents.values() if p}
    rows = []
    for row in pairs.itertuples(index=False):
        seen = {row.code_id}
        targets = [row.code_id] if row.code_id in has_children else []
        parent = parents.get(row.code_id)
        while parent and parent not in seen:
            targets.append(parent)
            seen.add(parent)
            parent = parents.get(parent)
        rows += [{**row._asdict(), "code_id": rollup_id(t)} for t in targets]
    if not rows:
        return pairs.iloc[0:0]
    return pd.DataFrame(rows).drop_duplicates(["segment_id", "code_id"]).reset_index(drop=True)


def code_order(used: Iterable[str], codebook: Codebook | None, *, all_codes: bool = False,
               rollups: bool = False) -> list[str]:
    """Code ids in codebook order; with ``all_codes`` every codebook code.

    A roll-up id (``"theme+"``) comes just before its code; ``rollups`` with ``all_codes`` lists every
    code's roll-up that has sub-codes, and leaves out the own rows of codes that cannot be coded. A code the
    codebook no longer has (a version saved with ``leave_out_coded``) is left out: its codings stay on record
    but leave every analysis, as that option promises (they were listed last, under their ids). Without a
    codebook every used code is listed, sorted.

    Example:
        >>> code_order(["b", "z", "a"], None)
        ['a', 'b', 'z']
        >>> from qualkit.model import Code
        >>> code_order(["b", "z", "a"], Codebook("c", [Code("b", "B"), Code("a", "A")]))
        ['b', 'a']
    """
    used = list(dict.fromkeys(used))
    if codebook is None:
        return sorted(used)
    parents = {c.parent for c in codebook.codes if c.parent}
    known = []
    for c in codebook.codes:
        if rollup_id(c.id) in used or (all_codes and rollups and c.id in parents):
            known.append(rollup_id(c.id))
        if c.id in used or (all_codes and (c.codable or not rollups)):
            known.append(c.id)
    return known


def code_names(codebook: Codebook | None) -> dict[str, str]:
    """Map code id -> display name (empty without a codebook); roll-up ids get "<name> + sub-codes".

    Example:
        >>> code_names(None)
        {}
    """
    if codebook is None:
        return {}
    names = {c.id: c.name for c in codebook.codes}
    names.update({rollup_id(c.parent): rollup_label(names.get(c.parent, c.parent)) for c in codebook.codes
                  if c.parent})
    return names


def group_labels(segments: pd.DataFrame, by: str | None, *, bins: int | Sequence[float] | None = None) -> pd.Series:
    """The group of each segment under attribute ``by`` as strings (``(missing)`` where unknown).

    ``bins`` cuts a numeric attribute (years in role, say) into intervals first.

    Example:
        >>> segs = pd.DataFrame({"role": ["resident", None]})
        >>> group_labels(segs, "role").tolist()
        ['resident', '(missing)']
    """
    if by is None:
        return pd.Series("all", index=segments.index, dtype=object)
    if by not in segments.columns:
        raise InvalidInput(f"no attribute {by!r} on the segments",
                           fix=f"use one of {group_attributes(segments)} (participant attributes come from "
                               "participants.csv)")
    values = segments[by]
    if bins is not None:
        values = pd.cut(pd.to_numeric(values, errors="coerce"), bins=bins)
    labels = values.astype(object).where(values.notna(), MISSING_GROUP)
    return labels.map(_label)


STRUCTURAL = frozenset({"id", "text", "marks", "start", "end", "seq", "source_id", "time_start", "time_end", "kind"})


def group_attributes(segments: pd.DataFrame) -> list[str]:
    """The columns that can sensibly group segments: participant attributes, speaker, source, turn...

    Example:
        >>> group_attributes(pd.DataFrame(columns=["id", "source", "start", "end", "text", "role"]))
        ['role', 'source']
    """
    return sorted(c for c in segments.columns if c not in STRUCTURAL)


def grouping(segments: pd.DataFrame, by: str | None, purpose: str = "group by") -> str | None:
    """The attribute a table or report groups by: ``"auto"`` is role where the study records it, ``None`` or
    ``"none"`` everyone together; a name the study does not record is refused (a typo is no silent "all").

    Example:
        >>> frame = pd.DataFrame(columns=["id", "text", "role"])
        >>> grouping(frame, "auto"), grouping(frame, "none"), grouping(frame, "role")
        ('role', None, 'role')
        >>> grouping(frame, "roel", "compare groups by")
        Traceback (most recent call last):
        qualkit.errors.InvalidInput: no participant attribute 'roel' to compare groups by. Fix: use one of role, ...
    """
    if by == "auto":
        return "role" if "role" in segments.columns else None
    if by is None or by.lower() == "none":
        return None
    if by not in segments.columns:
        raise InvalidInput(f"no participant attribute {by!r} to {purpose}",
                           fix=f"use one of {', '.join(group_attributes(segments)) or '(none recorded)'}, or none "
                               "for all participants together")
    return by


def _label(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def speaker_keys(segments: pd.DataFrame) -> pd.Series:
    """Who spoke each segment: the participant id, else ``source::speaker`` (labels repeat across groups).

    Talk with no speaker at all (a survey's answers) is one respondent per row, ``source::#id``: counted
    as one "speaker", a single answer made a code 100 % of a group's speakers.

    Example:
        >>> segs = pd.DataFrame({"id": [1, 2, 3, 4], "participant": ["R01", None, None, None],
        ...                      "source": ["g1", "g2", "s.csv", "s.csv"], "speaker": ["Ann", "Bo", None, None]})
        >>> speaker_keys(segs).tolist()
        ['R01', 'g2::Bo', 's.csv::#3', 's.csv::#4']
    """
    participant = segments["participant"] if "participant" in segments else pd.Series(None, index=segments.index)
    speaker = segments["speaker"] if "speaker" in segments else pd.Series(None, index=segments.index)
    fallback = segments["source"].astype(str) + "::" + speaker.fillna("").astype(str)
    if "id" in segments:
        nobody = speaker.isna() | (speaker.astype(str).str.strip() == "")
        fallback = fallback.where(~nobody, segments["source"].astype(str) + "::#" + segments["id"].astype(str))
    return participant.astype(object).where(participant.notna(), fallback)


def clean_text(text: str, start: int, marks: Any) -> str:
    """A segment's text with its non-speech marks blanked (marks are ``[start, end, kind]`` absolute).

    Example:
        >>> clean_text("Yes (laughs) ok.", 0, [[4, 12, "laughter"]])
        'Yes          ok.'
    """
    if not isinstance(marks, list | tuple) or not marks:
        return text
    chars = list(text)
    for mark in marks:
        lo, hi = max(int(mark[0]) - start, 0), min(int(mark[1]) - start, len(chars))
        for i in range(lo, hi):
            chars[i] = " "
    return "".join(chars)


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise InvalidInput naming the missing columns of ``frame``.

    Example:
        >>> require_columns(pd.DataFrame({"a": []}), ["a"], "segments")
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(f"the {what} frame lacks columns {missing}",
                           fix=f"pass the frame from store.{what}_df() or add the columns")

"""Exemplar quotes per code: the strongest accepted segments, diverse across speakers and groups.

Candidates are the segments carrying the code (accepted codings; suggestions too when asked), ranked
by the coding's score (a human's own coding without a score counts as 1.0). Quotes are picked greedily
so that each new one comes, where possible, from a speaker, a group and a session (the participant's
``session`` attribute, else the transcript) not quoted yet, in that order of importance. Each quote is
trimmed to the evidence: a reviewer's narrowed span is quoted exactly; otherwise the sentence(s)
holding the evidence tokens, cut to ``max_chars`` around them with "…". Attribution uses participant
attributes, never names: "Resident, group 2".

Example:
    >>> import pandas as pd
    >>> segs = pd.DataFrame({"id": [1, 2], "source": "g1.txt", "speaker": ["Ann", "Bo"], "start": [0, 30],
    ...                      "text": ["I am so tired. It never ends.", "The inbox is endless."],
    ...                      "participant": ["R1", "S1"], "speaker_role": "participant", "kind": "turn",
    ...                      "role": ["resident", "staff"], "group": [2, 1]})
    >>> cods = pd.DataFrame({"segment_id": [1, 2], "code_id": "exhaustion", "status": "accepted",
    ...                      "score": [0.9, 0.5], "start": [0, 30], "end": [29, 51], "evidence": [[[9, 14]], []],
    ...                      "origin": "rules"})
    >>> quotes(segs, cods, "exhaustion")[["attribution", "quote"]].values.tolist()
    [['Resident, group 2', 'I am so tired.'], ['Staff, group 1', 'The inbox is endless.']]
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from qualkit.analysis._common import (
    counted_codings,
    group_labels,
    require_columns,
    speaker_keys,
    talk_segments,
)
from qualkit.analysis.disclosure import CellGuard, check_min_cell, guard_groups
from qualkit.model import CONSENSUS, Codebook

SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s|$)")
# A quote for a paper starts at the talk: a leading "[pause]", "(laughs)", "Um," or "Yeah, so," is cut
# (the offsets move with it, so the quote is still an exact slice of the transcript).
LEADING_FILLER = re.compile(
    r"(?:(?:\[[^\]\n]{1,40}\]|\([^)\n]{1,40}\))[\s,.]*|(?:u+m+|u+h+|uhm|erm|hmm+|mm+)\b[\s,.…-]*"
    r"|(?:yeah|oh|so|well|okay|ok|like|and|but|i mean|you know)\s*[,…]+\s*)+",
    re.IGNORECASE,
)
# A quote starts at a word or an opening quotation mark (or a currency sign: "£200 a month"), never at an
# emoji or punctuation left over from trimming ("😩 I am so tired", "— and then").
OPENING_MARKS = frozenset("\"'“‘„‚«‹「『")


def _starts_talk(char: str) -> bool:
    return char.isalnum() or char in OPENING_MARKS or unicodedata.category(char) == "Sc"


def attribution(row: dict[str, Any], *, fields: tuple[str, str, str] = ("role", "group", "session")) -> str:
    """Attribute a quote by participant attributes, never by name: ``"Resident, group 2"``.

    The place is a group number or letter (``group 2``) or a short group name (``ICU``), else the session (``Resident, session fg1``
    rather than ``Resident, residents``), else a longer group name, else the transcript. Without a role attribute the speaker's role (participant/moderator) is used.

    Plain lowercase words are written as words (``ward_clerk``: "Ward clerk"); a short code (``hca``) or
    any other value (``ICU``, ``RN-2``) stays as written.

    Example:
        >>> attribution({"role": "attending", "group": 3.0})
        'Attending, group 3'
        >>> attribution({"role": "staff_nurse", "session": "night2"}), attribution({"role": "hca"})
        ('Staff nurse, session night2', 'hca')
        >>> attribution({"role": "foundation doctor", "session": "fg04"})
        'Foundation doctor, session fg04'
        >>> attribution({"role": "staff_nurse", "group": "ICU"}), attribution({"role": "staff_nurse", "group": "Ward 7B"})
        ('Staff nurse, ICU', 'Staff nurse, Ward 7B')
        >>> attribution({"role": "resident", "group": "residents", "session": "fg1"})
        'Resident, session fg1'
        >>> attribution({"speaker_role": "participant", "source": "g1.txt"})
        'Participant, g1.txt'
    """
    role_field, group_field, session_field = fields
    role = _present(row.get(role_field)) or _present(row.get("speaker_role")) or "participant"
    group = _present(row.get(group_field))
    session = _present(row.get(session_field))
    if group and role.lower().rstrip("s") in group.lower():
        group = None
    if group and len(group) <= 3:  # a number or letter reads as "group 2"; a name (ICU) as itself, like Ward 7B
        where = f"{group_field} {group}" if re.fullmatch(r"\d+|[A-Za-z]", group) else group
    elif session:
        where = f"{session_field} {session}"
    else:
        where = group or _present(row.get("source")) or ""
    # Plain words start the line capitalised, the same whether the study joined them with "_" or not (a
    # stranger saw "Pharmacist" beside "ward_clerk"); a short code (hca) or ICU is kept as the study wrote it.
    # "foundation doctor" (a space, not "_") stayed lower case beside "Registrar".
    text = role.replace("_", " ").capitalize() if re.fullmatch(r"[a-z]{4,}([_ ][a-z]+)*", role) else role
    return f"{text}, {where}" if where else text


NAME_MASK = "[name]"
"""What stands for a person's name in a quote that circulates (the report)."""


def name_labels(labels: Iterable[Any]) -> list[str]:
    """The name-shaped labels among ``labels`` and the names inside them, longest first.

    ``labels`` are what a study calls its people: speaker labels, participant ids, pseudonyms, aliases.
    Role labels (``Moderator``, ``P3``, ``R01``, ``FY2``) are not names and are left out
    (:func:`qualkit.ingest.speakers.label_shape` tells them apart). A name gives itself, itself without
    credentials (``Jill Smith, MD``: ``Jill Smith``) and each of its capitalised words but titles and
    particles (``Jill``, ``Smith``), since a quote may call a person by first name or surname alone.

    Example:
        >>> name_labels(["Moderator", "R01", "Dr Jill Smith, MD", "Łukasz", None])
        ['Dr Jill Smith, MD', 'Dr Jill Smith', 'Łukasz', 'Smith', 'Jill']
    """
    from qualkit.ingest.speakers import PARTICLES, TITLES, label_shape

    found: set[str] = set()
    for label in labels:
        if not isinstance(label, str) or label_shape(label) != "name":
            continue
        label = unicodedata.normalize("NFC", label.strip())
        bare = label.split(",")[0].strip()
        found |= {label, bare}
        for word in bare.split():
            word = word.rstrip(".")
            if len(word) >= 2 and word[0].isupper() and word.casefold() not in TITLES | PARTICLES:
                found.add(word)
    return sorted(found, key=lambda name: (-len(name), name))


def mask_names(text: str, names: Iterable[str], *, mask: str = NAME_MASK) -> str:
    """``text`` with every whole-word occurrence of ``names`` (as written, any Unicode form) replaced by ``mask``.

    Matching is case-sensitive, so a name that is also a word ("Will") is masked only where capitalised.

    Example:
        >>> mask_names("Łukasz, FY2, on geriatrics: ask Łukasz's team, not Łukaszewski.", ["Łukasz"])
        "[name], FY2, on geriatrics: ask [name]'s team, not Łukaszewski."
    """
    variants = {form for name in names if name for form in (unicodedata.normalize("NFC", name),
                                                             unicodedata.normalize("NFD", name))}
    if not variants:
        return text
    pattern = "|".join(re.escape(name) for name in sorted(variants, key=len, reverse=True))
    return re.sub(rf"(?<!\w)(?:{pattern})(?!\w)", mask, text)


def _present(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def trim_quote(
    text: str,
    *,
    offset: int = 0,
    span: tuple[int, int] | None = None,
    evidence: Iterable[Iterable[int]] = (),
    max_chars: int = 300,
) -> tuple[str, int, int]:
    """Trim a segment's text to the evidence; returns the quote and its absolute start and end.

    ``offset`` is the segment's start in the source; ``span`` a coding span and ``evidence`` absolute
    (start, end) pairs. A span narrower than the segment is quoted as is; otherwise the sentences
    holding the evidence, cut to ``max_chars`` around it at word boundaries.

    Leading fillers, non-speech marks ("[pause] Um, ...") and emoji or stray punctuation ("😩 I ...",
    "— and") are left out unless a reviewer's span holds them: a quote starts at a word or an opening
    quotation mark. Offsets count code points, so ``text[start - offset:end - offset]`` is the quote.

    Example:
        >>> trim_quote("Fine. I am exhausted all the time. Anyway.", evidence=[(11, 20)])
        ('I am exhausted all the time.', 6, 34)
        >>> trim_quote("[pause] Um, yeah, I'm just done.")
        ("I'm just done.", 18, 32)
        >>> trim_quote("😩 “So tired.”")
        ('“So tired.”', 2, 13)
    """
    lo, hi = 0, len(text)
    if span is not None and (span[0] - offset > 0 or span[1] - offset < len(text)):
        lo, hi = max(span[0] - offset, 0), min(span[1] - offset, len(text))
        return _finish(text, lo, hi, offset, max_chars, lo, hi, ellipsis=False)
    pairs = [(int(a) - offset, int(b) - offset) for a, b in (tuple(e) for e in evidence or ())]
    pairs = [(max(a, 0), min(b, len(text))) for a, b in pairs if b > 0 and a < len(text) and b > a]
    if pairs:
        focus_lo, focus_hi = min(a for a, _ in pairs), max(b for _, b in pairs)
        ends = [m.end() for m in SENTENCE_END.finditer(text)]
        lo = max([e for e in ends if e <= focus_lo], default=0)
        hi = min([e for e in ends if e >= focus_hi], default=len(text))
        return _finish(text, lo, hi, offset, max_chars, focus_lo, focus_hi)
    # No evidence: the whole segment, or as many whole sentences as fit.
    if len(text.strip()) > max_chars:
        ends = [m.end() for m in SENTENCE_END.finditer(text) if max_chars // 3 <= m.end() <= max_chars]
        if ends:
            hi = ends[-1]
    return _finish(text, lo, hi, offset, max_chars, 0, min(len(text), max_chars))


def _finish(text: str, lo: int, hi: int, offset: int, max_chars: int, focus_lo: int, focus_hi: int,
            *, ellipsis: bool = True) -> tuple[str, int, int]:
    while lo < hi and text[lo].isspace():
        lo += 1
    while hi > lo and text[hi - 1].isspace():
        hi -= 1
    if ellipsis:
        while True:  # "[laughs] 😂 Um, I ...": fillers and stray marks in turn, until the talk starts
            start = lo
            lead = LEADING_FILLER.match(text, lo, hi)
            if lead and lead.end() < hi and (lead.end() <= focus_lo or focus_lo <= lo):
                lo = lead.end()
            lo = _word_start(text, lo, hi)
            if lo == start:
                break
    cut_left = cut_right = False
    if hi - lo > max_chars:
        centre = (max(focus_lo, lo) + min(focus_hi, hi)) // 2
        new_lo = max(lo, min(centre - max_chars // 2, hi - max_chars))
        new_hi = min(hi, new_lo + max_chars)
        if new_lo > lo:
            space = text.find(" ", new_lo, new_hi)
            new_lo = _word_start(text, space + 1, new_hi) if space != -1 else new_lo
            cut_left = True
        if new_hi < hi:
            space = text.rfind(" ", new_lo, new_hi)
            new_hi = space if space > new_lo else new_hi
            cut_right = True
        lo, hi = new_lo, new_hi
    quote = text[lo:hi]
    if ellipsis:
        quote = ("…" if cut_left else "") + quote + ("…" if cut_right else "")
    return quote, offset + lo, offset + hi


def _word_start(text: str, lo: int, hi: int) -> int:
    """The first position from ``lo`` where a word or an opening quotation mark starts; ``lo`` if none does."""
    for i in range(lo, hi):
        if _starts_talk(text[i]):
            return i
    return lo


def contested_segments(codings: pd.DataFrame, codes: Iterable[str]) -> set[int]:
    """Segments where one person applied one of ``codes`` and another rejected it, with no settlement yet.

    Such a passage still counts until it is settled (see ``counted_codings``) but makes a poor exemplar.

    Example:
        >>> rows = pd.DataFrame({"segment_id": [1, 1, 2], "code_id": ["a", "a", "a"],
        ...                      "status": ["accepted", "rejected", "accepted"], "decided_by": ["ben", "ana", "ana"]})
        >>> contested_segments(rows, ["a"])
        {1}
    """
    if "decided_by" not in codings or codings.empty:
        return set()
    judged = codings.loc[codings["code_id"].isin(list(codes)) & codings["decided_by"].notna()]
    out: set[int] = set()
    for (segment_id, _), rows in judged.groupby(["segment_id", "code_id"]):
        if (rows["decided_by"] == CONSENSUS).any():
            continue
        said_yes = set(rows.loc[rows["status"] == "accepted", "decided_by"])
        said_no = set(rows.loc[rows["status"] == "rejected", "decided_by"])
        if said_yes - said_no and said_no - said_yes:
            out.add(int(segment_id))
    return out


def quotes(
    segments: pd.DataFrame,
    codings: pd.DataFrame,
    code: str | Iterable[str],
    *,
    n: int = 5,
    include_suggested: bool = False,
    include_moderator: bool = False,
    diverse_by: tuple[str, ...] = ("speaker", "group", "session"),
    max_chars: int = 300,
    min_chars: int = 25,
    codebook: Codebook | None = None,
    attribute: Callable[[dict[str, Any]], str] = attribution,
    disputed: Iterable[tuple[int, str]] = (),
    by: str | None = None,
    min_cell: int = 1,
) -> pd.DataFrame:
    """Up to ``n`` exemplar quotes for ``code`` (or a theme: with a ``codebook``, its sub-codes count too).

    ``diverse_by`` lists what should vary between quotes, most important first: ``speaker``,
    ``session`` (the ``session`` column, else the transcript) and any segment column such as ``group``
    or ``role``. Quotes shorter than ``min_chars`` come last, and after them passages the coders
    disagree on and nobody has settled (``contested``: see :func:`contested_segments`, plus the
    ``(segment id, code)`` pairs in ``disputed``, e.g. a reliability run's unsettled disagreements,
    where one double-coder applied a code the other left out).

    With ``by`` and a ``min_cell`` above 1 (:mod:`qualkit.analysis.disclosure`), no quote comes from a group
    of ``by`` with fewer than ``min_cell`` people that is left out, and a quote from a group merged into
    "Other" is not attributed by that group's value (``result.attrs["notes"]`` says so); nor by a ``role`` or
    ``group`` of fewer than ``min_cell`` people, whatever ``by`` is.

    Example:
        >>> segs = pd.DataFrame({"id": [1], "source": "g1", "speaker": ["Ann"], "start": [0],
        ...                      "text": ["Charting at midnight again."], "speaker_role": "participant",
        ...                      "kind": "turn"})
        >>> cods = pd.DataFrame({"segment_id": [1], "code_id": ["ehr"], "status": ["accepted"]})
        >>> quotes(segs, cods, "ehr")["quote"].tolist()
        ['Charting at midnight again.']
    """
    require_columns(segments, ["id", "source", "text"], "segments")
    wanted = {code} if isinstance(code, str) else set(code)
    if codebook is not None:
        unknown = sorted(wanted - {c.id for c in codebook.codes} - set(codings.get("code_id", ())))
        if unknown:
            from qualkit.errors import InvalidInput

            ids = ", ".join(c.id for c in codebook.codes)
            raise InvalidInput(f"no code {unknown[0]!r} in the codebook", fix=f"use one of its code ids: {ids[:300]}")
        wanted |= _descendants(codebook, wanted)
    # What counts, as everywhere: a settled "does not apply" is no exemplar of the code.
    rows = counted_codings(codings, include_suggested=include_suggested, codes=wanted).copy()
    columns = ["code_id", "rank", "segment_id", "source", "speaker", "participant", "attribution", "quote",
               "score", "start", "end", "contested"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    score = pd.to_numeric(rows["score"], errors="coerce") if "score" in rows else pd.Series(np.nan, index=rows.index)
    if "origin" in rows:
        score = score.where(score.notna() | (rows["origin"] != "human"), 1.0)
    rows["_score"] = score.fillna(0.0)
    talk = talk_segments(segments, include_moderator=include_moderator).copy()
    talk["_speaker"] = speaker_keys(talk) if "speaker" in talk else talk["id"]
    guard = CellGuard(by=by, min_cell=check_min_cell(min_cell))
    if by is not None and min_cell > 1:
        guard = guard_groups(group_labels(talk, by), talk["_speaker"], min_cell=min_cell, by=by)
        if guard.active:  # a quote from a group of one or two people, attributed by that group, names them
            shown = guard.relabel(group_labels(talk, by))
            talk = talk.loc[shown.notna()].copy()
            talk[by] = talk[by].where(shown.loc[talk.index] != guard.other, None)
    for field in ("role", "group"):  # the attribution names these whatever ``by`` is: a one-person role names its person
        if min_cell > 1 and field != by and field in talk:
            values = group_labels(talk, field)
            small = guard_groups(values, talk["_speaker"], min_cell=min_cell, by=field)
            hidden = {*small.merged, *small.suppressed}
            if hidden:
                talk[field] = talk[field].where(~values.astype(str).isin(hidden), None)
    merged = rows.merge(talk, left_on="segment_id", right_on="id", suffixes=("", "_seg"))
    if merged.empty:
        return _with_notes(pd.DataFrame(columns=columns), guard)
    seg_start_col = "start_seg" if "start_seg" in merged else "start"
    text_col = "text_seg" if "text_seg" in merged else "text"
    merged = merged.sort_values("_score", ascending=False, kind="stable")
    evidence: dict[int, list[Any]] = {}
    if "evidence" in merged:
        for segment_id, items in zip(merged["segment_id"], merged["evidence"], strict=True):
            if isinstance(items, list | tuple):
                evidence.setdefault(int(segment_id), []).extend(items)
    contested = contested_segments(codings, wanted) | {int(seg) for seg, code in disputed if code in wanted}
    candidates = []
    for record in merged.drop_duplicates("segment_id").to_dict("records"):
        segment_id = int(record["segment_id"])
        seg_start = int(record[seg_start_col]) if pd.notna(record.get(seg_start_col)) else 0
        span = None
        if "start" in rows and pd.notna(record.get("start")) and pd.notna(record.get("end")):
            span = (int(record["start"]), int(record["end"]))
        quote, q_start, q_end = trim_quote(str(record[text_col]), offset=seg_start, span=span,
                                           evidence=evidence.get(segment_id, []), max_chars=max_chars)
        candidates.append({
            "code_id": record["code_id"], "segment_id": segment_id, "source": record["source"],
            "speaker": record.get("speaker"), "participant": record.get("participant"),
            "attribution": attribute(record), "quote": quote, "score": float(record["_score"]),
            "start": q_start, "end": q_end, "contested": segment_id in contested, "_short": len(quote) < min_chars,
            "_keys": {key: _diversity_key(record, key) for key in diverse_by},
        })
    candidates.sort(key=lambda c: (c["contested"], c["_short"], -c["score"], c["segment_id"]))
    chosen = _diverse(candidates, n, diverse_by)
    result = pd.DataFrame([{k: v for k, v in c.items() if not k.startswith("_")} for c in chosen])
    result.insert(1, "rank", range(1, len(result) + 1))
    return _with_notes(result[columns], guard)


def _with_notes(frame: pd.DataFrame, guard: CellGuard) -> pd.DataFrame:
    frame.attrs["notes"] = guard.notes
    return frame


def _descendants(codebook: Codebook, roots: set[str]) -> set[str]:
    found: set[str] = set()
    frontier = set(roots)
    while frontier:
        children = {c.id for c in codebook.codes if c.parent in frontier} - found - roots
        found |= children
        frontier = children
    return found


def _diversity_key(record: dict[str, Any], key: str) -> Any:
    if key == "speaker":
        return record.get("_speaker")
    if key == "session":
        session = _present(record.get("session"))
        return session if session is not None else record.get("source")
    return record.get(key)


def _diverse(candidates: list[dict[str, Any]], n: int, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Greedy picks: each next quote is the best ranked of those new on the most important keys.

    Newness is compared key by key in order of importance (a new speaker first, then a new group,
    then a new session), so once every group has been quoted, a quote from a session not yet quoted
    still beats another from a quoted one; ties keep the candidates' rank order.
    """
    chosen: list[dict[str, Any]] = []
    used: dict[str, set[Any]] = {k: set() for k in keys}
    remaining = list(candidates)
    while remaining and len(chosen) < n:
        newness = [tuple(cand["_keys"].get(k) not in used[k] for k in keys) for cand in remaining]
        best = max(range(len(remaining)), key=lambda i: (newness[i], -i))
        cand = remaining.pop(best)
        chosen.append(cand)
        for k in keys:
            used[k].add(cand["_keys"].get(k))
    return chosen

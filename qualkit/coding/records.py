"""Coding records from outside the project: read them (JSONL, CSV, DataFrame) and find their segments.

A record names a segment the way ``corpora/burnout_focus_groups/gold_codings.jsonl`` does: the
``source`` file name with ``start``/``end`` offsets (or a ``turn`` number, or a ``segment_id``), plus
``codes``, the list of code ids a coder gave it. The same records serve to evaluate the auto-coder
against a gold standard and to bring a coder's finished work into a project.

Example:
    >>> import pandas as pd
    >>> segments = pd.DataFrame({"id": [7], "source": ["g1.txt"], "start": [5], "end": [16], "turn": [1]})
    >>> match_records(segments, [{"source": "g1.txt", "turn": 1, "codes": ["workload"]}])
    ({7: ['workload']}, 0)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from qualkit.errors import InvalidInput, did_you_mean


def read_coding_records(records: Any) -> list[dict[str, Any]]:
    """Coding records from a JSONL or CSV/TSV path, a DataFrame, or an iterable of dicts.

    Files are read by :func:`qualkit.coding.io.iter_records` (the one reader of record files): in CSV the
    ``codes`` cell is a JSON list or ids separated by ``;`` or ``|``, and empty cells are missing values.

    Example:
        >>> read_coding_records([{"source": "g1.txt", "turn": 1, "codes": []}])[0]["turn"]
        1
    """
    from qualkit.coding.io import iter_records

    if isinstance(records, pd.DataFrame):
        return records.to_dict("records")
    if not isinstance(records, str | os.PathLike):
        return list(records)
    path = Path(records)
    if not path.is_file():
        raise InvalidInput("no such file of coding records", path=path, fix="give a JSONL or CSV file")
    rows = []
    for _, record in iter_records(path):
        if isinstance(record, dict):
            record = {k: (None if v == "" else v) for k, v in record.items()}
            record.setdefault("codes", [])
            record["codes"] = record["codes"] or []
        rows.append(record)
    return rows


def match_records(segments: pd.DataFrame, records: list[dict[str, Any]],
                  unmatched: list[dict[str, Any]] | None = None) -> tuple[dict[int, list[str]], int]:
    """Map each record to a stored segment id; returns ``({segment_id: codes}, records left unmatched)``.

    A record matches by ``segment_id``, else by ``source`` + exact ``start``/``end``, else by ``source`` +
    ``turn``. The records left unmatched are appended to ``unmatched`` when it is given.
    """
    by_span = {(s, int(a), int(b)): int(i) for i, s, a, b in zip(
        segments["id"], segments["source"], segments["start"], segments["end"], strict=True)}
    by_turn = {(s, int(t)): int(i) for i, s, t in zip(segments["id"], segments["source"], segments["turn"], strict=True)
               if pd.notna(t)}
    matched: dict[int, list[str]] = {}
    missing = 0
    for record in records:
        source = record.get("source")
        segment = None
        if record.get("segment_id") is not None:
            segment = int(record["segment_id"])
        elif record.get("start") is not None and (source, int(record["start"]), int(record["end"])) in by_span:
            segment = by_span[(source, int(record["start"]), int(record["end"]))]
        elif record.get("turn") is not None:
            segment = by_turn.get((source, int(record["turn"])))
        if segment is None:
            missing += 1
            if unmatched is not None:
                unmatched.append(record)
            continue
        matched[segment] = list(record.get("codes") or [])
    return matched, missing


def unmatched_in_words(record: dict[str, Any], segments: pd.DataFrame) -> str:
    """Why a coding record found no segment, in words: an unknown source (with the project's), or no such turn.

    Example:
        >>> segments = pd.DataFrame({"id": [7], "source": ["g1.txt"], "start": [5], "end": [16], "turn": [1]})
        >>> unmatched_in_words({"source": "g2.txt", "turn": 3}, segments)
        "source 'g2.txt', turn 3: the project has no transcript 'g2.txt' (it has g1.txt)"
    """
    source = record.get("source")
    where = (f"segment {record['segment_id']}" if record.get("segment_id") is not None
             else f"source {source!r}, " + (f"characters {record['start']}-{record['end']}"
                                             if record.get("start") is not None else f"turn {record.get('turn')}"))
    known = sorted(set(segments["source"]))
    if record.get("segment_id") is None and source not in known:
        shown = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
        return f"{where}: the project has no transcript {source!r} ({f'it has {shown}' if known else 'it has none'})"
    return f"{where}: no such segment in that transcript"


def _check_speakers(records: list[dict[str, Any]], segments: pd.DataFrame) -> None:
    """Refuse records whose ``speaker`` is not who says the turn they name: a file counting turns another way.

    A second coder's file numbered from 1 put every code on the next speaker's turn, a moderator's too.
    """
    said = {(s, int(t)): sp for s, t, sp in zip(segments["source"], segments["turn"], segments["speaker"], strict=True)
            if pd.notna(t)}
    wrong = [(record, said[key]) for record in records if record.get("speaker") and record.get("turn") is not None
             and record.get("segment_id") is None and (key := (record.get("source"), int(record["turn"]))) in said
             and str(record["speaker"]).strip().casefold() != str(said[key] or "").strip().casefold()]
    if wrong:
        record, speaker = wrong[0]
        raise InvalidInput(f"{len(wrong)} coding record{'s' if len(wrong) != 1 else ''} name a speaker who does not "
                           f"say that turn; the first: {record['source']!r}, turn {record['turn']} names "
                           f"{record['speaker']!r}, but {speaker or 'nobody'!r} says it there; nothing was imported",
                           fix="number turns as qualkit does (project.segments() lists them, the first turn of a "
                               "transcript is turn 0), or correct the speaker column")


def _check_not_deciding_for_others(store: Any, segments: pd.DataFrame, matched: dict[int, list[str]], coder: str
                                   ) -> None:
    """Refuse a coder's records on transcripts other people are reviewing (and not double-coding blind).

    Recorded as the coder's review, they accept and reject the study's shared suggestions there: a second
    coder's file brought in for a reliability check took 30 turns out of the first coder's queue.
    """
    from qualkit.model import CONSENSUS
    from qualkit.store.assignments import assignments_df

    source_of = dict(zip(segments["id"].astype(int), segments["source"], strict=True))
    touched = sorted({source_of[segment] for segment in matched if segment in source_of})
    assigned = assignments_df(store)
    blind = set(assigned.loc[assigned["blind"].astype(bool) & (assigned["coder"] == coder), "source"])
    for source in touched:
        if source in blind:
            continue
        decided = store.codings_df(source=source)
        others = decided.loc[(decided["status"] != "suggested") & decided["decided_by"].notna()
                             & ~decided["decided_by"].isin([coder, CONSENSUS])]
        if len(others):
            who = ", ".join(sorted(set(others["decided_by"])))
            raise InvalidInput(f"{source}: {who} decided suggestions there; {coder}'s records, recorded as {coder}'s "
                               "review, would decide the others' suggestions too (taking them out of their queue); "
                               "nothing was imported",
                               fix=f"to compare coders, assign the transcript to {who} and {coder} for blind double "
                                   f"coding first (qualkit assign add {source} ...), so {coder}'s judgements stay "
                                   f"{coder}'s own; to record them as {coder}'s review anyway, pass beside_others=True")


def import_coding_records(store: Any, records: Any, *, coder: str, sources: list[str] | None = None,
                          beside_others: bool = False) -> dict[str, int]:
    """Record a coder's finished coding (records as in :func:`read_coding_records`) as their review.

    For every segment in the records the result is what the coder would have done in the review queue:
    pending suggestions of a code they gave are accepted, the other pending suggestions on that segment
    rejected, and codes nobody suggested added as their own codings. A (segment, code) the coder already
    accepted is left as it is, so importing twice changes nothing. Every code id must be a codable code of
    the codebook and every record must name a segment of the project, or nothing is stored. ``sources``
    limits the import to those file names. On a transcript where other people decided suggestions already
    (and that is not assigned to ``coder`` blind), the import is refused unless ``beside_others``: it would
    decide their shared suggestions. Returns counts of ``accepted``, ``rejected``, ``added``, ``segments``.

    Example:
        >>> import_coding_records(store, "gold_codings.jsonl", coder="ana")  # doctest: +SKIP
        {'accepted': 210, 'rejected': 190, 'added': 386, 'segments': 440}
    """
    from qualkit.model import Coding
    from qualkit.store.bulk import record_review

    rows = read_coding_records(records)
    if sources is not None:
        rows = [r for r in rows if r.get("source") in set(sources)]
    segments, unmatched = store.segments_df(), []
    matched, missing = match_records(segments, rows, unmatched)
    if missing:
        raise InvalidInput(f"{missing} of {len(rows)} coding records name no segment of the project; the first: "
                           f"{unmatched_in_words(unmatched[0], segments)}",
                           fix="correct the source name or turn of those records (the project's transcripts are "
                               "listed by project.sources()); records need the source name with start/end or turn")
    _check_speakers(rows, segments)
    if not beside_others:
        _check_not_deciding_for_others(store, segments, matched, coder)
    codebook = store.codebook()
    codable = {c.id for c in codebook.codable_codes}
    for codes in matched.values():
        for code in codes:
            if code not in codable:
                raise InvalidInput(f"the records use the code {code!r}, which is not a codable code of the codebook",
                                   fix=did_you_mean(code, sorted(codable)) + "fix the code id or add the code first")
    existing = store.codings_df(segment_ids=sorted(matched))
    accept, reject, covered = [], [], set()
    for row in existing.itertuples():
        key = (int(row.segment_id), row.code_id)
        if row.status == "suggested" and row.origin != "human":
            if row.code_id in matched[key[0]]:
                accept.append(int(row.id))
                covered.add(key)
            else:
                reject.append(int(row.id))
        elif row.status == "accepted" and coder in (row.coder, row.decided_by):
            covered.add(key)
    add = [Coding(segment, code, origin="human", status="accepted", coder=coder, decided_by=coder,
                  codebook_version=codebook.version)
           for segment, codes in matched.items() for code in dict.fromkeys(codes) if (segment, code) not in covered]
    counts = record_review(store, accept=accept, reject=reject, add=add, user=coder)
    return counts | {"segments": len(matched)}

"""Queries behind review: the suggestion queue, bulk-accept candidates, counts, examples, and id lookups.

Read-only and plain SQL, so they stay fast on large projects. Visibility during blind double-coding is
passed in (``hidden`` maps, hidden and own-row source ids) by :mod:`qualkit.review`, which owns the rule.

Example:
    >>> from qualkit.store.repository import Store
    >>> frame, total = suggestion_queue(Store.create("sqlite://", name="s"), user="ana")
    >>> total
    0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import and_, exists, false, func, literal, not_, or_, select
from sqlalchemy.orm import Session, aliased

from qualkit.store.decisions import CONSENSUS, recent_coding_events
from qualkit.store.repository import Store
from qualkit.store.rows import coding_frame, joined_codings
from qualkit.store.schema import CodingRow, SegmentRow


def codings_by_id(store: Store, coding_ids: Sequence[int]) -> pd.DataFrame:
    """Codings (``codings_df`` columns) for the given ids, in the order given.

    Example:
        >>> codings_by_id(Store.create("sqlite://", name="q"), []).empty
        True
    """
    if not coding_ids:
        return coding_frame([])
    with Session(store.engine) as session:
        rows = session.execute(joined_codings(store.project_id).where(CodingRow.id.in_(list(coding_ids)))).all()
    frame = coding_frame(rows).set_index("id", drop=False)
    return frame.loc[[i for i in coding_ids if i in frame.index]].reset_index(drop=True)


def _queue_filters(store: Store, query, *, user: str, source_ids, code_ids, hidden_source_ids, own_row_source_ids):
    # On a transcript the user codes blind, every machine suggestion is theirs to judge afresh, including
    # one decided in place before the assignment: else the coders would only share what was left over.
    pending = CodingRow.status == "suggested"
    if own_row_source_ids:
        pending = or_(pending, SegmentRow.source_id.in_(list(own_row_source_ids)))
    query = query.where(CodingRow.project_id == store.project_id, pending, CodingRow.origin != "human")
    if source_ids is not None:
        query = query.where(SegmentRow.source_id.in_(list(source_ids)))
    if code_ids is not None:
        query = query.where(CodingRow.code_id.in_(list(code_ids)))
    if hidden_source_ids:
        query = query.where(SegmentRow.source_id.notin_(list(hidden_source_ids)))
    if own_row_source_ids:
        own = aliased(CodingRow)
        already = exists().where(own.segment_id == CodingRow.segment_id, own.code_id == CodingRow.code_id,
                                 own.coder == user, own.origin == "human", own.status != "suggested")
        query = query.where(or_(SegmentRow.source_id.notin_(list(own_row_source_ids)), not_(already)))
    return query


def suggestion_queue(
    store: Store,
    *,
    user: str,
    limit: int = 20,
    offset: int = 0,
    source_ids: Sequence[int] | None = None,
    code_ids: Sequence[str] | None = None,
    hidden_source_ids: Sequence[int] = (),
    own_row_source_ids: Sequence[int] = (),
    min_score: float | None = None,
    ranking: Mapping[int, float] | None = None,
) -> tuple[pd.DataFrame, int]:
    """A page of suggestions awaiting review, most uncertain first, and how many there are in all.

    The order (score nearest 0.5 first, then id) is the fallback when the coding area's
    ``Project.review_queue`` is not available. Sources in ``hidden_source_ids`` are left out; in
    ``own_row_source_ids`` (the user's blind assignments) a suggestion the user already judged
    (an own human row with the same segment and code, not withdrawn by an undo) is left out. With ``ranking`` (coding id ->
    priority, higher first; computed in the background from the coding area's active-learning order)
    the ranked suggestions come first and the rest follow by uncertainty; a ``priority`` column is added.

    Example:
        >>> frame, total = suggestion_queue(Store.create("sqlite://", name="s"), user="ana")
        >>> total
        0
    """
    filters = {"user": user, "source_ids": source_ids, "code_ids": code_ids,
               "hidden_source_ids": hidden_source_ids, "own_row_source_ids": own_row_source_ids}
    base = joined_codings(store.project_id)
    count = select(func.count()).select_from(CodingRow).join(SegmentRow, SegmentRow.id == CodingRow.segment_id)
    if min_score is not None:
        base = base.where(CodingRow.score >= min_score)
        count = count.where(CodingRow.score >= min_score)
    base = _queue_filters(store, base, **filters)
    count = _queue_filters(store, count, **filters)
    uncertainty = func.abs(func.coalesce(CodingRow.score, literal(0.5)) - literal(0.5))
    if ranking:
        ids_query = _queue_filters(store, select(CodingRow.id).join(SegmentRow, SegmentRow.id == CodingRow.segment_id),
                                   **filters)
        if min_score is not None:
            ids_query = ids_query.where(CodingRow.score >= min_score)
        with Session(store.engine) as session:
            ids = list(session.scalars(ids_query.order_by(uncertainty, CodingRow.id)))
        ids.sort(key=lambda i: -ranking.get(i, -1.0))  # stable: unranked keep the uncertainty order
        page = ids[offset:offset + limit]
        frame = codings_by_id(store, page)
        return frame.assign(priority=[ranking.get(int(i)) for i in frame["id"]]), len(ids)
    query = base.order_by(uncertainty, CodingRow.id).offset(offset).limit(limit)
    with Session(store.engine) as session:
        total = int(session.scalar(count) or 0)
        rows = session.execute(query).all()
    return coding_frame(rows).assign(priority=None), total


def bulk_candidates(
    store: Store, *, user: str, min_score: float, source_ids: Sequence[int] | None = None,
    code_ids: Sequence[str] | None = None, hidden_source_ids: Sequence[int] = (),
    own_row_source_ids: Sequence[int] = (),
) -> pd.DataFrame:
    """Every suggestion a bulk accept at ``min_score`` would decide (highest score first).

    Example:
        >>> bulk_candidates(Store.create("sqlite://", name="b"), user="ana", min_score=0.9).empty
        True
    """
    query = _queue_filters(store, joined_codings(store.project_id).where(CodingRow.score >= min_score), user=user,
                           source_ids=source_ids, code_ids=code_ids, hidden_source_ids=hidden_source_ids,
                           own_row_source_ids=own_row_source_ids)
    with Session(store.engine) as session:
        rows = session.execute(query.order_by(CodingRow.score.desc(), CodingRow.id)).all()
    return coding_frame(rows)


def _not_hidden(hidden: Mapping[int, set[str]] | None):
    """SQL condition leaving out rows of the given coders on the given sources (a visibility map)."""
    if not hidden:
        return literal(True)
    # coalesce: a suggestion nobody decided has no decided_by, and NULL IN (...) would drop it (SQL's NULL
    # logic made every pending suggestion on a blind coder's transcript vanish from their counts).
    return not_(or_(*(and_(SegmentRow.source_id == source_id,
                           or_(func.coalesce(CodingRow.coder, "").in_(sorted(coders)),
                               func.coalesce(CodingRow.decided_by, "").in_(sorted(coders))))
                      for source_id, coders in hidden.items())))


def _not_settled_no():
    """SQL condition: no consensus row settled this coding's (segment, code) as "does not apply"."""
    settled = aliased(CodingRow)
    return ~exists().where(settled.segment_id == CodingRow.segment_id, settled.code_id == CodingRow.code_id,
                           settled.decided_by == CONSENSUS, settled.status == "rejected")


def _not_taken_back():
    """SQL condition: not a row its own author took back (a hand code removed, a change undone).

    The SQL form of :func:`qualkit.model.withdrawn_by_author`: such a row is on record but is no rejection (the
    coder never said the code does not apply); a blind coder's own rejection of a suggestion of the same code is.
    """
    parent = aliased(CodingRow)
    judges = exists().where(parent.id == CodingRow.parent_id, parent.code_id == CodingRow.code_id)
    return ~and_(CodingRow.origin == "human", CodingRow.status == "rejected",
                 func.coalesce(CodingRow.decided_by == CodingRow.coder, false()), ~judges)


def _awaiting_review(hidden: Mapping[int, set[str]] | None):
    """SQL condition: a row is not a suggestion that some visible coder judged in a row of their own.

    On a transcript coded blind the judgement is the coder's own row and the suggestion stays "suggested";
    counted as awaiting review, the Study page said 18 where the report said 13.
    """
    child = aliased(CodingRow)
    visible = literal(True) if not hidden else not_(or_(*(
        and_(SegmentRow.source_id == source_id, func.coalesce(child.coder, "").in_(sorted(coders)))
        for source_id, coders in hidden.items())))
    judged = exists().where(child.parent_id == CodingRow.id, child.code_id == CodingRow.code_id,
                            child.origin == "human", child.status != "suggested", visible)
    # A judgement its coder undid is her row back at "suggested": it judges nothing, and is no suggestion itself.
    parent = aliased(CodingRow)
    undone = and_(CodingRow.origin == "human", CodingRow.status == "suggested",
                  exists().where(parent.id == CodingRow.parent_id, parent.code_id == CodingRow.code_id))
    return and_(or_(CodingRow.status != "suggested", ~judged), ~undone)


def code_counts(store: Store, *, hidden: Mapping[int, set[str]] | None = None) -> pd.DataFrame:
    """Per code: coded segments (``accepted``, as the analyses count them), suggestions awaiting review, rejections.

    A segment counts once however many coders applied the code (two double-coders and their consensus
    are one passage), and not at all where the disagreement was settled "does not apply". A row its own
    author took back (a hand code removed, a change undone) is no rejection, as in the report. ``hidden``
    maps a source id to coders whose rows there are not counted (see ``TeamView.hidden_map``).

    Example:
        >>> code_counts(Store.create("sqlite://", name="c")).empty
        True
    """
    accepted = (select(CodingRow.code_id, literal("accepted"), func.count(func.distinct(CodingRow.segment_id)))
                .join(SegmentRow, SegmentRow.id == CodingRow.segment_id)
                .where(CodingRow.project_id == store.project_id, CodingRow.status == "accepted",
                       _not_hidden(hidden), _not_settled_no())
                .group_by(CodingRow.code_id))
    others = (select(CodingRow.code_id, CodingRow.status, func.count())
              .join(SegmentRow, SegmentRow.id == CodingRow.segment_id)
              .where(CodingRow.project_id == store.project_id, CodingRow.status != "accepted", _not_hidden(hidden),
                     _awaiting_review(hidden), _not_taken_back())
              .group_by(CodingRow.code_id, CodingRow.status))
    with Session(store.engine) as session:
        rows = session.execute(accepted).all() + session.execute(others).all()
    frame = pd.DataFrame(rows, columns=["code_id", "status", "n"])
    if frame.empty:
        return pd.DataFrame(columns=["code_id", "accepted", "rejected", "suggested"])
    wide = frame.pivot_table(index="code_id", columns="status", values="n", aggfunc="sum", fill_value=0)
    for status in ("accepted", "rejected", "suggested"):
        if status not in wide.columns:
            wide[status] = 0
    return wide[["accepted", "rejected", "suggested"]].reset_index()


def code_examples(store: Store, code_id: str, *, limit: int = 3,
                  hidden: Mapping[int, set[str]] | None = None) -> list[str]:
    """Up to ``limit`` accepted excerpts of a code (the coded span of each); ``hidden`` rows left out.

    Example:
        >>> code_examples(Store.create("sqlite://", name="e"), "workload")
        []
    """
    query = (select(CodingRow.segment_id, CodingRow.start, CodingRow.end, SegmentRow.start, SegmentRow.text)
             .join(SegmentRow, SegmentRow.id == CodingRow.segment_id)
             .where(CodingRow.project_id == store.project_id, CodingRow.code_id == code_id,
                    CodingRow.status == "accepted", _not_hidden(hidden), _not_settled_no())
             .order_by(CodingRow.id).limit(4 * limit))
    with Session(store.engine) as session:
        rows = session.execute(query).all()
    seen: set[int] = set()
    excerpts = []
    for segment_id, start, end, seg_start, text in rows:
        if segment_id not in seen and len(excerpts) < limit:  # one passage once, however many coders chose it
            seen.add(segment_id)
            excerpts.append(text[start - seg_start:end - seg_start])
    return excerpts


def coding_source_ids(store: Store, coding_ids: Sequence[int]) -> dict[int, int]:
    """Map coding ids to their transcript (source) ids; ids no longer stored are left out.

    Example:
        >>> coding_source_ids(Store.create("sqlite://", name="cs"), [1])
        {}
    """
    out: dict[int, int] = {}
    ids = sorted(set(coding_ids))
    with Session(store.engine) as session:
        for i in range(0, len(ids), 2000):
            out.update({int(a): int(b) for a, b in session.execute(
                select(CodingRow.id, SegmentRow.source_id).join(SegmentRow, SegmentRow.id == CodingRow.segment_id)
                .where(CodingRow.project_id == store.project_id, CodingRow.id.in_(ids[i:i + 2000])))})
    return out


def decider_names(store: Store, source_ids: Sequence[int]) -> dict[int, set[str]]:
    """Per source: everyone whose decisions are on it (a person's own codings, and whoever decided a row).

    Example:
        >>> decider_names(Store.create("sqlite://", name="dn"), [1])
        {}
    """
    ids = sorted({int(i) for i in source_ids})
    if not ids:
        return {}
    query = (select(SegmentRow.source_id, CodingRow.origin, CodingRow.coder, CodingRow.decided_by).distinct()
             .join(SegmentRow, SegmentRow.id == CodingRow.segment_id)
             .where(CodingRow.project_id == store.project_id, SegmentRow.source_id.in_(ids),
                    or_(CodingRow.origin == "human", CodingRow.decided_by.is_not(None))))
    out: dict[int, set[str]] = {}
    with Session(store.engine) as session:
        for source_id, origin, coder, decided_by in session.execute(query):
            names = out.setdefault(int(source_id), set())
            names.update(n for n in (coder if origin == "human" else None, decided_by) if n)
    return out


def human_rows_df(store: Store, *, source_id: int, coders: Sequence[str]) -> pd.DataFrame:
    """Decided rows of one source that count as someone's judgement: the coders' own and consensus rows.

    Example:
        >>> human_rows_df(Store.create("sqlite://", name="h"), source_id=1, coders=["ana"]).empty
        True
    """
    names = [*coders, CONSENSUS]
    query = joined_codings(store.project_id).where(
        SegmentRow.source_id == source_id, CodingRow.status != "suggested",
        or_(CodingRow.coder.in_(names), and_(CodingRow.decided_by.in_(names))))
    with Session(store.engine) as session:
        rows = session.execute(query.order_by(CodingRow.id)).all()
    return coding_frame(rows)


def own_judgements(store: Store, coding_ids: Sequence[int], *, coder: str) -> dict[int, str]:
    """A coder's own judgements of these suggestions (blind double-coding): suggestion id -> ``accepted``/``rejected``.

    The judgement is the coder's own row of the same code pointing to the suggestion, which itself stays
    "suggested"; suggestions the coder has not judged (or whose judgement was undone) are left out.

    Example:
        >>> own_judgements(Store.create("sqlite://", name="oj"), [1, 2], coder="ana")
        {}
    """
    if not coding_ids:
        return {}
    parent = aliased(CodingRow)
    query = (select(parent.id, CodingRow.status).join(parent, parent.id == CodingRow.parent_id)
             .where(CodingRow.project_id == store.project_id, CodingRow.coder == coder, CodingRow.origin == "human",
                    CodingRow.code_id == parent.code_id, CodingRow.status != "suggested",
                    parent.id.in_([int(i) for i in coding_ids])).order_by(CodingRow.id))
    with Session(store.engine) as session:
        return {int(i): str(status) for i, status in session.execute(query)}


def withdrawals(store: Store, coding_ids: Sequence[int], *, look_back: int = 500) -> dict[int, dict[str, Any]]:
    """Who withdrew these suggestions, when and why, from the log (their rows are deleted): id -> ``{user, at, why}``.

    ``why`` is None for a retrain's refresh; a person's change on the same words or a merge of codes names its
    reason. Only the newest ``look_back`` withdrawals are read; ids not found are left out.

    Example:
        >>> withdrawals(Store.create("sqlite://", name="wd"), [1])
        {}
    """
    wanted = {int(i) for i in coding_ids}
    if not wanted:
        return {}
    out: dict[int, dict[str, Any]] = {}
    for row in recent_coding_events(store, "replace", limit=look_back):
        old = row.old if isinstance(row.old, dict) else {}
        for coding_id in wanted.intersection(int(i) for i in old.get("ids") or []) - set(out):
            out[coding_id] = {"user": row.user, "at": row.at, "why": old.get("why")}
    return out


def child_coding_ids(store: Store, coding_id: int) -> list[int]:
    """Ids of codings derived from a coding (a change's new code, coders' own judgements).

    Example:
        >>> child_coding_ids(Store.create("sqlite://", name="c"), 1)
        []
    """
    with Session(store.engine) as session:
        return [int(i) for i in session.scalars(select(CodingRow.id).where(
            CodingRow.project_id == store.project_id, CodingRow.parent_id == coding_id).order_by(CodingRow.id))]


def segment_ids_under_review(store: Store) -> list[int]:
    """Segments of the transcripts that still have machine suggestions awaiting review.

    What the app's background retraining refreshes: the transcripts being reviewed, not ones the team
    already finished (those get no new suggestions behind the reviewers' backs).

    Example:
        >>> segment_ids_under_review(Store.create("sqlite://", name="u"))
        []
    """
    pending = (select(SegmentRow.source_id).join(CodingRow, CodingRow.segment_id == SegmentRow.id)
               .where(CodingRow.project_id == store.project_id, CodingRow.status == "suggested",
                      CodingRow.origin != "human").distinct())
    query = (select(SegmentRow.id).where(SegmentRow.project_id == store.project_id,
                                         SegmentRow.source_id.in_(pending.scalar_subquery()))
             .order_by(SegmentRow.id))
    with Session(store.engine) as session:
        return [int(i) for i in session.scalars(query)]


__all__ = ["bulk_candidates", "child_coding_ids", "code_counts", "code_examples", "coding_source_ids", "codings_by_id", "human_rows_df", "own_judgements", "segment_ids_under_review", "suggestion_queue", "withdrawals"]

"""Cached reads for the pages (``st.cache_data``), keyed on the project's generation.

Every function takes ``(url, project, gen, ...)``: ``gen`` is the id of the project's newest event,
which every write (by anyone, from any process) advances, so a cached result is reused only while
nothing changed. Results are small: one transcript, one page of the queue, counts.

Example:
    >>> frame = sources(url, "pilot", gen)  # doctest: +SKIP
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from qualkit.app import resources
from qualkit.model import Codebook
from qualkit.review import double_coding
from qualkit.review.decisions import review_queue
from qualkit.review.visibility import TeamView
from qualkit.store.rows import SEGMENT_COLUMNS
from qualkit.users import actor

_CACHE = {"show_spinner": False, "max_entries": 64}


def _store(url: str, project: str):
    return resources.store_for(url, project)


@st.cache_data(**_CACHE)
def sources(url: str, project: str, gen: int) -> pd.DataFrame:
    """The project's transcripts (``Store.sources_df``)."""
    return _store(url, project).sources_df()


@st.cache_data(**_CACHE)
def segments(url: str, project: str, gen: int, source_id: int) -> pd.DataFrame:
    """One transcript's segments in order, with the ``question`` a survey answer answers (no other attributes)."""
    frame = _store(url, project).segments_df(source=source_id)
    keep = [c for c in frame.columns if c in SEGMENT_COLUMNS or c == "question"]
    return frame[keep]


@st.cache_data(**_CACHE)
def source_codings(url: str, project: str, gen: int, source_id: int, user: str) -> pd.DataFrame:
    """One transcript's codings that ``user`` may see (others' blind decisions are left out).

    A suggestion the user already judged blind is not shown as pending: their own row shows the decision.
    That is a suggestion their own row refers to, or, while they code the transcript blind, one whose code
    they applied or rejected on that turn by hand (their queue leaves out the same ones).
    """
    store = _store(url, project)
    view = team_view(url, project, gen)
    frame = review_visible(store.codings_df(source=source_id), user, view)
    mine = frame.loc[(frame["coder"] == user) & frame["parent_id"].notna(), "parent_id"].astype(int)
    frame = frame.loc[~((frame["status"] == "suggested") & frame["id"].isin(set(mine)))]
    if user in view.coders(source_id) and view.in_blind_period(source_id):
        frame = without_judged_suggestions(frame, user)
    return frame


def without_judged_suggestions(codings: pd.DataFrame, coder: str) -> pd.DataFrame:
    """Drop pending machine suggestions whose segment and code ``coder`` has judged in a human row of their own.

    On a blind transcript both showed ("Understaffing ?Understaffing") when the coder coded the code by hand.

    Example:
        >>> rows = pd.DataFrame({"id": [1, 2], "segment_id": [5, 5], "code_id": ["w", "w"],
        ...                      "origin": ["rules", "human"], "coder": ["auto", "ana"], "status": ["suggested", "accepted"]})
        >>> without_judged_suggestions(rows, "ana")["id"].tolist()
        [2]
    """
    own = codings[(codings["origin"] == "human") & (codings["coder"] == coder) & (codings["status"] != "suggested")]
    judged = set(zip(own["segment_id"], own["code_id"], strict=True))
    if not judged:
        return codings
    machine = (codings["origin"] != "human") & (codings["status"] == "suggested")
    pairs = pd.Series(list(zip(codings["segment_id"], codings["code_id"], strict=True)), index=codings.index)
    return codings[~(machine & pairs.isin(judged))]


def review_visible(frame: pd.DataFrame, user: str, view: TeamView) -> pd.DataFrame:
    """:func:`qualkit.review.visible_codings` (re-exported for the pages)."""
    from qualkit.review.visibility import visible_codings

    return visible_codings(frame, user, view)


@st.cache_data(**_CACHE)
def codebook(url: str, project: str, gen: int) -> Codebook | None:
    """The active codebook, or None when the project has none yet."""
    from qualkit.errors import StoreError

    try:
        return _store(url, project).codebook()
    except StoreError:
        return None


@st.cache_data(**_CACHE)
def codebook_versions(url: str, project: str, gen: int) -> pd.DataFrame:
    """Every saved codebook version."""
    return _store(url, project).codebook_versions()


@st.cache_data(**_CACHE)
def assignments(url: str, project: str, gen: int) -> pd.DataFrame:
    """Assignments with source names."""
    return double_coding.assignments(_store(url, project))


@st.cache_data(**_CACHE)
def team_view(url: str, project: str, gen: int) -> TeamView:
    """Who may see what now (:class:`TeamView`), read once per generation."""
    return TeamView.load(_store(url, project), assignments(url, project, gen))


@st.cache_data(**_CACHE)
def queue(url: str, project: str, gen: int, user: str, offset: int, limit: int, source_id: int | None,
          code_id: str | None, ranking_version: int = 0) -> tuple[pd.DataFrame, int]:
    """A page of the user's review queue and the total (:func:`qualkit.review.review_queue`).

    The active-learning ranking of version ``ranking_version`` (stored by the worker process; 0 for none)
    orders it; the version keys the cache.
    """
    from qualkit.store.jobs import latest_ranking

    store = _store(url, project)
    ranking = latest_ranking(store, ranking_version)[1] if ranking_version else None
    return review_queue(store, actor=actor(store, user), limit=limit, offset=offset, source_id=source_id,
                        code_id=code_id, view=team_view(url, project, gen), ranking=ranking)


@st.cache_data(**_CACHE)
def code_counts(url: str, project: str, gen: int, user: str) -> pd.DataFrame:
    """Codings per code and status that ``user`` may see (:func:`qualkit.review.code_counts`)."""
    from qualkit.review.visibility import code_counts as counts

    return counts(_store(url, project), viewer=user, view=team_view(url, project, gen))


@st.cache_data(**_CACHE)
def code_examples(url: str, project: str, gen: int, code_id: str, user: str) -> list[str]:
    """A few accepted excerpts of a code that ``user`` may see."""
    from qualkit.review.visibility import code_examples as examples

    return examples(_store(url, project), code_id, viewer=user, view=team_view(url, project, gen))


@st.cache_data(**_CACHE)
def memos(url: str, project: str, gen: int, user: str, *, deleted: bool = False) -> pd.DataFrame:
    """The memos ``user`` may see (a blind co-coder's memos on that transcript wait); ``deleted``: the deleted ones."""
    from qualkit.review.visibility import visible_memos

    store = _store(url, project)
    frame = store.memos_df(withdrawn=deleted)
    frame = frame[frame["withdrawn_at"].notna()] if deleted else frame
    return visible_memos(store, frame, user, team_view(url, project, gen))


@st.cache_data(**_CACHE)
def segment_attributes(url: str, project: str, gen: int) -> list[str]:
    """The attributes segments carry of their own (a survey's "Staff group", "Site", ``question``), in order."""
    frame = _store(url, project).segments_df()
    return [c for c in frame.columns if c not in SEGMENT_COLUMNS and c != "row"]


@st.cache_data(**_CACHE)
def participants(url: str, project: str, gen: int) -> pd.DataFrame:
    """Participants with attributes and aliases."""
    return _store(url, project).participants_df()


def group_attributes(url: str, project: str, gen: int) -> list[str]:
    """What groups can be compared by: the participants' attributes (role, site...), then the segments' own."""
    people = participants(url, project, gen)
    found = [c for c in people.columns if c not in ("participant", "pseudonym", "aliases", "version")]
    # A survey's groups are columns of its answers (Staff group, Site, question), not of a participants file.
    return found + [c for c in segment_attributes(url, project, gen) if c not in found]


@st.cache_data(**_CACHE)
def events(url: str, project: str, gen: int, limit: int, user: str) -> pd.DataFrame:
    """The newest ``limit`` events of the project that ``user`` may see."""
    from qualkit.review.visibility import visible_events

    store = _store(url, project)
    return visible_events(store, store.events_df(limit=limit), user, team_view(url, project, gen))


@st.cache_data(**_CACHE)
def status_counts(url: str, project: str, gen: int, user: str) -> dict[str, int]:
    """Codings by status across the project (rows ``user`` may see)."""
    counts = code_counts(url, project, gen, user)
    return {s: int(counts[s].sum()) for s in ("suggested", "accepted", "rejected")} if not counts.empty else {}


@st.cache_data(**_CACHE)
def bulk_preview(url: str, project: str, gen: int, user: str, min_score: float, source_id: int | None,
                 code_id: str | None) -> pd.DataFrame:
    """What a bulk accept at ``min_score`` would decide for ``user`` (cached: the preview is shown every rerun)."""
    from qualkit.review.decisions import bulk_accept

    store = _store(url, project)
    return bulk_accept(store, min_score, actor=actor(store, user), source_id=source_id, code_id=code_id,
                       preview=True, view=team_view(url, project, gen))


@st.cache_data(**_CACHE)
def transcript_agreement(url: str, project: str, gen: int, user: str, source: str,
                         coders: tuple[str, ...]) -> dict[str, float]:
    """Pooled kappa, alpha and AC1 of one finished transcript's coders (no intervals); ``{}`` when nothing compares.

    The same figures as the Reliability page for that transcript, so one transcript has one kappa; ``units``
    is how many segments they are computed over (the segments some coder coded).

    Example:
        >>> transcript_agreement(url, "pilot", gen, "ana", "fg1.txt", ("ana", "ben"))  # doctest: +SKIP
    """
    from qualkit.errors import QualkitError
    from qualkit.project import Project

    try:
        result = Project(_store(url, project), user=user).reliability(list(coders), sources=source, n_boot=0)
    except QualkitError:
        return {}
    units = int(result.per_code["units"].iloc[0]) if len(result.per_code) else 0
    return {**result.pooled(), "units": units}

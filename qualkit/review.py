"""Reviewing codings as a team: who sees what, deciding, blind double-coding, disagreements and adjudication.

Normal review decides a suggestion in place (``Store.decide``: version-checked, logged with old and new).
A transcript an administrator assigned *blind* to two (or more) coders works differently, as
CONTRIBUTING describes: each coder's decisions are their own human rows (``coder=<user>``,
``parent_id=<suggestion>``), the suggestion stays ``suggested``, and a coder cannot see the other
coders' rows until every assigned coder marked the transcript done. Then :func:`disagreements`
lists where they differ and :func:`adjudicate` records the agreed decision as ``consensus``
(see :data:`qualkit.store.team.CONSENSUS`) while both original decisions stay on record.

Everything here takes the acting :class:`~qualkit.users.User` and checks its permissions; nothing
imports Streamlit.

Example:
    >>> locate_passage("I am so tired of the EHR.", 100, "tired of")
    (108, 116)
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from qualkit.errors import ConflictError, InvalidInput, PermissionDenied
from qualkit.model import Code, Codebook, Coding, Memo
from qualkit.store import team
from qualkit.store.repository import Store
from qualkit.users import User

DECISIONS = ("accept", "reject", "change", "span")
CONSENSUS = team.CONSENSUS


# ---------------------------------------------------------------------------- who is coding what
@dataclass(frozen=True)
class TeamView:
    """A snapshot of the project's assignments that answers visibility questions.

    A source is in its *blind period* while it has blind assignments and not every assigned coder is done.

    Example:
        >>> view = TeamView(assignments=pd.DataFrame(
        ...     {"source_id": [1, 1], "coder": ["ana", "ben"], "blind": [True, True], "done": [True, False]}))
        >>> view.in_blind_period(1), view.hidden_coders("ana", 1)
        (True, {'ben'})
    """

    assignments: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["source_id", "coder", "blind", "done"]))

    @classmethod
    def load(cls, store: Store) -> TeamView:
        """Read the current assignments.

        Example:
            >>> TeamView.load(Store.create("sqlite://", name="v")).blind_sources()
            set()
        """
        return cls(team.assignments_df(store))

    def _rows(self, source_id: int) -> pd.DataFrame:
        frame = self.assignments
        return frame[frame["source_id"] == source_id]

    def coders(self, source_id: int) -> list[str]:
        """Coders assigned to a source."""
        return self._rows(source_id)["coder"].tolist()

    def blind_sources(self) -> set[int]:
        """Sources with at least one blind assignment."""
        frame = self.assignments
        return {int(s) for s in frame.loc[frame["blind"].astype(bool), "source_id"]}

    def is_complete(self, source_id: int) -> bool:
        """True when the source has assignments and every assigned coder is done."""
        rows = self._rows(source_id)
        return bool(len(rows)) and bool(rows["done"].astype(bool).all())

    def in_blind_period(self, source_id: int) -> bool:
        """True while coders of a blind assignment must not see each other's decisions."""
        return source_id in self.blind_sources() and not self.is_complete(source_id)

    def is_done(self, user: str, source_id: int) -> bool:
        """True when ``user`` marked their assignment on the source done."""
        rows = self._rows(source_id)
        return bool(rows.loc[rows["coder"] == user, "done"].astype(bool).any())

    def hidden_coders(self, user: str, source_id: int) -> set[str]:
        """Whose decisions ``user`` may not see on this source (the other blind coders, during the blind period)."""
        if not self.in_blind_period(source_id):
            return set()
        coders = set(self.coders(source_id))
        return coders - {user} if user in coders else set()

    def hidden_map(self, user: str) -> dict[int, set[str]]:
        """Source id -> the coders whose decisions ``user`` may not see there now.

        This is THE visibility rule of blind double-coding; every surface that shows decisions (the
        transcript, the review card's history, the History page, memos, exports, reliability, codebook
        examples) filters through it via the ``visible_*`` functions below.

        Example:
            >>> TeamView(assignments=pd.DataFrame({"source_id": [1, 1], "coder": ["ana", "ben"],
            ...          "blind": [True, True], "done": [True, False]})).hidden_map("ben")
            {1: {'ana'}}
        """
        return {s: hidden for s in sorted(self.blind_sources()) if (hidden := self.hidden_coders(user, s))}

    def own_row_sources(self, user: str) -> set[int]:
        """Sources where ``user`` codes blind and is not yet done (their decisions become own rows)."""
        return {s for s in self.blind_sources()
                if self.in_blind_period(s) and user in self.coders(s) and not self.is_done(user, s)}

    def queue_hidden_sources(self, user: str) -> set[int]:
        """Blind sources whose suggestions ``user`` must not decide in the normal queue."""
        return self.blind_sources() - self.own_row_sources(user)


def visible_codings(frame: pd.DataFrame, user: str, view: TeamView) -> pd.DataFrame:
    """Drop the rows ``user`` may not see yet (other coders' decisions during a blind period).

    Example:
        >>> view = TeamView(assignments=pd.DataFrame(
        ...     {"source_id": [1, 1], "coder": ["ana", "ben"], "blind": [True, True], "done": [False, False]}))
        >>> rows = pd.DataFrame({"source_id": [1, 1, 1], "coder": ["ana", "ben", "auto"],
        ...                      "decided_by": [None, "ben", None], "status": ["accepted"] * 2 + ["suggested"]})
        >>> visible_codings(rows, "ana", view)["coder"].tolist()
        ['ana', 'auto']
    """
    hidden = view.hidden_map(user) if not view.assignments.empty else {}
    if frame.empty or not hidden:
        return frame
    keep = pd.Series(True, index=frame.index)
    for source_id, coders in hidden.items():
        on_source = frame["source_id"] == source_id
        theirs = frame["coder"].isin(coders) | frame["decided_by"].isin(coders)
        keep &= ~(on_source & theirs)
    return frame[keep]


def visible_memos(store: Store, frame: pd.DataFrame, user: str, view: TeamView) -> pd.DataFrame:
    """Drop memos written by a coder whose decisions ``user`` may not see on that memo's transcript.

    Example:
        >>> visible_memos(Store.create("sqlite://", name="vm"), pd.DataFrame(
        ...     columns=["segment_id", "source_id", "author"]), "ana", TeamView()).empty
        True
    """
    hidden = view.hidden_map(user) if not view.assignments.empty else {}
    if frame.empty or not hidden:
        return frame
    writers = set().union(*hidden.values())
    theirs = frame[frame["author"].isin(writers)]
    if theirs.empty:
        return frame
    segment_ids = [int(i) for i in theirs["segment_id"].dropna()]
    source_of = team.segment_source_ids(store, segment_ids)
    drop = []
    for index, memo in theirs.iterrows():
        on_segment = not pd.isna(memo["segment_id"])
        source = memo["source_id"] if not pd.isna(memo["source_id"]) else (
            source_of.get(int(memo["segment_id"])) if on_segment else None)
        if source is None:
            if on_segment:  # a segment we cannot place: keep it back rather than risk showing it
                drop.append(index)
            continue  # a memo on a code or the project is not a decision on a transcript
        if memo["author"] in hidden.get(int(source), set()):
            drop.append(index)
    return frame.drop(index=drop)


def visible_events(store: Store, frame: pd.DataFrame, user: str, view: TeamView) -> pd.DataFrame:
    """Drop the events that would show ``user`` a blind co-coder's decisions or memos (History, card history).

    An event is held back when its author is hidden from ``user`` on the transcript the event is about
    (a coding's or memo's transcript); an event by such a coder about a coding or memo whose transcript
    cannot be told (a bulk insert) is held back too. Everything else (assignments, codebook, import) shows.

    Example:
        >>> visible_events(Store.create("sqlite://", name="ve"), pd.DataFrame(
        ...     columns=["user", "entity", "entity_id"]), "ana", TeamView()).empty
        True
    """
    hidden = view.hidden_map(user) if not view.assignments.empty else {}
    if frame.empty or not hidden:
        return frame
    writers = set().union(*hidden.values())
    theirs = frame[frame["user"].isin(writers) & frame["entity"].isin(["coding", "memo"])]
    if theirs.empty:
        return frame
    coding_ids = [int(i) for i in theirs.loc[theirs["entity"] == "coding", "entity_id"].dropna()]
    memo_ids = [int(i) for i in theirs.loc[theirs["entity"] == "memo", "entity_id"].dropna()]
    coding_sources = team.coding_source_ids(store, coding_ids)
    memo_sources = team.memo_source_ids(store, memo_ids)
    drop = []
    for index, event in theirs.iterrows():
        known = coding_sources if event["entity"] == "coding" else memo_sources
        entity_id = event["entity_id"]
        source = None if entity_id is None or pd.isna(entity_id) else known.get(int(entity_id))
        if source is None or event["user"] in hidden.get(source, set()):
            drop.append(index)
    return frame.drop(index=drop)


def sees_everything(user: str, view: TeamView) -> bool:
    """False while ``user`` codes blind beside someone: project-wide results would show the other's decisions.

    Exports of the whole project, analyses over accepted codings and reliability including a hidden
    coder wait until the blind double-coding is finished.

    Example:
        >>> sees_everything("ana", TeamView())
        True
    """
    return not view.hidden_map(user)


def hidden_coders_anywhere(user: str, view: TeamView) -> set[str]:
    """Every coder whose decisions ``user`` may not see on some transcript now.

    Example:
        >>> sorted(hidden_coders_anywhere("ana", TeamView(assignments=pd.DataFrame({"source_id": [1, 1],
        ...     "coder": ["ana", "ben"], "blind": [True, True], "done": [False, False]}))))
        ['ben']
    """
    hidden = view.hidden_map(user)
    return set().union(*hidden.values()) if hidden else set()


def code_examples(store: Store, code_id: str, *, viewer: str, view: TeamView | None = None,
                  limit: int = 3) -> list[str]:
    """Up to ``limit`` accepted excerpts of a code that ``viewer`` may see (blind co-coders' rows left out).

    Example:
        >>> code_examples(Store.create("sqlite://", name="ce"), "workload", viewer="ana")
        []
    """
    view = view or TeamView.load(store)
    return team.code_examples(store, code_id, limit=limit, hidden=view.hidden_map(viewer))


def code_counts(store: Store, *, viewer: str, view: TeamView | None = None) -> pd.DataFrame:
    """Codings per code and status, counting only rows ``viewer`` may see.

    Example:
        >>> code_counts(Store.create("sqlite://", name="cc"), viewer="ana").empty
        True
    """
    view = view or TeamView.load(store)
    return team.code_counts(store, hidden=view.hidden_map(viewer))


# ---------------------------------------------------------------------------- assignments
def _source_id(store: Store, source: str | int) -> int:
    frame = store.sources_df()
    column = "id" if isinstance(source, int) else "name"
    match = frame.loc[frame[column] == source, "id"]
    if match.empty:
        raise InvalidInput(f"no transcript {source!r} in project {store.name!r}",
                           fix="see the names with `qualkit info` or on the Study page")
    return int(match.iloc[0])


def assign(store: Store, source: str | int, coders: Sequence[str], *, actor: User, blind: bool = True) -> int:
    """Assign a transcript to coders (two for blind double-coding); returns how many assignments were added.

    Example:
        >>> from qualkit.users import Role
        >>> assign(Store.create("sqlite://", name="a"), "g1.txt", ["ana", "ben"],
        ...        actor=User("root", Role.ADMIN))  # doctest: +SKIP
        2
    """
    actor.require("assign")
    from qualkit.users import get_user

    coders = list(dict.fromkeys(c.strip() for c in coders if c and c.strip()))
    if not coders:
        raise InvalidInput("no coders given", fix="name two coders for blind double-coding")
    for name in coders:
        user = get_user(store, name)
        if user is None or not user.can_code():
            raise InvalidInput(f"{name!r} is not a user who may code",
                               fix=f"add them with `qualkit users add {name} --role coder`")
    return team.add_assignments(store, _source_id(store, source), coders, blind=blind, user=actor.name)


def unassign(store: Store, source: str | int, coder: str, *, actor: User) -> None:
    """Take a coder off a transcript (their decisions stay).

    Example:
        >>> unassign(Store.create("sqlite://", name="u"), 1, "ana", actor=User("r"))  # doctest: +SKIP
    """
    actor.require("assign")
    team.remove_assignment(store, _source_id(store, source), coder, user=actor.name)


def mark_done(store: Store, source: str | int, *, actor: User, coder: str | None = None, done: bool = True) -> None:
    """Mark the actor's assignment done; an administrator may also reopen (``done=False``) anyone's.

    Example:
        >>> mark_done(Store.create("sqlite://", name="d"), 1, actor=User("ana"))  # doctest: +SKIP
    """
    coder = coder or actor.name
    if coder != actor.name or not done:
        actor.require("assign")
    else:
        actor.require("code")
    team.set_assignment_done(store, _source_id(store, source), coder, done=done, user=actor.name)


# ---------------------------------------------------------------------------- deciding
def _check_can_decide(store: Store, view: TeamView, actor: User, source_id: int) -> bool:
    """Raise unless the actor may decide on this source now; True when decisions are own (blind) rows."""
    actor.require("code")
    if source_id not in view.blind_sources():
        return False
    coders = view.coders(source_id)
    if view.is_complete(source_id):
        raise PermissionDenied("this transcript's blind double-coding is finished",
                               fix="settle differences on the Double coding page (disagreements)")
    if actor.name not in coders:
        raise PermissionDenied(f"this transcript is being coded blind by {', '.join(coders)}",
                               fix="only they can decide on it until both are done")
    if view.is_done(actor.name, source_id):
        raise PermissionDenied("you marked this transcript done", fix="ask an administrator to reopen it")
    return True


def _check_code(store: Store, code_id: str) -> None:
    codebook = store.codebook()
    if code_id not in codebook:
        raise InvalidInput(f"unknown code {code_id!r}", fix="use a code id of the project's codebook")


def decide(
    store: Store,
    coding_id: int,
    decision: str,
    *,
    actor: User,
    expected_version: int | None = None,
    code_id: str | None = None,
    start: int | None = None,
    end: int | None = None,
    view: TeamView | None = None,
) -> Coding:
    """Record a reviewer's decision: ``accept``, ``reject``, ``change`` (to ``code_id``) or ``span`` (accept a new span).

    On a normal transcript the suggestion is decided in place and someone else's change since
    ``expected_version`` raises :class:`~qualkit.errors.ConflictError` (nothing is overwritten). On a
    transcript the actor codes blind, the decision becomes the actor's own row.

    Example:
        >>> decide(Store.create("sqlite://", name="x"), 1, "accept", actor=User("ana"))  # doctest: +SKIP
    """
    if decision not in DECISIONS:
        raise InvalidInput(f"unknown decision {decision!r}", fix=f"use one of {', '.join(DECISIONS)}")
    actor.require("code")
    coding = store.coding(coding_id)
    source_id = team.segment_source_ids(store, [coding.segment_id])[coding.segment_id]
    view = view or TeamView.load(store)
    if decision == "change":
        if not code_id:
            raise InvalidInput("a change needs the new code", fix="choose the code to apply instead")
        _check_code(store, code_id)
    own = _check_can_decide(store, view, actor, source_id)
    if own:
        if expected_version is not None and coding.version != expected_version:
            current = {"code_id": coding.code_id, "status": coding.status, "decided_by": coding.decided_by,
                       "version": coding.version}
            raise ConflictError(f"suggestion {coding_id} was changed (now {coding.status}) after you loaded it; "
                                "your decision was not saved", current=current)
        if decision == "accept":
            return team.set_own_decision(store, suggestion=coding, code_id=coding.code_id, status="accepted",
                                         user=actor.name, action="accept")
        if decision == "reject":
            return team.set_own_decision(store, suggestion=coding, code_id=coding.code_id, status="rejected",
                                         user=actor.name, action="reject")
        if decision == "span":
            return team.set_own_decision(store, suggestion=coding, code_id=coding.code_id, status="accepted",
                                         user=actor.name, start=start, end=end, action="adjust")
        return team.set_own_decisions(store, suggestion=coding, user=actor.name, decisions=[
            (coding.code_id, "rejected", None, None, "change"), (code_id, "accepted", start, end, "change")])[-1]
    if decision == "span":
        changes = {"status": "accepted"}
        changes |= {k: v for k, v in (("start", start), ("end", end)) if v is not None}
        return store.update_coding(coding_id, user=actor.name, expected_version=expected_version, action="adjust",
                                   **changes)
    return store.decide(coding_id, decision, user=actor.name, expected_version=expected_version, code_id=code_id,
                        start=start, end=end)


def add_code(
    store: Store, segment_id: int, code_id: str, *, actor: User, start: int | None = None, end: int | None = None,
    view: TeamView | None = None,
) -> Coding:
    """Apply a code to a segment (or an exact span of it) by hand: an accepted human coding by the actor.

    Example:
        >>> add_code(Store.create("sqlite://", name="c"), 1, "workload", actor=User("ana"))  # doctest: +SKIP
    """
    actor.require("code")
    _check_code(store, code_id)
    source_id = team.segment_source_ids(store, [segment_id]).get(segment_id)
    if source_id is None:
        raise InvalidInput(f"no segment {segment_id} in project {store.name!r}")
    _check_can_decide(store, view or TeamView.load(store), actor, source_id)
    coding = Coding(segment_id=segment_id, code_id=code_id, origin="human", status="accepted", coder=actor.name,
                    start=start, end=end, codebook_version=store.codebook().version, decided_by=actor.name)
    store.add_codings([coding], user=actor.name, action="code")
    return coding


def write_memo(store: Store, text: str, *, actor: User, segment_id: int | None = None,
               source_id: int | None = None, code_id: str | None = None) -> Memo:
    """Write a memo (coders and administrators; viewers only read).

    Example:
        >>> write_memo(Store.create("sqlite://", name="m"), "note", actor=User("ana")).author
        'ana'
    """
    actor.require("code")
    if not text.strip():
        raise InvalidInput("the memo is empty", fix="write something first")
    memo = Memo(text=text.strip(), author=actor.name, segment_id=segment_id, source_id=source_id, code_id=code_id)
    store.add_memo(memo, user=actor.name)
    return memo


# ---------------------------------------------------------------------------- the queue
def review_queue(
    project_or_store: Any,
    *,
    actor: User,
    limit: int = 20,
    offset: int = 0,
    source_id: int | None = None,
    code_id: str | None = None,
    view: TeamView | None = None,
    ranking: Mapping[int, float] | None = None,
) -> tuple[pd.DataFrame, int]:
    """A page of suggestions this user should review next, and how many there are in all.

    ``ranking`` (from :func:`rank_suggestions`, the coding area's active-learning order) puts the most
    informative suggestions first; without it the most uncertain scores come first. Blind transcripts
    appear only for their coders, and only with the suggestions they have not judged yet. The query is
    plain SQL either way, so it stays fast on large projects; the ranking is computed elsewhere (the app
    does it in the background after retraining).

    Example:
        >>> frame, total = review_queue(Store.create("sqlite://", name="q"), actor=User("ana"))
        >>> total, len(frame)
        (0, 0)
    """
    store: Store = getattr(project_or_store, "store", project_or_store)
    view = view or TeamView.load(store)
    return team.suggestion_queue(
        store, user=actor.name, limit=limit, offset=offset,
        source_ids=None if source_id is None else [source_id], code_ids=None if code_id is None else [code_id],
        hidden_source_ids=sorted(view.queue_hidden_sources(actor.name)),
        own_row_source_ids=sorted(view.own_row_sources(actor.name)), ranking=ranking)


def rank_suggestions(project: Any) -> dict[int, float] | None:
    """Priority of every pending suggestion (coding id -> priority, higher first) from ``Project.review_queue``.

    Returns None when the coding area's active-learning order is not available. This trains the
    learned coder when needed, so call it away from a user's click (the app runs it in the background).

    Example:
        >>> rank_suggestions(Store.create("sqlite://", name="r")) is None
        True
    """
    ranked = getattr(project, "review_queue", None)
    if ranked is None:
        return None
    total = int(project.store.codings_df(status="suggested").shape[0])
    frame = ranked(n=max(total, 1))
    if frame.empty:
        return {}
    return {int(i): float(p) for i, p in zip(frame["id"], frame["priority"], strict=True)}


def bulk_accept(
    store: Store, min_score: float, *, actor: User, source_id: int | None = None, code_id: str | None = None,
    preview: bool = False, view: TeamView | None = None,
) -> pd.DataFrame:
    """Accept every suggestion in the actor's queue scoring at least ``min_score`` (or, with ``preview``, list them).

    Returns the affected suggestions with a ``result`` column: ``accepted``, ``conflict`` (someone
    changed it meanwhile; not overwritten) or ``preview``.

    Example:
        >>> bulk_accept(Store.create("sqlite://", name="b"), 0.9, actor=User("ana"), preview=True).empty
        True
    """
    actor.require("code")
    view = view or TeamView.load(store)
    hidden, own = view.queue_hidden_sources(actor.name), view.own_row_sources(actor.name)
    frame = team.bulk_candidates(store, user=actor.name, min_score=min_score,
                                 source_ids=None if source_id is None else [source_id],
                                 code_ids=None if code_id is None else [code_id],
                                 hidden_source_ids=sorted(hidden), own_row_source_ids=sorted(own))
    frame = frame.assign(result="preview")
    if preview or frame.empty:
        return frame
    results = accept_many(store, list(zip(frame["id"], frame["version"], strict=True)), actor=actor, view=view)
    return frame.assign(result=[results.get(int(i), "conflict") for i in frame["id"]])


def accept_many(store: Store, items: Sequence[tuple[int, int]], *, actor: User,
                view: TeamView | None = None) -> dict[int, str]:
    """Accept exactly these suggestions (``(id, version)`` as shown to the user); returns id -> result.

    Each is version-checked: one someone changed since it was shown is a ``conflict`` and stays as it is.
    Suggestions on a transcript the actor codes blind become the actor's own rows; others the actor may
    not decide are ``refused``.

    Example:
        >>> accept_many(Store.create("sqlite://", name="m"), [], actor=User("ana"))
        {}
    """
    actor.require("code")
    if not items:
        return {}
    view = view or TeamView.load(store)
    hidden, own = view.queue_hidden_sources(actor.name), view.own_row_sources(actor.name)
    frame = team.codings_by_id(store, [int(i) for i, _ in items])
    source_of = dict(zip(frame["id"], frame["source_id"], strict=True))
    results: dict[int, str] = {}
    normal: list[tuple[int, int]] = []
    for coding_id, version in ((int(i), int(v)) for i, v in items):
        source_id = source_of.get(coding_id)
        if source_id is None:
            results[coding_id] = "gone"
        elif source_id in own:
            suggestion = store.coding(coding_id)
            team.set_own_decision(store, suggestion=suggestion, code_id=suggestion.code_id, status="accepted",
                                  user=actor.name, action="bulk-accept")
            results[coding_id] = "accepted"
        elif source_id in hidden:
            results[coding_id] = "refused"
        else:
            normal.append((coding_id, version))
    decided, conflicted = team.bulk_set_status(store, normal, "accepted", user=actor.name)
    results |= dict.fromkeys(decided, "accepted") | dict.fromkeys(conflicted, "conflict")
    return results


def coding_history(store: Store, coding_id: int, *, viewer: str | None = None,
                   view: TeamView | None = None) -> pd.DataFrame:
    """Every event about a coding and the rows derived from it (changes, own judgements), newest first.

    With ``viewer``, what they may not see yet (a blind co-coder's own rows and events) is left out.

    Example:
        >>> coding_history(Store.create("sqlite://", name="h"), 1).empty
        True
    """
    children = team.child_coding_ids(store, coding_id)
    if viewer is not None and children:
        view = view or TeamView.load(store)
        seen = visible_codings(team.codings_by_id(store, children), viewer, view)
        children = [int(i) for i in seen["id"]]
    events = store.events_df("coding", coding_id)
    frames = [events, *(store.events_df("coding", c) for c in children)]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return events
    history = pd.concat(frames).sort_values("id", ascending=False).reset_index(drop=True)
    if viewer is not None:
        history = visible_events(store, history, viewer, view or TeamView.load(store)).reset_index(drop=True)
    return history


# ---------------------------------------------------------------------------- disagreements and adjudication
def judgements(store: Store, source: str | int, *, actor: User, view: TeamView | None = None,
               include_untouched: bool = False) -> pd.DataFrame:
    """Each assigned coder's judgement of each (segment, code) on a finished blind transcript.

    One row per segment and code that any coder applied or any suggestion proposed; a column per
    coder holding ``yes`` (accepted), ``no`` (rejected) or ``-`` (not judged, so not applied);
    ``agree``; and the ``consensus`` status with its row id and version once adjudicated. Suggestions
    no coder judged are left out (they would only inflate agreement) unless ``include_untouched``.

    Example:
        >>> judgements(Store.create("sqlite://", name="j"), 1, actor=User("ana"))  # doctest: +SKIP
    """
    actor.require("view")
    view = view or TeamView.load(store)
    source_id = _source_id(store, source)
    coders = view.coders(source_id)
    if not coders:
        raise InvalidInput("this transcript is not assigned to coders", fix="assign it first")
    if not view.is_complete(source_id) and not actor.can_assign():
        raise PermissionDenied("the coders are not all done with this transcript",
                               fix="wait until every assigned coder marked it done")
    rows = team.human_rows_df(store, source_id=source_id, coders=coders)
    suggestions = store.codings_df(source=source_id, status="suggested")
    keys = pd.concat([rows[["segment_id", "code_id"]], suggestions[["segment_id", "code_id"]]]).drop_duplicates()
    segments = store.segments_df(source=source_id, attributes=False).set_index("id")
    records = []
    for seg_id, code in keys.itertuples(index=False):
        here = rows[(rows["segment_id"] == seg_id) & (rows["code_id"] == code)]
        record: dict[str, Any] = {"source_id": source_id, "segment_id": int(seg_id), "code_id": code,
                                  "speaker": segments.at[seg_id, "speaker"], "text": segments.at[seg_id, "text"]}
        for coder in coders:
            mine = here[((here["coder"] == coder) | (here["decided_by"] == coder)) & (here["decided_by"] != CONSENSUS)]
            if (mine["status"] == "accepted").any():
                record[coder] = "yes"
            elif (mine["status"] == "rejected").any():
                record[coder] = "no"
            else:
                record[coder] = "-"
        applied = {record[c] == "yes" for c in coders}
        record["agree"] = len(applied) == 1
        record["applied_by"] = ", ".join(c for c in coders if record[c] == "yes")
        agreed = here[here["decided_by"] == CONSENSUS]
        record["consensus"] = agreed["status"].iloc[0] if len(agreed) else None
        record["consensus_id"] = int(agreed["id"].iloc[0]) if len(agreed) else None
        record["consensus_version"] = int(agreed["version"].iloc[0]) if len(agreed) else None
        yes_rows = here[here["status"] == "accepted"]
        record["start"] = int(yes_rows["start"].iloc[0]) if len(yes_rows) else None
        record["end"] = int(yes_rows["end"].iloc[0]) if len(yes_rows) else None
        if include_untouched or any(record[c] != "-" for c in coders) or record["consensus"]:
            records.append(record)
    columns = ["source_id", "segment_id", "code_id", "speaker", "text", *coders, "agree", "applied_by",
               "consensus", "consensus_id", "consensus_version", "start", "end"]
    frame = pd.DataFrame(records, columns=columns)
    return frame.sort_values(["segment_id", "code_id"]).reset_index(drop=True)


def disagreements(store: Store, source: str | int, *, actor: User, view: TeamView | None = None) -> pd.DataFrame:
    """Where the coders of a finished blind transcript differ (see :func:`judgements` for the columns).

    Example:
        >>> disagreements(Store.create("sqlite://", name="d"), 1, actor=User("ana"))  # doctest: +SKIP
    """
    frame = judgements(store, source, actor=actor, view=view)
    return frame[~frame["agree"]].reset_index(drop=True)


def agreement_summary(frame: pd.DataFrame, coders: Sequence[str]) -> dict[str, Any]:
    """Counts and percent agreement over a :func:`judgements` frame, plus Cohen's kappa for two coders.

    Example:
        >>> f = pd.DataFrame({"a": ["yes", "yes", "no"], "b": ["yes", "-", "no"], "agree": [True, False, True]})
        >>> agreement_summary(f, ["a", "b"])["percent_agreement"]
        66.7
    """
    n = len(frame)
    agreed = int(frame["agree"].sum()) if n else 0
    summary: dict[str, Any] = {"judged": n, "agreements": agreed, "disagreements": n - agreed,
                               "percent_agreement": round(100 * agreed / n, 1) if n else None, "kappa": None}
    if n and len(coders) == 2:
        a = (frame[coders[0]] == "yes").to_numpy()
        b = (frame[coders[1]] == "yes").to_numpy()
        observed = float((a == b).mean())
        expected = float(a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean()))
        summary["kappa"] = round((observed - expected) / (1 - expected), 3) if expected < 1 else 1.0
    return summary


def adjudicate(
    store: Store, segment_id: int, code_id: str, *, apply: bool, actor: User, note: str = "",
    expected: dict[str, Any] | None = None, start: int | None = None, end: int | None = None,
    view: TeamView | None = None,
) -> Coding:
    """Settle a disagreement: the code applies (or not) to the segment, as agreed. The coders' rows stay.

    Allowed for administrators and the transcript's own coders once every coder is done. Pass
    ``expected`` (``{"id", "version"}`` of the consensus shown) to change an earlier settlement.

    Example:
        >>> adjudicate(Store.create("sqlite://", name="a"), 1, "workload", apply=True,
        ...            actor=User("ana"))  # doctest: +SKIP
    """
    actor.require("adjudicate")
    view = view or TeamView.load(store)
    source_id = team.segment_source_ids(store, [segment_id]).get(segment_id)
    if source_id is None:
        raise InvalidInput(f"no segment {segment_id} in project {store.name!r}")
    coders = view.coders(source_id)
    if not coders or not view.is_complete(source_id):
        raise PermissionDenied("only a finished double-coded transcript can be adjudicated",
                               fix="wait until every assigned coder marked it done")
    if actor.name not in coders and not actor.can_assign():
        raise PermissionDenied(f"only the transcript's coders ({', '.join(coders)}) or an administrator adjudicate")
    return team.set_consensus(store, segment_id=segment_id, code_id=code_id, apply=apply, user=actor.name,
                              note=note, start=start, end=end, expected=expected)


def settle_agreements(store: Store, source: str | int, *, actor: User, view: TeamView | None = None) -> int:
    """Record the consensus wherever the coders agree (applied by all, or by none of a suggestion); returns how many.

    A suggestion neither coder applied (rejected, or left alone before marking the transcript done)
    is settled as not applying, so no suggestion of a finished transcript is left pending.

    Example:
        >>> settle_agreements(Store.create("sqlite://", name="s"), 1, actor=User("ana"))  # doctest: +SKIP
    """
    view = view or TeamView.load(store)
    frame = judgements(store, source, actor=actor, view=view, include_untouched=True)
    settled = 0
    for row in frame[frame["agree"] & frame["consensus"].isna()].itertuples():
        apply = bool(row.applied_by)
        adjudicate(store, int(row.segment_id), str(row.code_id), apply=apply, actor=actor, view=view,
                   note="coders agreed", start=None if row.start is None or pd.isna(row.start) else int(row.start),
                   end=None if row.end is None or pd.isna(row.end) else int(row.end))
        settled += 1
    return settled


# ---------------------------------------------------------------------------- codebook changes by the team
def _validated(codebook: Codebook) -> Codebook:
    ids = [c.id for c in codebook.codes]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise InvalidInput(f"code ids {duplicates} are used twice", fix="give each code a unique id")
    for code in codebook.codes:
        if not code.id.strip() or not code.name.strip():
            raise InvalidInput("every code needs an id and a name")
        if code.parent is not None and code.parent not in ids:
            raise InvalidInput(f"{code.id}'s parent {code.parent!r} is not in the codebook",
                               fix="choose an existing parent or none")
    try:
        from qualkit.codebook import validate_codebook
    except ImportError:  # the codebook area's full checks (cycles, patterns) when installed
        return codebook
    return validate_codebook(codebook)


def save_codebook_version(store: Store, codebook: Codebook, *, actor: User, note: str,
                          expected_version: int | None = None) -> int:
    """Save an edited codebook as the next version (the old versions stay); returns the version.

    Example:
        >>> from qualkit.model import Code
        >>> from qualkit.users import Role
        >>> save_codebook_version(Store.create("sqlite://", name="cb"), Codebook("x", [Code("a", "A")]),
        ...                       actor=User("root", Role.ADMIN), note="first")
        1
    """
    actor.require("edit_codebook")
    codebook = _validated(codebook)
    return store.save_codebook(codebook, user=actor.name, note=note or "edited in the app",
                               expected_version=expected_version)


def update_code(store: Store, code_id: str, *, actor: User, note: str = "", expected_version: int | None = None,
                **fields: Any) -> int:
    """Change a code's fields (name, definition, inclusion, exclusion, examples, cues, colour, parent...).

    The id stays, so existing codings keep pointing at the code; renaming changes the name. Pass
    ``expected_version`` (the codebook version the editor showed): if someone saved another version
    since, :class:`~qualkit.errors.ConflictError` names it with the code's current values, nothing saved.

    Example:
        >>> update_code(store, "workload", actor=admin, definition="Hours and volume.")  # doctest: +SKIP
        3
    """
    actor.require("edit_codebook")
    codebook = store.codebook()
    if code_id not in codebook:
        raise InvalidInput(f"unknown code {code_id!r}")
    allowed = {f.name for f in dataclasses.fields(Code)} - {"id", "guid"}
    unknown = set(fields) - allowed
    if unknown:
        raise InvalidInput(f"cannot change {sorted(unknown)} of a code", fix=f"change only {sorted(allowed)}")
    if expected_version is not None and codebook.version != expected_version:
        _codebook_conflict(store, codebook, code_id, expected_version, fields)
    codes = [dataclasses.replace(c, **fields) if c.id == code_id else c for c in codebook.codes]
    changed = Codebook(codebook.name, codes, description=codebook.description)
    try:
        return save_codebook_version(store, changed, actor=actor, note=note or f"edited {code_id}",
                                     expected_version=expected_version)
    except ConflictError:  # saved by someone else between our read and write
        _codebook_conflict(store, store.codebook(), code_id, expected_version or codebook.version, fields)
        raise


def _codebook_conflict(store: Store, codebook: Codebook, code_id: str, expected: int, fields: dict[str, Any]) -> None:
    """Raise the conflict of a code edit made on an old codebook version, with the code's current values."""
    versions = store.codebook_versions()
    latest = versions[versions["name"] == codebook.name].tail(1)
    who = latest["created_by"].iloc[0] if len(latest) else None
    why = latest["note"].iloc[0] if len(latest) else ""
    code = codebook[code_id] if code_id in codebook else None  # noqa: SIM401 (Codebook has no get)
    current: dict[str, Any] = {"version": codebook.version, "saved_by": who, "note": why}
    if code is not None:
        current |= {k: getattr(code, k) for k in fields}
    else:
        current["code"] = f"{code_id} is no longer in the codebook"
    raise ConflictError(f"the codebook changed to version {codebook.version} (saved by {who or 'someone'}"
                        f"{': ' + why if why else ''}) after you opened version {expected}; your edit of {code_id} "
                        "was not saved", current=current,
                        fix="the page now shows the current values; make your change again if it is still needed")


def add_codebook_code(store: Store, code: Code, *, actor: User, note: str = "") -> int:
    """Add a new code to the codebook (a new version).

    Example:
        >>> add_codebook_code(store, Code("sleep", "Sleep"), actor=admin)  # doctest: +SKIP
        4
    """
    codebook = store.codebook()
    if code.id in codebook:
        raise InvalidInput(f"a code with id {code.id!r} already exists", fix="choose another id")
    changed = Codebook(codebook.name, [*codebook.codes, code], description=codebook.description)
    return save_codebook_version(store, changed, actor=actor, note=note or f"added {code.id}")


def merge_codes(store: Store, code_ids: Sequence[str], into: str, *, actor: User, note: str = "",
                expected_version: int | None = None) -> tuple[int, int]:
    """Merge codes into ``into``: their codings move to it (logged), then a codebook version without them.

    Children of a merged code move under ``into``. Returns ``(codebook version, codings moved)``.

    Example:
        >>> merge_codes(store, ["paperwork"], "administrative_burden", actor=admin)  # doctest: +SKIP
        (5, 12)
    """
    actor.require("edit_codebook")
    codebook = store.codebook()
    merged = [c for c in dict.fromkeys(code_ids) if c != into]
    for code_id in [*merged, into]:
        if code_id not in codebook:
            raise InvalidInput(f"unknown code {code_id!r}")
    if not merged:
        raise InvalidInput("choose at least one code to merge into another")
    codes = [dataclasses.replace(c, parent=into if c.parent in merged else c.parent)
             for c in codebook.codes if c.id not in merged]
    changed = _validated(Codebook(codebook.name, codes, description=codebook.description))
    # One transaction: the codings move and the codebook without the merged codes is saved, or neither.
    return team.merge_codes(store, merged, into, changed, user=actor.name,
                            note=note or f"merged {', '.join(merged)} into {into}",
                            expected_version=expected_version)


def split_code(store: Store, code_id: str, parts: Sequence[tuple[str, str]], *, actor: User,
               note: str = "") -> int:
    """Split a code into new codes ``(id, name)`` under it; the old code becomes a category (not codable).

    Its existing codings stay on the old code for the team to recode; new codings use the parts.

    Example:
        >>> split_code(store, "workload", [("hours", "Long hours"), ("staffing", "Understaffing")],
        ...            actor=admin)  # doctest: +SKIP
        6
    """
    codebook = store.codebook()
    if code_id not in codebook:
        raise InvalidInput(f"unknown code {code_id!r}")
    parts = [(i.strip(), n.strip()) for i, n in parts if i and i.strip()]
    if len(parts) < 2:
        raise InvalidInput("a split needs at least two new codes", fix="give each an id and a name")
    original = codebook[code_id]
    codes: list[Code] = []
    for code in codebook.codes:
        if code.id != code_id:
            codes.append(code)
            continue
        codes.append(dataclasses.replace(code, codable=False))
        codes += [Code(new_id, name or new_id, parent=code_id, definition=f"Part of {original.name}.")
                  for new_id, name in parts]
    changed = Codebook(codebook.name, codes, description=codebook.description)
    return save_codebook_version(store, changed, actor=actor,
                                 note=note or f"split {code_id} into {', '.join(i for i, _ in parts)}")


# ---------------------------------------------------------------------------- exact passages
def locate_passage(segment_text: str, segment_start: int, passage: str, *, occurrence: int = 1) -> tuple[int, int]:
    """Absolute (start, end) of ``passage`` inside a segment, computed from the stored text.

    An exact match wins; otherwise runs of whitespace match any whitespace (a passage copied from
    the browser has CRLF and double spaces collapsed). ``occurrence`` picks among repeats.

    Example:
        >>> locate_passage("Paperwork,\\r\\nthe  EHR.", 40, "Paperwork, the EHR")
        (40, 60)
    """
    passage = passage.strip()
    if not passage:
        raise InvalidInput("the passage is empty", fix="paste or type the words to code")
    words = passage.split()
    pattern = re.compile(r"\s+".join(re.escape(w) for w in words))
    exact = [m.start() for m in re.finditer(re.escape(passage), segment_text)]
    matches = [(s, s + len(passage)) for s in exact] or [m.span() for m in pattern.finditer(segment_text)]
    if not matches:
        raise InvalidInput(f"{passage[:60]!r} is not in this segment", fix="copy the words exactly from the segment")
    if not 1 <= occurrence <= len(matches):
        raise InvalidInput(f"the passage occurs {len(matches)} times", fix=f"choose an occurrence from 1 to {len(matches)}")
    start, end = matches[occurrence - 1]
    return segment_start + start, segment_start + end


def word_spans(text: str, base: int = 0) -> list[tuple[int, int]]:
    """Absolute (start, end) of each word of a segment, for picking a span word by word.

    Example:
        >>> word_spans("I am tired.", 10)
        [(10, 11), (12, 14), (15, 21)]
    """
    return [(base + m.start(), base + m.end()) for m in re.finditer(r"\S+", text)]


__all__ = [
    "CONSENSUS",
    "DECISIONS",
    "TeamView",
    "accept_many",
    "add_code",
    "add_codebook_code",
    "adjudicate",
    "agreement_summary",
    "assign",
    "bulk_accept",
    "code_counts",
    "code_examples",
    "coding_history",
    "decide",
    "disagreements",
    "hidden_coders_anywhere",
    "judgements",
    "locate_passage",
    "mark_done",
    "merge_codes",
    "rank_suggestions",
    "review_queue",
    "save_codebook_version",
    "sees_everything",
    "settle_agreements",
    "split_code",
    "unassign",
    "update_code",
    "visible_codings",
    "visible_events",
    "visible_memos",
    "word_spans",
    "write_memo",
]

"""Who may see what while a transcript is coded blind: the team's assignments and the filters every surface uses.

A source is in its *blind period* while it has blind assignments and not every assigned coder is done;
during it, a coder does not see the other coders' decisions, memos or events, nor those anyone else took
there before the assignment (an administrator's earlier accepts would anchor both coders). :class:`TeamView` answers
those questions from one snapshot of the assignments, and the ``visible_*`` functions apply the rule to
frames of codings, memos and events.

Example:
    >>> sees_everything("ana", TeamView())
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from qualkit.store import queries
from qualkit.store.assignments import assignments_df
from qualkit.store.memos import memo_source_ids
from qualkit.store.repository import Store
from qualkit.store.sources import segment_source_ids


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
    deciders: Mapping[int, set[str]] = field(default_factory=dict)
    """Per blind source, everyone whose decisions are on it (see :func:`load`)."""

    @classmethod
    def load(cls, store: Store, assignments: pd.DataFrame | None = None) -> TeamView:
        """Read the current assignments (or take ``assignments`` just read) and who decided on blind transcripts.

        Example:
            >>> TeamView.load(Store.create("sqlite://", name="v")).blind_sources()
            set()
        """
        assignments = assignments_df(store) if assignments is None else assignments
        blind = assignments.loc[assignments["blind"].astype(bool), "source_id"]
        return cls(assignments, queries.decider_names(store, [int(s) for s in blind]))

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

    def not_done(self, source_id: int) -> list[str]:
        """The coders assigned to a source who have not marked it done yet.

        Example:
            >>> TeamView(pd.DataFrame({"source_id": [1, 1], "coder": ["ana", "ben"], "blind": [True] * 2,
            ...     "done": [True, False]})).not_done(1)
            ['ben']
        """
        rows = self._rows(source_id)
        return rows.loc[~rows["done"].astype(bool), "coder"].tolist()

    def in_blind_period(self, source_id: int) -> bool:
        """True while coders of a blind assignment must not see each other's decisions."""
        return source_id in self.blind_sources() and not self.is_complete(source_id)

    def is_done(self, user: str, source_id: int) -> bool:
        """True when ``user`` marked their assignment on the source done."""
        rows = self._rows(source_id)
        return bool(rows.loc[rows["coder"] == user, "done"].astype(bool).any())

    def hidden_coders(self, user: str, source_id: int) -> set[str]:
        """Whose decisions ``user`` may not see on this source: during the blind period, if ``user`` codes it,
        everyone else's (the other blind coders', and those anyone took there before).

        Example:
            >>> TeamView(pd.DataFrame({"source_id": [1, 1], "coder": ["ana", "ben"], "blind": [True] * 2,
            ...     "done": [False] * 2}), {1: {"maria", "ana"}}).hidden_coders("ana", 1) == {"ben", "maria"}
            True
        """
        if not self.in_blind_period(source_id):
            return set()
        coders = set(self.coders(source_id))
        return (coders | set(self.deciders.get(source_id, ()))) - {user} if user in coders else set()

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

    A machine suggestion decided in place by a hidden coder stays, shown as still suggested: the user judges
    it afresh.

    Example:
        >>> view = TeamView(assignments=pd.DataFrame(
        ...     {"source_id": [1, 1], "coder": ["ana", "ben"], "blind": [True, True], "done": [False, False]}))
        >>> rows = pd.DataFrame({"source_id": [1, 1, 1], "coder": ["ana", "ben", "auto"],
        ...                      "decided_by": [None, "ben", None], "status": ["accepted"] * 2 + ["suggested"]})
        >>> visible_codings(rows, "ana", view)["coder"].tolist()
        ['ana', 'auto']
        >>> rows.loc[2, ["status", "decided_by"]] = ["accepted", "ben"]  # decided by ben before the assignment
        >>> shown = visible_codings(rows, "ana", view)
        >>> shown[["coder", "status"]].values.tolist(), shown["decided_by"].isna().tolist()
        ([['ana', 'accepted'], ['auto', 'suggested']], [True, True])
    """
    hidden = view.hidden_map(user) if not view.assignments.empty else {}
    if frame.empty or not hidden:
        return frame
    keep = pd.Series(True, index=frame.index)
    judged = pd.Series(False, index=frame.index)
    for source_id, coders in hidden.items():
        on_source = frame["source_id"] == source_id
        keep &= ~(on_source & frame["coder"].isin(coders))
        judged |= on_source & ~frame["coder"].isin(coders) & frame["decided_by"].isin(coders)
    # A machine suggestion someone decided in place (before the assignment) is still the user's to judge:
    # it is shown as it was before that decision, so it is offered, without telling what was decided.
    frame = frame[keep].copy()
    judged = judged[keep]
    if judged.any():
        frame.loc[judged, "status"] = "suggested"
        for column in ("decided_by", "decided_at"):
            if column in frame:
                frame.loc[judged, column] = None
    return frame


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
    source_of = segment_source_ids(store, segment_ids)
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
    coding_sources = queries.coding_source_ids(store, coding_ids)
    memo_sources = memo_source_ids(store, memo_ids)
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
    return queries.code_examples(store, code_id, limit=limit, hidden=view.hidden_map(viewer))


def code_counts(store: Store, *, viewer: str, view: TeamView | None = None) -> pd.DataFrame:
    """Codings per code and status, counting only rows ``viewer`` may see.

    Example:
        >>> code_counts(Store.create("sqlite://", name="cc"), viewer="ana").empty
        True
    """
    view = view or TeamView.load(store)
    return queries.code_counts(store, hidden=view.hidden_map(viewer))


__all__ = [
    "TeamView",
    "code_counts",
    "code_examples",
    "hidden_coders_anywhere",
    "sees_everything",
    "visible_codings",
    "visible_events",
    "visible_memos",
]

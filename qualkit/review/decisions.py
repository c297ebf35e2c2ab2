"""Deciding on codings: accept, reject, change or adjust a suggestion, code by hand, memos (write, edit, delete,
restore), and the review queue.

On a normal transcript a decision updates the suggestion in place (``Store.decide``: version-checked,
logged with the old and new values). On a transcript the actor codes *blind*, each decision becomes the
actor's own human row (``coder=<user>``, ``parent_id=<suggestion>``) and the suggestion stays
``suggested`` until adjudication (see :mod:`qualkit.review.double_coding`).

Example:
    >>> frame, total = review_queue(Store.create("sqlite://", name="q"), actor=User("ana"))
    >>> total, len(frame)
    (0, 0)
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import pandas as pd

from qualkit.checks import check_code
from qualkit.errors import ConflictError, InvalidInput, PermissionDenied, StoreError
from qualkit.model import Coding, Memo
from qualkit.review.visibility import TeamView, visible_codings, visible_events
from qualkit.store.decisions import (
    bulk_set_status,
    change_withdrawals,
    restore_codings,
    set_own_decision,
    set_own_decisions,
    state_events,
    state_histories,
    user_state_events,
)
from qualkit.store.queries import (
    bulk_candidates,
    child_coding_ids,
    codings_by_id,
    segment_ids_under_review,
    suggestion_queue,
)
from qualkit.store.repository import Store
from qualkit.store.sources import segment_source_ids
from qualkit.users import User

DECISIONS = ("accept", "reject", "change", "span")


def _check_can_decide(store: Store, view: TeamView, actor: User, source_id: int) -> bool:
    """Raise unless the actor may decide on this source now; True when decisions are own (blind) rows."""
    actor.require("code")
    if source_id not in view.blind_sources():
        return False
    coders = view.coders(source_id)
    if view.is_complete(source_id):
        raise PermissionDenied("this transcript's blind double-coding is finished",
                               fix="settle differences on the Double coding page (disagreements)",
                               cli_fix="settle differences with `qualkit assign disagreements` and `qualkit assign settle`")
    if actor.name not in coders:
        raise PermissionDenied(f"this transcript is being coded blind by {', '.join(coders)}",
                               fix="only they can decide on it until both are done")
    if view.is_done(actor.name, source_id):
        raise PermissionDenied("you marked this transcript done", fix="ask an administrator to reopen it")
    return True


def _check_not_coded(store: Store, code_id: str, spans: Sequence[tuple[int, int | None, int | None]], *,
                     coder: str | None = None, fix: str = "choose another code, or select other words",
                     other_than: int | None = None) -> None:
    """Refuse a code on words that already carry it, accepted: a second row would count and export twice.

    ``coder``: while a transcript is coded blind only the actor's own rows count (the other coder's are theirs).
    ``other_than``: the coding being decided (accepted by someone else meanwhile, it is a conflict, told as such).
    """
    segment_ids = sorted({int(segment_id) for segment_id, _, _ in spans})
    accepted = store.codings_df(status="accepted", code_id=code_id, segment_ids=segment_ids)
    accepted = accepted[accepted["id"] != other_than]
    if coder is not None:
        accepted = accepted[(accepted["coder"] == coder) | (accepted["decided_by"] == coder)]
    for row in accepted.itertuples():
        for segment_id, start, end in spans:
            if int(segment_id) == int(row.segment_id) and _codes_the_words(row, start, end):
                words = str(row.segment_text)[row.start - row.segment_start:row.end - row.segment_start]
                words = textwrap.shorten(words, 60, placeholder="…")
                raise InvalidInput(f"“{words}” is already coded {code_id} (coding {row.id}); nothing was added",
                                   fix=fix)


def _suggested_on_the_same_words(store: Store, code_id: str, span: tuple[int, int | None, int | None]) -> int | None:
    """The id of a suggestion awaiting review that codes exactly these words with this code, if any."""
    segment_id, start, end = span
    pending = store.codings_df(status="suggested", code_id=code_id, segment_ids=[int(segment_id)])
    for row in pending.loc[pending["origin"] != "human"].itertuples():
        if _codes_the_words(row, start, end):
            return int(row.id)
    return None


def _codes_the_words(row: Any, start: int | None, end: int | None) -> bool:
    """True when a coding row (of its own segment) covers exactly ``start``-``end`` (None: the turn's edge)."""
    return (row.segment_start if start is None else start, row.segment_end if end is None else end) == \
        (row.start, row.end)


def _check_not_judged_since(store: Store, suggestion: Coding, actor: User) -> None:
    """Refuse a blind coder's decision on a card they judged already (their judgement is their own row).

    The suggestion's version does not change when a blind coder judges it, so a key press meant for the
    next card that reached the one just judged turned its "reject" into an "accept", without a word.
    """
    own = store.codings_df(segment_ids=[int(suggestion.segment_id)], code_id=suggestion.code_id, coder=actor.name,
                           origin="human")
    judged = own[own["status"].isin(["accepted", "rejected"])]
    if judged.empty:
        return
    row = judged.iloc[0]
    raise ConflictError(f"you judged suggestion {suggestion.id} already ({row['status']}); this decision was not saved",
                        current={"code_id": suggestion.code_id, "status": row["status"], "decided_by": actor.name,
                                 "version": int(suggestion.version)})


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
    source_id = segment_source_ids(store, [coding.segment_id])[coding.segment_id]
    view = view or TeamView.load(store)
    if decision == "change":
        if not code_id:
            raise InvalidInput("a change needs the new code", fix="choose the code to apply instead")
        check_code(store.codebook(), code_id, coded=True)
        if code_id == coding.code_id:  # rejected the suggestion and made a new row of the very same code
            raise InvalidInput(f"coding {coding_id} has the code {code_id!r} already; nothing changed",
                               fix="choose another code, or accept it")
    if expected_version is not None and expected_version > coding.version:
        # "changed by someone else after you loaded version 7" described a version nobody ever saw
        raise InvalidInput(f"coding {coding_id} has no version {expected_version} (it is at version "
                           f"{coding.version}); nothing changed", fix="list the queue again and use the version it shows")
    own = _check_can_decide(store, view, actor, source_id)
    if own and coding.origin == "human" and coding.coder == actor.name and coding.parent_id is None:
        # A blind coder's own hand code is hers to change in place: taken for a judgement of a suggestion, a
        # wider extent was refused as "you judged suggestion 93 already" after she had rejected the machine's.
        own = False
    span = [(coding.segment_id, coding.start if start is None else start, coding.end if end is None else end)]
    if decision == "change":
        _check_not_coded(store, code_id, span, coder=actor.name if own else None)
    elif decision in ("accept", "span") and coding.status != "accepted":
        # The same words coded by hand meanwhile: accepting the suggestion too counted and exported them twice.
        _check_not_coded(store, coding.code_id, span, coder=actor.name if own else None,
                         fix="reject this suggestion: the words carry the code already", other_than=coding.id)
    if own:
        if expected_version is not None:
            _check_not_judged_since(store, coding, actor)
        if expected_version is not None and coding.version != expected_version:
            current = {"code_id": coding.code_id, "status": coding.status, "decided_by": coding.decided_by,
                       "version": coding.version}
            raise ConflictError(f"suggestion {coding_id} was changed (now {coding.status}) after you loaded it; "
                                "your decision was not saved", current=current)
        if decision == "accept":
            return set_own_decision(store, suggestion=coding, code_id=coding.code_id, status="accepted",
                                         user=actor.name, action="accept")
        if decision == "reject":
            return set_own_decision(store, suggestion=coding, code_id=coding.code_id, status="rejected",
                                         user=actor.name, action="reject")
        if decision == "span":
            return set_own_decision(store, suggestion=coding, code_id=coding.code_id, status="accepted",
                                         user=actor.name, start=start, end=end, action="adjust")
        return set_own_decisions(store, suggestion=coding, user=actor.name, decisions=[
            (coding.code_id, "rejected", None, None, "change"), (code_id, "accepted", start, end, "change")])[-1]
    unchanged = {"accept": "accepted", "reject": "rejected"}.get(decision) == coding.status
    if unchanged and expected_version in (None, coding.version):
        # A second "reject" of a rejected coding was logged as a decision, and the next undo took back that
        # no-op instead of the person's real last action.
        raise InvalidInput(f"coding {coding_id} is already {coding.status} (by {coding.decided_by or 'nobody'}); "
                           "nothing changed", fix="revert it first to decide on it again")
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

    Where a suggestion awaiting review codes exactly these words with this code, that suggestion is
    accepted instead (one row, decided by the actor, undone as any accept), so the queue does not keep
    asking about words the person has just coded.

    Example:
        >>> add_code(Store.create("sqlite://", name="c"), 1, "workload", actor=User("ana"))  # doctest: +SKIP
    """
    return add_codes(store, [(segment_id, start, end)], code_id, actor=actor, view=view)[0]


def add_codes(
    store: Store, spans: Sequence[tuple[int, int | None, int | None]], code_id: str, *, actor: User,
    view: TeamView | None = None,
) -> list[Coding]:
    """Apply one code by hand to several ``(segment_id, start, end)`` spans in ONE transaction: all or none.

    A reader's selection across turns is coded as one passage per turn (each stays attributed to
    its speaker); a bad span or a refused transcript saves none of them.

    Example:
        >>> add_codes(Store.create("sqlite://", name="c2"), [(1, None, None)], "workload", actor=User("ana"))  # doctest: +SKIP
    """
    actor.require("code")
    check_code(store.codebook(), code_id, coded=True)
    if not spans:
        raise InvalidInput("nothing to code", fix="select some words first")
    sources = segment_source_ids(store, [segment_id for segment_id, _, _ in spans])
    view = view or TeamView.load(store)
    for segment_id, _, _ in spans:
        if segment_id not in sources:
            raise InvalidInput(f"no segment {segment_id} in project {store.name!r}")
    blind = [_check_can_decide(store, view, actor, source_id) for source_id in dict.fromkeys(sources.values())]
    _check_not_coded(store, code_id, spans, coder=actor.name if any(blind) else None)
    if len(spans) == 1 and (pending := _suggested_on_the_same_words(store, code_id, spans[0])) is not None:
        # The person agrees with the machine: a second row left the suggestion waiting in the queue, where
        # accepting it too would have counted the words twice.
        return [decide(store, pending, "accept", actor=actor, view=view)]
    version = store.codebook().version
    codings = [Coding(segment_id=segment_id, code_id=code_id, origin="human", status="accepted", coder=actor.name,
                      start=start, end=end, codebook_version=version, decided_by=actor.name)
               for segment_id, start, end in spans]
    store.add_codings(codings, user=actor.name, action="code")
    return codings


UNDO_WINDOW = 200
"""How many of a user's newest decisions :func:`last_decision` looks through for one still standing."""


def _prior_values(store: Store, coding: Coding, event: dict, *, own: bool, actor: User) -> dict:
    """The values a coding had before ``event`` (its newest state event), as :func:`restore_codings` takes them."""
    old = event["old"]
    if old is None:  # the decision created this row: withdraw it, keeping it on record
        if own and _judges_its_parent(store, coding):  # a blind coder's judgement of a suggestion: back to "not
            return {"status": "suggested", "decided_by": None}  # judged yet" (the card returns to their queue)
        # A passage coded by hand (blind or not), or the new code of a change, is taken back by its coder
        # (rejected by its own coder: counted as no rejection, see qualkit.model.withdrawn_by_author). As
        # "suggested" a hand code came back as a card to accept, and a blind change's new code was counted
        # as a suggestion awaiting review that no queue showed.
        return {"status": "rejected", "decided_by": actor.name}  # as "remove" on the Transcript page
    values = {k: old[k] for k in ("status", "code_id", "start", "end", "decided_by") if k in old}
    if values.get("status") == "suggested" and "decided_by" not in values:
        values["decided_by"] = None
    elif "status" in values and "decided_by" not in values:
        values["decided_by"] = event["user"] if coding.origin != "human" else coding.coder
    return values


def _judges_its_parent(store: Store, coding: Coding) -> bool:
    """True when a person's row judges the suggestion it points to (same code), not a change to another code."""
    if coding.parent_id is None:
        return False
    parent = _still_there(store, int(coding.parent_id))
    return parent is not None and parent.code_id == coding.code_id


def _root_action(event: Mapping[str, Any], history: Sequence[Mapping[str, Any]]) -> str:
    """The action an event finally stands for: a revert's (an undo's, a redo's) is that of the decision it took back."""
    by_id = {int(e["id"]): e for e in history}
    seen: set[int] = set()
    while event["action"] == "revert" and int(event["id"]) not in seen:
        seen.add(int(event["id"]))
        target = by_id.get(int((event["new"] or {}).get("reverts_event") or 0))
        if target is None:
            break
        event = target
    return str(event["action"])


def _change_partners(store: Store, coding: Coding, event: dict) -> list[tuple[Coding, dict]]:
    """The other row a "change" decided in the same step (the rejected suggestion and the new code's row).

    Its undo took back both rows in one step, so undoing that undo (a redo) puts back both too: the partner's
    newest event is then of the same kind (an undo of the change, or a redo), by the same person at the same time.
    """
    related = set(child_coding_ids(store, int(coding.id)))
    if coding.parent_id is not None:
        related |= {int(coding.parent_id), *child_coding_ids(store, int(coding.parent_id))}
    related.discard(int(coding.id))
    histories = state_histories(store, sorted(related))
    out = []
    for other_id, history in sorted(histories.items()):
        other = history[-1]
        if other["action"] == event["action"] and other["user"] == event["user"] and \
                abs((other["at"] - event["at"]).total_seconds()) < 5 and _root_action(other, history) == "change":
            out.append((store.coding(other_id), other))
    return out


def _withdrawn_by_the_change(store: Store, rows: Sequence[tuple[Coding, dict]]) -> dict[str, Any]:
    """What :func:`restore_codings` does beside a change's two rows: put back, or withdraw again, the suggestions of
    the new code on the same words that the change withdrew (an undone change left them gone)."""
    for coding, values in rows:
        if coding.parent_id is None or _judges_its_parent(store, coding):
            continue
        suggestion_id = int(coding.parent_id)  # the change's new code's row
        if values.get("status", coding.status) == "accepted":  # the change done again
            start, end = values.get("start", coding.start), values.get("end", coding.end)
            return {"withdraw": (int(coding.segment_id), str(values.get("code_id", coding.code_id)), int(start),
                                 int(end), suggestion_id)}
        withdrawn = change_withdrawals(store, suggestion_id)
        return {} if withdrawn is None else {"put_back": withdrawn["rows"], "put_back_event": withdrawn["id"]}
    return {}


def standing_events(history: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The events of one coding's history (oldest first) that no undo has taken back, oldest first.

    An undo (a ``revert`` event) takes back the event it names; undoing an undo puts that event back. The
    last one standing is what the next undo on the coding takes back, so undo goes back step by step.

    Example:
        >>> history = [{"id": 1, "action": "code", "new": {}}, {"id": 2, "action": "adjust", "new": {}},
        ...            {"id": 3, "action": "reject", "new": {}}, {"id": 4, "action": "revert", "new": {"reverts_event": 3}}]
        >>> [event["id"] for event in standing_events(history)]
        [1, 2]
    """
    by_id = {int(event["id"]): event for event in history}
    standing: list[Mapping[str, Any]] = []
    for event in history:
        if event["action"] != "revert":
            standing.append(event)
            continue
        target = by_id.get(int((event["new"] or {}).get("reverts_event") or 0))
        if target is not None and target["action"] == "revert":  # an undo undone: what it took back stands again
            target = by_id.get(int((target["new"] or {}).get("reverts_event") or 0))
            if target is not None and target not in standing:
                standing.append(target)
        elif target in standing:
            standing.remove(target)
    return standing


class Standing(NamedTuple):
    """A person's decision that still stands: the coding, its version now, and the event to take back."""

    coding_id: int
    version: int
    event_id: int


def revert_decision(
    store: Store, coding_id: int, *, expected_version: int | None, actor: User, view: TeamView | None = None,
    event_id: int | None = None,
) -> Coding:
    """Undo the newest decision on a coding: put back what it was before, as a NEW ``revert`` event.

    Nothing is deleted. A decided suggestion becomes a suggestion again (back in the queue); a span
    adjustment gets its old span back; a change takes back both rows it made (the suggestion is
    pending again, the new code's row is kept on record as taken back by its coder: rejected by them,
    which no count takes for a rejection) and puts back the suggestions of the new code on those words
    that it withdrew; a passage coded by hand is kept on record the same way. While a transcript is coded blind, a coder undoes only their own
    judgements (which then count as not judged yet), until they mark it done. Undoing an undo
    redoes (a change whole again). ``event_id`` names the decision to take back instead (as :func:`last_decision` gives it), so
    that undo after undo goes further back; it must be the coding's newest decision still standing.
    ``expected_version`` is the version the user saw: someone else's change since raises
    :class:`~qualkit.errors.ConflictError` and nothing is undone. Viewers are refused.

    Example:
        >>> revert_decision(Store.create("sqlite://", name="u"), 1, expected_version=2,  # doctest: +SKIP
        ...                 actor=User("ana")).status
        'suggested'
    """
    actor.require("code")
    coding = store.coding(coding_id)
    source_id = segment_source_ids(store, [coding.segment_id])[coding.segment_id]
    view = view or TeamView.load(store)
    own = _check_can_decide(store, view, actor, source_id)
    if own and not (coding.origin == "human" and coding.coder == actor.name):
        mine = store.codings_df(coder=actor.name, origin="human", segment_ids=[coding.segment_id])
        mine = mine.loc[mine["parent_id"] == coding_id] if "parent_id" in mine else mine.iloc[0:0]
        if len(mine):  # the suggestion itself: a blind decision on it is the coder's own row
            raise PermissionDenied(f"coding {coding_id} is the machine's suggestion; your decision on it is coding "
                                   f"{int(mine['id'].iloc[-1])}", fix=f"revert coding {int(mine['id'].iloc[-1])}")
        raise PermissionDenied("while you code this transcript blind you can undo only your own judgements",
                               fix="undo from your review queue, the transcript or History")
    expected = int(coding.version if expected_version is None else expected_version)
    if coding.version != expected:
        current = {"code_id": coding.code_id, "status": coding.status, "decided_by": coding.decided_by,
                   "version": coding.version, "segment_id": coding.segment_id}
        raise ConflictError(f"coding {coding_id} was changed (now {coding.status}, version {coding.version}) after "
                            f"you loaded version {expected}; nothing was undone", current=current)
    if event_id is None:
        event = state_events(store, [coding_id]).get(int(coding_id))
    else:
        standing = standing_events(state_histories(store, [coding_id]).get(int(coding_id), []))
        event = standing[-1] if standing else None
        if event is None or int(event["id"]) != int(event_id):
            raise InvalidInput(f"decision {event_id} on coding {coding_id} is not its newest one still standing; "
                               "nothing was undone", fix="undo the newer decision on it first (History lists them)")
    if event is None or (event["action"] == "add" and coding.origin != "human"):
        raise InvalidInput(f"coding {coding_id} has no decision to undo", fix="decide on it instead")
    if event["action"] == "adjudicate":
        raise InvalidInput("an adjudicated decision is not undone here",
                           fix="settle the disagreement again on the Double coding page",
                           cli_fix="take it back with `qualkit assign unsettle`, then settle it again")
    steps = [(int(coding_id), expected, _prior_values(store, coding, event, own=own, actor=actor), int(event["id"]))]
    extra: dict[str, Any] = {}
    history = state_histories(store, [coding_id]).get(int(coding_id), [])
    if event["action"] in ("change", "revert") and _root_action(event, history) == "change":
        rows = [(coding, steps[0][2])]
        for other, other_event in _change_partners(store, coding, event):
            values = _prior_values(store, other, other_event, own=own, actor=actor)
            steps.append((int(other.id), int(other.version), values, int(other_event["id"])))
            rows.append((other, values))
        if not own:  # a blind coder's change is her own rows only: it withdrew nothing
            extra = _withdrawn_by_the_change(store, rows)
    return restore_codings(store, steps, user=actor.name, **extra)[0]


def last_decision(store: Store, *, actor: User) -> Standing | None:
    """The actor's newest decision still standing, as ``(coding_id, version, event_id)``; None when there is none.

    "Standing" means no undo took it back and any later decision on that coding (by anyone) was itself
    undone, so undoing it (``revert_decision(..., event_id=...)``) takes back exactly that decision, and
    undo after undo goes back step by step, also on one coding.

    Example:
        >>> last_decision(Store.create("sqlite://", name="l"), actor=User("ana")) is None
        True
    """
    mine = user_state_events(store, actor.name, limit=UNDO_WINDOW)
    if not mine:
        return None
    histories = state_histories(store, [e["coding_id"] for e in mine])
    for event in mine:
        if event["action"] == "add":
            continue
        standing = standing_events(histories.get(event["coding_id"], []))
        if standing and standing[-1]["id"] == event["id"]:
            coding = _still_there(store, event["coding_id"])
            if coding is None:  # its turn was withdrawn (qualkit.store.withdrawal): nothing left to undo there
                continue
            return Standing(event["coding_id"], int(coding.version), int(event["id"]))
    return None


def _still_there(store: Store, coding_id: int) -> Coding | None:
    """The coding, or None when it is gone with a withdrawn participant's turn."""
    try:
        return store.coding(coding_id)
    except StoreError:
        return None


def last_bulk(store: Store, *, actor: User) -> list[tuple[int, int]]:
    """The codings of the actor's newest decision when it is a bulk accept, as ``(coding_id, version)``; else ``[]``.

    A tab opened anew offered to undo one suggestion of a stranger's bulk accept of 76, as if it were the whole.
    Only those of the bulk that still stand are listed (one someone changed since is left as it is).

    Example:
        >>> last_bulk(Store.create("sqlite://", name="lb"), actor=User("ana"))
        []
    """
    last = last_decision(store, actor=actor)
    if last is None:
        return []
    mine = user_state_events(store, actor.name, limit=UNDO_WINDOW + 10_000)
    event = next((e for e in mine if e["id"] == last.event_id), None)
    if event is None or event["action"] != "bulk-accept":
        return []
    batch = [e for e in mine if e["action"] == "bulk-accept" and e["at"] == event["at"]]
    newest = state_events(store, [e["coding_id"] for e in batch])
    standing = [e["coding_id"] for e in batch if newest.get(e["coding_id"], {}).get("id") == e["id"]]
    return [(int(c.id), int(c.version)) for c in (_still_there(store, i) for i in standing) if c is not None]


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
    if code_id is not None:
        check_code(store.codebook(), code_id)
    if segment_id is not None and segment_id not in segment_source_ids(store, [segment_id]):
        raise InvalidInput(f"no segment {segment_id} in project {store.name!r}", fix="use a segment id of this project")
    memo = Memo(text=text.strip(), author=actor.name, segment_id=segment_id, source_id=source_id, code_id=code_id)
    store.add_memo(memo, user=actor.name)
    return memo


def _own_memo(store: Store, memo_id: int, actor: User, *, what: str, admin_may: bool) -> dict:
    """The memo, once the actor may change it: its author (and, for deleting, an administrator)."""
    actor.require("code")
    memo = store.memo_row(memo_id)
    if memo["author"] != actor.name and not (admin_may and actor.can_manage_users()):
        who = "its author or an administrator" if admin_may else "its author"
        raise PermissionDenied(f"memo {memo_id} is not yours; only {who} may {what} it",
                               fix="write a memo of your own beside it")
    return memo


def edit_memo(store: Store, memo_id: int, text: str, *, actor: User, expected_version: int | None = None) -> dict:
    """Change the words of one's own memo (logged with the old words, so the edit can be taken back).

    ``expected_version`` is the version the person saw; a change since then is refused, not overwritten.

    Example:
        >>> store = Store.create("sqlite://", name="m")
        >>> memo = write_memo(store, "frist thought", actor=User("ana"))
        >>> edit_memo(store, memo.id, "first thought", actor=User("ana"), expected_version=1)["text"]
        'first thought'
    """
    memo = _own_memo(store, memo_id, actor, what="edit", admin_may=False)
    if memo["withdrawn_at"] is not None:
        raise InvalidInput(f"memo {memo_id} was deleted", fix="bring it back first")
    if not text.strip():
        raise InvalidInput("the memo would be empty", fix="delete the memo instead, or write something")
    store.update_memo(memo_id, text.strip(), user=actor.name,
                      expected_version=memo["version"] if expected_version is None else expected_version)
    return store.memo_row(memo_id)


def delete_memo(store: Store, memo_id: int, *, actor: User, expected_version: int | None = None) -> dict:
    """Delete one's own memo (an administrator may delete anyone's); :func:`restore_memo` brings it back.

    Example:
        >>> store = Store.create("sqlite://", name="m")
        >>> memo = write_memo(store, "wrong turn", actor=User("ana"))
        >>> delete_memo(store, memo.id, actor=User("ana"))["withdrawn_at"] is not None
        True
        >>> restore_memo(store, memo.id, actor=User("ana"))["withdrawn_at"] is None
        True
    """
    memo = _own_memo(store, memo_id, actor, what="delete", admin_may=True)
    if memo["withdrawn_at"] is not None:
        raise InvalidInput(f"memo {memo_id} is already deleted", fix="nothing to do")
    store.withdraw_memo(memo_id, user=actor.name,
                        expected_version=memo["version"] if expected_version is None else expected_version)
    return store.memo_row(memo_id)


def restore_memo(store: Store, memo_id: int, *, actor: User, expected_version: int | None = None) -> dict:
    """Bring back a deleted memo (its author, or an administrator)."""
    memo = _own_memo(store, memo_id, actor, what="bring back", admin_may=True)
    if memo["withdrawn_at"] is None:
        raise InvalidInput(f"memo {memo_id} is not deleted", fix="nothing to do")
    store.restore_memo(memo_id, user=actor.name,
                       expected_version=memo["version"] if expected_version is None else expected_version)
    return store.memo_row(memo_id)


def review_queue(
    store: Store,
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
    view = view or TeamView.load(store)
    return suggestion_queue(
        store, user=actor.name, limit=limit, offset=offset,
        source_ids=None if source_id is None else [source_id], code_ids=None if code_id is None else [code_id],
        hidden_source_ids=sorted(view.queue_hidden_sources(actor.name)),
        own_row_source_ids=sorted(view.own_row_sources(actor.name)), ranking=ranking)


def segments_under_review(store: Store) -> list[int]:
    """Segments of the transcripts that still have machine suggestions awaiting review (what retraining refreshes).

    Transcripts the team already finished get no new suggestions behind the reviewers' backs.

    Example:
        >>> segments_under_review(Store.create("sqlite://", name="u"))
        []
    """
    return segment_ids_under_review(store)


def rank_suggestions(store: Store, rank: Callable[[int], pd.DataFrame]) -> dict[int, float]:
    """Priority of every pending suggestion (coding id -> priority, higher first), ordered by ``rank``.

    ``rank(n)`` returns up to ``n`` pending suggestions in review order with ``id`` and ``priority``
    columns: the coding area's active-learning order, e.g. ``project.review_queue``. It may train the
    learned coder, so call this away from a user's click (the app runs it in the background).

    Example:
        >>> rank = lambda n: pd.DataFrame({"id": [7, 3], "priority": [1.0, 0.5]})
        >>> rank_suggestions(Store.create("sqlite://", name="r"), rank)
        {7: 1.0, 3: 0.5}
    """
    total = int(store.codings_df(status="suggested").shape[0])
    frame = rank(max(total, 1))
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
    frame = bulk_candidates(store, user=actor.name, min_score=min_score,
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

    Each is version-checked: one someone changed since it was shown is a ``conflict`` and stays as it is; one
    whose words already carry its code, accepted, is ``already coded`` and stays a suggestion.
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
    frame = codings_by_id(store, [int(i) for i, _ in items])
    source_of = dict(zip(frame["id"], frame["source_id"], strict=True))
    # Words already coded so (by hand, say) are not accepted a second time: they would count and export twice.
    accepted = store.codings_df(status="accepted", segment_ids=sorted({int(s) for s in frame["segment_id"]}))
    coded: dict[tuple, set[int]] = {}
    for row in accepted.itertuples():
        coded.setdefault((row.segment_id, row.code_id, row.start, row.end), set()).add(int(row.id))
    twice = {int(r.id) for r in frame.itertuples()
             if coded.get((r.segment_id, r.code_id, r.start, r.end), set()) - {int(r.id)}}
    results: dict[int, str] = {}
    normal: list[tuple[int, int]] = []
    for coding_id, version in ((int(i), int(v)) for i, v in items):
        source_id = source_of.get(coding_id)
        if source_id is None:
            results[coding_id] = "gone"
        elif source_id in own:
            suggestion = store.coding(coding_id)
            set_own_decision(store, suggestion=suggestion, code_id=suggestion.code_id, status="accepted",
                                  user=actor.name, action="bulk-accept")
            results[coding_id] = "accepted"
        elif source_id in hidden:
            results[coding_id] = "refused"
        elif coding_id in twice:  # (on a blind transcript the other coder's rows are theirs, so not here)
            results[coding_id] = "already coded"
        else:
            normal.append((coding_id, version))
    decided, conflicted = bulk_set_status(store, normal, "accepted", user=actor.name)
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
    children = child_coding_ids(store, coding_id)
    if viewer is not None and children:
        view = view or TeamView.load(store)
        seen = visible_codings(codings_by_id(store, children), viewer, view)
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


__all__ = [
    "DECISIONS",
    "Standing",
    "accept_many",
    "add_code",
    "add_codes",
    "bulk_accept",
    "coding_history",
    "decide",
    "last_decision",
    "rank_suggestions",
    "revert_decision",
    "review_queue",
    "segments_under_review",
    "standing_events",
    "write_memo",
]

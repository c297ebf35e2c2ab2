"""Blind double-coding: assign transcripts to coders, mark them done, compare their judgements, adjudicate.

A transcript an administrator assigned *blind* to two (or more) coders is coded by each on their own:
their decisions are their own human rows, hidden from each other until every assigned coder marked the
transcript done. Then :func:`disagreements` lists where they differ and :func:`adjudicate` records the
agreed decision as ``consensus`` (:data:`CONSENSUS`) while both original decisions stay on record.

Example:
    >>> import pandas as pd
    >>> f = pd.DataFrame({"a": ["yes", "no"], "b": ["yes", "no"], "agree": [True, True]})
    >>> agreement_summary(f)["percent_agreement"]
    100.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from qualkit.errors import InvalidInput, PermissionDenied
from qualkit.model import Coding
from qualkit.review.visibility import TeamView
from qualkit.store.assignments import add_assignments, assignments_df, remove_assignment, set_assignment_done
from qualkit.store.decisions import CONSENSUS, restore_codings, set_consensus, state_events
from qualkit.store.queries import human_rows_df
from qualkit.store.repository import Store
from qualkit.store.sources import segment_source_ids
from qualkit.users import User

CONSENSUS = CONSENSUS


def _source_id(store: Store, source: str | int) -> int:
    frame = store.sources_df()
    column = "id" if isinstance(source, int) else "name"
    match = frame.loc[frame[column] == source, "id"]
    if match.empty:
        raise InvalidInput(f"no transcript {source!r} in project {store.name!r}",
                           fix="see the names with `qualkit info` or on the Study page")
    return int(match.iloc[0])


def assignments(store: Store) -> pd.DataFrame:
    """Who is assigned to code which transcript, blind or not, and whether they are done (everyone may look).

    Example:
        >>> assignments(Store.create("sqlite://", name="as")).empty
        True
    """
    return assignments_df(store)


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
    return add_assignments(store, _source_id(store, source), coders, blind=blind, user=actor.name)


def earlier_deciders(store: Store, source: str | int, coders: Sequence[str]) -> list[str]:
    """Who besides ``coders`` has decided on a transcript: coding it blind, the coders will not see that.

    Their decisions stay hidden from the blind coders until all are done, and the suggestions they
    decided are not offered to the coders; say so when assigning.

    Example:
        >>> earlier_deciders(Store.create("sqlite://", name="ed"), 1, ["ana"])  # doctest: +SKIP
        []
    """
    from qualkit.store.queries import decider_names

    source_id = _source_id(store, source)
    return sorted(decider_names(store, [source_id]).get(source_id, set()) - set(coders))


def blind_note(store: Store, source: str | int, coders: Sequence[str], *, assigner: str | None = None) -> str:
    """What to tell the person assigning a transcript blind ("" when there is nothing to say).

    Decisions others took on the transcript before are hidden from its coders; and an ``assigner`` who
    assigns herself beside someone loses the project-wide views (Analysis, Reliability per code, exports)
    until the transcript is finished, by the blindness rule (a PI found out only when they had gone).

    Example:
        >>> blind_note(Store.create("sqlite://", name="bn"), 1, ["ana", "ben"], assigner="ana")  # doctest: +SKIP
        ' While you code it blind beside ben, ...'
    """
    earlier = earlier_deciders(store, source, coders)
    note = ""
    if earlier:
        note = (f" Decisions {', '.join(earlier)} took on it before stay hidden from the coders until all are done; "
                "the machine's suggestions decided then are offered to each coder again, so both judge every "
                "suggestion afresh (passages coded by hand then are not: code them again if they should count).")
    others = [coder for coder in coders if coder != assigner]
    if assigner in coders and others:
        note += (f" While you code it blind beside {', '.join(others)}, the study's analysis, reliability per code "
                 "and exports are closed to you (they would show their decisions) until every coder marked it done.")
    return note


def unassign(store: Store, source: str | int, coder: str, *, actor: User) -> None:
    """Take a coder off a transcript (their decisions stay).

    Example:
        >>> unassign(Store.create("sqlite://", name="u"), 1, "ana", actor=User("r"))  # doctest: +SKIP
    """
    actor.require("assign")
    remove_assignment(store, _source_id(store, source), coder, user=actor.name)


def mark_done(store: Store, source: str | int, *, actor: User, coder: str | None = None, done: bool = True) -> None:
    """Mark the actor's assignment done, or take that back (``done=False``) while another coder is still coding.

    An administrator may mark or reopen anyone's, also once every coder is done.

    Example:
        >>> mark_done(Store.create("sqlite://", name="d"), 1, actor=User("ana"))  # doctest: +SKIP
    """
    coder = coder or actor.name
    source_id = _source_id(store, source)
    if coder != actor.name:
        actor.require("assign")
    elif not done and not actor.can_assign():
        actor.require("code")
        if TeamView.load(store).is_complete(source_id):
            raise PermissionDenied("every coder of this transcript is done, so its comparison may have begun",
                                   fix="ask an administrator to reopen it")
    else:
        actor.require("code")
    set_assignment_done(store, source_id, coder, done=done, user=actor.name)


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
        raise _not_finished(store, source_id, view)
    rows = human_rows_df(store, source_id=source_id, coders=coders)
    suggestions = store.codings_df(source=source_id, status="suggested")
    keys = pd.concat([rows[["segment_id", "code_id"]], suggestions[["segment_id", "code_id"]]]).drop_duplicates()
    segments = store.segments_df(source=source_id, attributes=False).set_index("id")
    records = []
    for seg_id, code in keys.itertuples(index=False):
        here = rows[(rows["segment_id"] == seg_id) & (rows["code_id"] == code)]
        record: dict[str, Any] = {"source_id": source_id, "segment_id": int(seg_id), "code_id": code,
                                  "turn": segments.at[seg_id, "turn"], "speaker": segments.at[seg_id, "speaker"],
                                  "text": segments.at[seg_id, "text"]}
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
        settled_yes = yes_rows[yes_rows["decided_by"] == CONSENSUS]
        own_yes = yes_rows[yes_rows["decided_by"] != CONSENSUS]
        # The settled span where there is one; else one span covering every coder's words, so that settling
        # an agreement on the code keeps both coders' passages, not the first coder's alone.
        spans = settled_yes if len(settled_yes) else yes_rows
        record["start"] = int(spans["start"].min()) if len(spans) else None
        record["end"] = int(spans["end"].max()) if len(spans) else None
        record["spans"] = len(set(zip(own_yes["start"], own_yes["end"], strict=True)))
        # A consensus on a pair no coder judged is no agreement between them: counting it changed the figures.
        if include_untouched or any(record[c] != "-" for c in coders):
            records.append(record)
    columns = ["source_id", "segment_id", "code_id", "turn", "speaker", "text", *coders, "agree", "applied_by",
               "consensus", "consensus_id", "consensus_version", "start", "end", "spans"]
    # "agree" as bool even with no rows: an empty object column as a mask (``frame[~frame["agree"]]``) picked
    # columns instead of rows, and disagreements() came back without a single column.
    frame = pd.DataFrame(records, columns=columns).astype({"agree": bool})
    return frame.sort_values(["segment_id", "code_id"]).reset_index(drop=True)


def disagreements(store: Store, source: str | int, *, actor: User, view: TeamView | None = None) -> pd.DataFrame:
    """Where the coders of a finished blind transcript differ (see :func:`judgements` for the columns).

    Example:
        >>> disagreements(Store.create("sqlite://", name="d"), 1, actor=User("ana"))  # doctest: +SKIP
    """
    frame = judgements(store, source, actor=actor, view=view)
    return frame[~frame["agree"]].reset_index(drop=True)


def unsettled_count(store: Store, *, actor: User, view: TeamView | None = None) -> int:
    """How many disagreements between double-coders are not settled yet, over every finished transcript.

    Until one is settled, counts of coded passages (prevalence, quotes) take the code as applied when
    either coder applied it; this number says how many (segment, code) pairs that touches.

    Example:
        >>> unsettled_count(Store.create("sqlite://", name="u"), actor=User("ana"))
        0
    """
    view = view or TeamView.load(store)
    total = 0
    for source_id in sorted(set(view.assignments["source_id"].astype(int))):
        if len(view.coders(source_id)) >= 2 and view.is_complete(source_id):
            frame = disagreements(store, source_id, actor=actor, view=view)
            total += int(frame["consensus"].isna().sum())
    return total


JUDGED_UNITS = ("Counted over the segment × code pairs that at least one coder judged (accepted, rejected or coded "
                "by hand); a pair one coder left untouched counts as that coder's “no”. These counts show what "
                "to settle; they are not a reliability statistic (a pair neither coder judged is left out, so a "
                "kappa over them would be near zero in a study coded by hand). Kappa, alpha and AC1 count every "
                "code on each segment some coder coded.")
"""What :func:`agreement_summary` counts, in the words the app shows beside its figures."""


def agreement_summary(frame: pd.DataFrame) -> dict[str, Any]:
    """Counts and percent agreement over a :func:`judgements` frame (the pairs to settle, see ``JUDGED_UNITS``).

    No kappa here: over judged pairs only there is hardly a "both no" cell, so kappa could not be positive in
    a study coded by hand (a methodologist found 0.0 at 99 % agreement). Use ``Project.reliability``.

    Example:
        >>> f = pd.DataFrame({"a": ["yes", "yes", "no"], "b": ["yes", "-", "no"], "agree": [True, False, True]})
        >>> agreement_summary(f)["percent_agreement"]
        66.7
    """
    n = len(frame)
    agreed = int(frame["agree"].sum()) if n else 0
    return {"judged": n, "agreements": agreed, "disagreements": n - agreed,
            "percent_agreement": round(100 * agreed / n, 1) if n else None}


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
    _check_may_adjudicate(store, segment_id, actor, view)
    return set_consensus(store, segment_id=segment_id, code_id=code_id, apply=apply, user=actor.name,
                              note=note, start=start, end=end, expected=expected)


def _not_finished(store: Store, source_id: int, view: TeamView) -> PermissionDenied:
    """The refusal to compare or settle a transcript before every coder is done, naming who is not done yet.

    "the coders are not all done" left an adjudicator to guess whom to ask.
    """
    waiting = view.not_done(source_id)
    names = store.sources_df().set_index("id")["name"]
    name = names.get(source_id, f"transcript {source_id}")
    return PermissionDenied(f"{name} is not finished: {', '.join(waiting)} {'has' if len(waiting) == 1 else 'have'} "
                            "not marked it done yet, and disagreements are compared and settled only when every "
                            "assigned coder is done",
                            fix=f"ask {' and '.join(waiting)} to mark it done when they have finished coding it",
                            cli_fix=f"{' and '.join(waiting)} mark it done with: qualkit assign done {name}")


def _check_may_adjudicate(store: Store, segment_id: int, actor: User, view: TeamView | None) -> None:
    """Raise unless ``actor`` may settle on this segment's transcript: finished, and theirs or an administrator."""
    actor.require("adjudicate")
    view = view or TeamView.load(store)
    source_id = segment_source_ids(store, [segment_id]).get(segment_id)
    if source_id is None:
        raise InvalidInput(f"no segment {segment_id} in project {store.name!r}")
    coders = view.coders(source_id)
    if not coders:
        raise PermissionDenied("only a finished double-coded transcript can be adjudicated, and this one is not "
                               "assigned to coders", fix="assign it to two coders first")
    if not view.is_complete(source_id):
        raise _not_finished(store, source_id, view)
    if actor.name not in coders and not actor.can_assign():
        raise PermissionDenied(f"only the transcript's coders ({', '.join(coders)}) or an administrator adjudicate")


def unsettle(store: Store, coding_id: int, *, actor: User, expected_version: int | None = None,
             view: TeamView | None = None) -> Coding:
    """Take back the newest settlement of a disagreement (a ``revert`` event; nothing is deleted).

    A suggestion the settlement decided is pending again; a consensus row it created is kept on record
    as rejected and no longer counts as the consensus, so the disagreement is open again; an earlier
    settlement it changed is back. ``expected_version`` is the version the person saw.

    Example:
        >>> unsettle(Store.create("sqlite://", name="un"), 1, actor=User("ana"))  # doctest: +SKIP
    """
    coding = store.coding(coding_id)
    _check_may_adjudicate(store, int(coding.segment_id), actor, view)
    event = state_events(store, [coding_id]).get(int(coding_id))
    if coding.decided_by != CONSENSUS or event is None or event["action"] != "adjudicate":
        raise InvalidInput(f"coding {coding_id} is not a settled disagreement",
                           fix="choose a settled one (tick 'Show settled disagreements too')")
    old = event["old"]
    values = ({"status": "rejected", "decided_by": None} if old is None
              else {k: old[k] for k in ("status", "start", "end", "decided_by") if k in old})
    expected = int(coding.version if expected_version is None else expected_version)
    return restore_codings(store, [(int(coding_id), expected, values, int(event["id"]))], user=actor.name)[0]


def settle_agreements(store: Store, source: str | int, *, actor: User, view: TeamView | None = None) -> list[Coding]:
    """Record the consensus wherever the coders agree (applied by all, or rejected by all); returns the records.

    Each can be taken back with :func:`unsettle` (the app offers one Undo for all of them).

    Only pairs some coder judged count: a suggestion no coder looked at is no agreement, and stays in the
    review queue as an ordinary suggestion. Where the coders applied the code to different words of the
    segment, the consensus covers all of them.

    Example:
        >>> settle_agreements(Store.create("sqlite://", name="s"), 1, actor=User("ana"))  # doctest: +SKIP
    """
    view = view or TeamView.load(store)
    frame = judgements(store, source, actor=actor, view=view)
    settled: list[Coding] = []
    for row in frame[frame["agree"] & frame["consensus"].isna()].itertuples():
        apply = bool(row.applied_by)
        note = "coders agreed" + ("; the consensus covers every coder's words" if apply and row.spans > 1 else "")
        settled.append(adjudicate(
            store, int(row.segment_id), str(row.code_id), apply=apply, actor=actor, view=view, note=note,
            start=None if row.start is None or pd.isna(row.start) else int(row.start),
            end=None if row.end is None or pd.isna(row.end) else int(row.end)))
    return settled


__all__ = [
    "CONSENSUS",
    "adjudicate",
    "agreement_summary",
    "assign",
    "assignments",
    "disagreements",
    "judgements",
    "mark_done",
    "settle_agreements",
    "unassign",
    "unsettle",
    "unsettled_count",
]

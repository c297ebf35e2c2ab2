"""Withdrawing a participant who withdrew consent after coding began, with a preview first.

:func:`withdrawal_preview` lists every turn of that person in every transcript, with the codings on it and
the memos written on it (their words and authors), so the person deciding sees exactly what will go;
:func:`withdraw` takes it out, refusing when the number of turns changed since the preview. Their turns become
``[withdrawn]`` in the text and their speaker labels lose their name (the participant's id, or
``[withdrawn]``), their codings go from every count, the memos on their turns are deleted, the participant
keeps only its id and the date (see :mod:`qualkit.store.withdrawal`). Who may import or redact transcripts may withdraw a participant.

Example:
    >>> from qualkit.model import Segment, Source
    >>> from qualkit.store.repository import Store
    >>> from qualkit.users import Role, User
    >>> store = Store.create("sqlite://", name="w")
    >>> source = Source("a.txt", "Ann: Hi.\\nBo: I quit.", "txt", metadata={"label_spans": [[0, 4], [9, 12]]})
    >>> source.segments = [Segment("a.txt", 5, 8, "Hi.", speaker="Ann", turn=0),
    ...                    Segment("a.txt", 13, 20, "I quit.", speaker="Bo", turn=1)]
    >>> _ = store.add_source(source, user="ana")
    >>> withdrawal_preview(store, "Bo")[["source", "turn", "text"]].values.tolist()
    [['a.txt', 1, 'I quit.']]
    >>> withdraw(store, "Bo", reason="emailed the PI", actor=User("pi", Role.ADMIN), expected=1)["turns"]
    1
"""

from __future__ import annotations

import pandas as pd

from qualkit.store.repository import Store
from qualkit.store.withdrawal import MARKER, person_turns, withdraw_person
from qualkit.users import User

IRREVERSIBLE = (f"This cannot be undone: their words are replaced by {MARKER} and leave the database, their name "
                "leaves their speaker labels (their participant id stands there, or "
                f"{MARKER}), the codings on their turns are deleted, the memos written on their turns are DELETED "
                "with them (listed above: copy any thought you want to keep into a memo on the transcript, "
                "without their words), and their attributes are dropped (the id and the date stay). Export the "
                "study first if your ethics approval lets you keep a copy.")
"""What a preview says before anyone confirms a withdrawal (the CLI and the Study page show it)."""

COLUMNS = ["source", "turn", "participant", "speaker", "start", "end", "segments", "codings", "memos", "text",
           "memo_notes"]


def withdrawal_preview(store: Store, who: str) -> pd.DataFrame:
    """Every turn of participant (or speaker) ``who`` per transcript, with its ``codings`` and ``memos``.

    Columns: ``source``, ``turn``, ``participant`` (the id kept), ``speaker``, ``start``, ``end``, ``segments``,
    ``codings``, ``memos``, ``text`` and ``memo_notes`` (the memos written on the turn, each ``id``, ``author``,
    ``text`` and ``deleted`` for one deleted earlier: the withdrawal deletes them all). An unknown name raises :class:`~qualkit.errors.InvalidInput` listing
    the study's participants; a participant already withdrawn raises it saying when.

    Example:
        >>> withdrawal_preview(store, "P07").groupby("source")["turn"].count()  # doctest: +SKIP
    """
    return pd.DataFrame(person_turns(store, who), columns=COLUMNS)


def withdraw(store: Store, who: str, *, reason: str, actor: User, expected: int | None = None) -> dict[str, object]:
    """Take ``who`` out of the study: turns to ``[withdrawn]``, name out of labels, codings and memos on them deleted.

    ``expected`` is the number of turns :func:`withdrawal_preview` showed: another number now raises
    :class:`~qualkit.errors.ConflictError` and nothing changes. It cannot be undone. Returns the counts
    ``participant``, ``turns``, ``transcripts``, ``codings`` and ``memos`` (deleted) and ``theme_runs``.

    Example:
        >>> withdraw(store, "P07", reason="consent withdrawn", actor=User("pi", Role.ADMIN))  # doctest: +SKIP
        {'participant': 'P07', 'turns': 12, 'transcripts': 1, 'codings': 30, 'memos': 1, 'theme_runs': 0}
    """
    actor.require("import")
    return withdraw_person(store, who, reason=reason, user=actor.name, expected=expected)


__all__ = ["IRREVERSIBLE", "withdraw", "withdrawal_preview"]

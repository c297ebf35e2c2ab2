"""Taking words out of a coded transcript (a name an ethics board asks removed), with a preview first.

:func:`redaction_preview` lists every place the words occur, with its turn and context, so the person
sees exactly what will change; :func:`redact` replaces them, refusing when the transcript or the number
of places changed since the preview. Codings keep covering their words (see
:mod:`qualkit.store.redaction`). Who may import or remove transcripts may redact them.

Example:
    >>> from qualkit.model import Segment, Source
    >>> from qualkit.store.repository import Store
    >>> from qualkit.users import Role, User
    >>> store = Store.create("sqlite://", name="r")
    >>> source = Source("a.txt", "Ann: I told Okafor.", "txt", metadata={"label_spans": [[0, 4]]})
    >>> source.segments = [Segment("a.txt", 5, 19, "I told Okafor.", speaker="Ann", turn=1)]
    >>> _ = store.add_source(source, user="ana")
    >>> redaction_preview(store, "a.txt", "okafor")["context"].tolist()
    ['I told «Okafor».']
    >>> redact(store, "a.txt", "okafor", "[name]", actor=User("pi", Role.ADMIN), expected=1)["passages"]
    1
"""

from __future__ import annotations

import pandas as pd

from qualkit.errors import ConflictError, InvalidInput
from qualkit.spans import words_pattern
from qualkit.store.redaction import redact_source
from qualkit.store.repository import Store
from qualkit.users import User

CONTEXT = 40
"""Characters of context shown on each side of a place in the preview."""


def redaction_preview(store: Store, source: str | int, words: str, *, whole_words: bool = True,
                      case_sensitive: bool = False) -> pd.DataFrame:
    """Every place ``words`` occur in the transcript: ``start``, ``end``, ``turn``, ``speaker``, ``where`` and ``context``.

    Example:
        >>> redaction_preview(store, "fg1.txt", "Okafor").shape[0]  # doctest: +SKIP
        3
    """
    pattern = words_pattern(words, whole_words=whole_words, case_sensitive=case_sensitive)
    found = store.source(source, with_raw=False)
    rows = []
    for match in pattern.finditer(found.text):
        start, end = match.span()
        turn = next((seg for seg in found.segments if seg.start <= start < seg.end), None)
        low, high = (turn.start, turn.end) if turn is not None else (0, len(found.text))  # a label: its line
        before = found.text[max(low, start - CONTEXT):start].split("\n")[-1]
        after = found.text[end:min(high, end + CONTEXT)].split("\n")[0]
        cut_before = "…" if start - len(before) > low and turn is not None else ""
        cut_after = "…" if end + len(after) < high and turn is not None else ""
        where = "a speaker label" if turn is None else " ".join(
            bit for bit in ("" if turn.turn is None else f"turn {turn.turn}",
                            f"({turn.speaker})" if turn.speaker else "") if bit) or "unattributed talk"
        rows.append({"start": start, "end": end, "turn": None if turn is None else turn.turn,
                     "speaker": None if turn is None else turn.speaker, "where": where,
                     "context": f"{cut_before}{before.lstrip()}«{match.group()}»{after.rstrip()}{cut_after}"})
    return pd.DataFrame(rows, columns=["start", "end", "turn", "speaker", "where", "context"])


def redact(store: Store, source: str | int, words: str, replacement: str = "[redacted]", *, actor: User,
           whole_words: bool = True, case_sensitive: bool = False, expected: int | None = None) -> dict[str, int]:
    """Replace every place ``words`` occur in the transcript by ``replacement``; codings keep their words.

    ``expected`` is the number of places the person saw in :func:`redaction_preview`: another number now
    raises :class:`~qualkit.errors.ConflictError` and nothing is replaced. This cannot be undone (the words
    are gone from the database, as intended); export the study first to keep a copy. Returns counts of
    ``passages``, ``segments``, ``codings`` and ``theme_runs`` changed.

    Example:
        >>> redact(store, "fg1.txt", "Okafor", "[consultant]", actor=User("pi", Role.ADMIN))  # doctest: +SKIP
        {'passages': 3, 'segments': 3, 'codings': 41, 'theme_runs': 1}
    """
    actor.require("import")
    if not replacement.strip():
        raise InvalidInput("the replacement is empty", fix="replace the words with a mark such as [name]")
    pattern = words_pattern(words, whole_words=whole_words, case_sensitive=case_sensitive)
    found = store.source(source, with_raw=False)
    matches = [m.span() for m in pattern.finditer(found.text)]
    if not matches:
        raise InvalidInput(f"{words.strip()!r} does not occur in {found.name}",
                           fix="check the spelling" + (", or switch off whole words" if whole_words else ""))
    if expected is not None and len(matches) != expected:
        raise ConflictError(f"{words.strip()!r} now occurs {len(matches)} times in {found.name}, not the {expected} "
                            "you previewed; nothing was replaced", current={"places": len(matches)})
    return redact_source(store, found.name, matches, replacement.strip(), user=actor.name, seen_text=found.text,
                         scrub=lambda text: pattern.sub(replacement.strip(), text))


__all__ = ["redact", "redaction_preview"]

"""Places in a study as a terminal user names them: a transcript by name, a turn by number, words in a turn.

``qualkit review queue`` shows where a suggestion is as ``group1.txt turn 3 (Ann)`` (or ``survey.csv
respondent R0001``), from :func:`qualkit.display.location`; the commands that code, write memos and settle
take the same names back: the transcript, then the turn's number (or a survey answer's respondent), and
``--words`` for the exact words inside the turn.

Example:
    $ qualkit review code group1.txt 3 workload --words "double the patients"
"""

from __future__ import annotations

from typing import Any

from qualkit.display import location

__all__ = ["find_words", "one_line", "place", "transcript_row", "turn_segments"]


def one_line(text: str) -> str:
    """A turn's text on one line (line breaks and runs of spaces as one space), as an error shows it.

    Example:
        >>> one_line("I chart\\r\\nat home.  ")
        'I chart at home.'
    """
    return " ".join(str(text).split())


def transcript_row(project: Any, transcript: str) -> Any:
    """The transcript's row of ``project.sources()``, by its name (or its id); refused with a hint when none.

    Example:
        >>> transcript_row(project, "group1.txt")["id"]  # doctest: +SKIP
        1
    """
    from qualkit.cli.options import source_ref
    from qualkit.errors import InvalidInput, did_you_mean

    sources = project.sources()
    ref = source_ref(project, str(transcript))
    match = sources[sources["id"] == ref] if isinstance(ref, int) else sources[sources["name"] == ref]
    if match.empty:
        raise InvalidInput(f"no transcript named {transcript!r} in this study",
                           fix=f"{did_you_mean(transcript, sources['name'].tolist())}see the names with qualkit info")
    return match.iloc[0]


def turn_segments(project: Any, transcript: str, turn: str) -> Any:
    """The segments of ``transcript`` that make up ``turn``: its number as ``qualkit review queue`` lists it, or
    a survey answer's respondent; refused with the transcript's turns named when there is no such turn.

    Several segments come back when the study is segmented into sentences or windows (one turn, many segments).

    Example:
        >>> turn_segments(project, "group1.txt", "3")["text"].tolist()  # doctest: +SKIP
        ['The paperwork never ends, I chart at home every night.']
    """
    from qualkit.errors import InvalidInput

    source = transcript_row(project, transcript)
    name = str(source["name"])
    segments = project.segments(source=int(source["id"]))
    wanted = str(turn).strip()
    rows = segments[(segments["kind"] == "row") & (segments["participant"].astype(str) == wanted)]
    if rows.empty and wanted.isdigit():
        rows = segments[segments["turn"].notna() & (segments["turn"] == int(wanted))]
    if rows.empty:
        turns = segments["turn"].dropna().astype(int)
        known = f"its turns are numbered {turns.min()} to {turns.max()}" if len(turns) else "it has no turns"
        raise InvalidInput(f"{name} has no turn {wanted!r} ({known})",
                           fix=f"give the turn's number as 'qualkit review queue --source {name}' lists it "
                               "(turn 0 is the first, the moderator's included)")
    return rows.sort_values("start")


def find_words(segments: Any, words: str, *, where: str) -> tuple[Any, int, int]:
    """The segment holding ``words`` and their absolute (start, end), found once in the turn ``segments``.

    Exact words first; else runs of whitespace match any whitespace (a line break in the transcript, two
    spaces). Not found, or found more than once, is refused with the turn's text (``where`` names the turn).

    Example:
        >>> import pandas as pd
        >>> turn = pd.DataFrame({"id": [7], "start": [40], "text": ["I chart\\r\\nat home, at home."]})
        >>> segment, start, end = find_words(turn, "chart at home", where="group1.txt turn 2 (Ben)")
        >>> int(segment["id"]), start, end
        (7, 42, 56)
    """
    from qualkit.errors import InvalidInput
    from qualkit.spans import passage_matches

    found = [(row, int(row["start"]) + s, int(row["start"]) + e)
             for _, row in segments.iterrows() for s, e in passage_matches(str(row["text"]), words)]
    said = " ".join(words.split())
    text = one_line(" ".join(str(t) for t in segments["text"]))
    if not found:
        across = " (each sentence is coded on its own in this study: the words must lie in one)" \
            if len(segments) > 1 else ""
        raise InvalidInput(f"“{said}” is not in {where}{across}, which reads: “{text}”; nothing was done",
                           fix="copy the words exactly from the turn (case matters; line breaks, spaces and straight "
                               "or curly quotes may differ)")
    if len(found) > 1:
        raise InvalidInput(f"“{said}” occurs {len(found)} times in {where}, which reads: “{text}”; nothing was done",
                           fix="give more of the words around them, so that they occur once")
    return found[0]


def place(segment: Any, source: str) -> str:
    """A segment's place as ``qualkit review queue`` prints it: ``group1.txt turn 3 (Ann)``.

    Example:
        >>> place({"turn": 3, "speaker": "Ann", "kind": "turn"}, "group1.txt")
        'group1.txt turn 3 (Ann)'
    """
    row = {"turn": segment.get("turn"), "speaker": segment.get("speaker"),
           "participant": segment.get("participant"), "segment_kind": segment.get("kind")}
    return f"{source} {location(row)}"

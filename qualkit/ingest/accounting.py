"""The no-text-lost accounting of a read source, as a checkable function.

Every non-whitespace character of ``source.text`` must lie in exactly one of: a segment (turn, row,
sentence, window, legend or unattributed) or a speaker-label prefix listed in
``source.metadata["label_spans"]`` (or the marker of a withdrawn participant's turn,
``source.metadata["withdrawn_spans"]``). In addition each segment's text equals its slice of the source
text, segments and label prefixes never overlap, and every mark lies inside its segment.

Example:
    >>> from qualkit.model import Segment, Source
    >>> src = Source("a.txt", "Ann: hi", "txt", metadata={"label_spans": [[0, 4]]})
    >>> src.segments = [Segment("a.txt", 5, 7, "hi", speaker="Ann")]
    >>> accounting_problems(src)
    []
"""

from __future__ import annotations

from qualkit.model import Source


def accounting_problems(source: Source, *, limit: int = 10) -> list[str]:
    """Ways in which ``source`` breaks the accounting (empty when it holds); at most ``limit`` of them.

    Example:
        >>> from qualkit.model import Source
        >>> accounting_problems(Source("a.txt", "lost words", "txt"))[0]
        "character 0 ('l') is in no segment and no label"
    """
    text = source.text
    owner = [0] * len(text)
    problems: list[str] = []
    for seg in source.segments:
        if text[seg.start:seg.end] != seg.text:
            problems.append(f"segment {seg.start}:{seg.end} text differs from the source text")
        for mark in seg.marks:
            if not seg.start <= mark.start <= mark.end <= seg.end:
                problems.append(f"mark {mark.start}:{mark.end} lies outside segment {seg.start}:{seg.end}")
        for i in range(seg.start, seg.end):
            owner[i] += 1
    for start, end in [*source.metadata.get("label_spans", []), *source.metadata.get("withdrawn_spans", [])]:
        for i in range(start, end):
            owner[i] += 1
    for i, count in enumerate(owner):
        if len(problems) >= limit:
            break
        if count > 1:
            problems.append(f"character {i} ({text[i]!r}) is covered {count} times")
        elif count == 0 and not text[i].isspace():
            problems.append(f"character {i} ({text[i]!r}) is in no segment and no label")
    return problems[:limit]

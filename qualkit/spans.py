"""Span arithmetic on stored text: where a passage lies in a segment, and the spans of its words.

Pure text math in absolute Unicode code-point offsets (as everywhere in qualkit): the review app turns
a pasted passage or a range of words into the exact ``start``/``end`` of a coding.

Example:
    >>> locate_passage("I am so tired of the EHR.", 100, "tired of")
    (108, 116)
"""

from __future__ import annotations

import re

from qualkit.errors import InvalidInput


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


__all__ = ["locate_passage", "word_spans"]

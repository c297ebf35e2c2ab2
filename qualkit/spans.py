"""Span arithmetic on stored text: where a passage lies in a segment, and the spans of its words.

Pure text math in absolute Unicode code-point offsets (as everywhere in qualkit): the review app turns
a pasted passage or a range of words into the exact ``start``/``end`` of a coding.

Example:
    >>> locate_passage("I am so tired of the EHR.", 100, "tired of")
    (108, 116)
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from typing import Any

from qualkit.errors import InvalidInput


def locate_passage(segment_text: str, segment_start: int, passage: str, *, occurrence: int = 1) -> tuple[int, int]:
    """Absolute (start, end) of ``passage`` inside a segment, computed from the stored text.

    An exact match wins; otherwise runs of whitespace match any whitespace (a passage copied from
    the browser has CRLF and double spaces collapsed). ``occurrence`` picks among repeats.

    Example:
        >>> locate_passage("Paperwork,\\r\\nthe  EHR.", 40, "Paperwork, the EHR")
        (40, 60)
    """
    matches = passage_matches(segment_text, passage)
    if not matches:
        raise InvalidInput(f"{passage[:60]!r} is not in this segment", fix="copy the words exactly from the segment")
    if not 1 <= occurrence <= len(matches):
        raise InvalidInput(f"the passage occurs {len(matches)} times", fix=f"choose an occurrence from 1 to {len(matches)}")
    start, end = matches[occurrence - 1]
    return segment_start + start, segment_start + end


_SINGLE, _DOUBLE = "'\u2018\u2019\u02bc\u2032", '"\u201c\u201d\u2033'
_QUOTE_CLASSES = {c: f"[{re.escape(group)}]" for group in (_SINGLE, _DOUBLE) for c in group}
"""A quotation mark typed one way matches the others of its kind (straight, curly, prime)."""


def passage_matches(text: str, passage: str) -> list[tuple[int, int]]:
    """Every (start, end) of ``passage`` in ``text`` (offsets into ``text``): exact matches, else any whitespace,
    else any quotation mark for a quotation mark.

    Exact matches win; when there are none, each run of whitespace in ``passage`` matches any run of
    whitespace in ``text`` (line breaks too), so words copied from a terminal or a browser are found in a
    CRLF transcript; failing that, a straight ``'`` or ``"`` typed in a terminal also matches the curly one a
    word processor wrote (``won't`` finds ``won’t``). Case is kept: these are the very words to code.

    Example:
        >>> passage_matches("Paperwork,\\r\\nthe  EHR. The EHR.", "the EHR")
        [(12, 20)]
        >>> passage_matches("so tired, so so tired", "so tired")
        [(0, 8), (13, 21)]
        >>> passage_matches("It won\\u2019t let me.", "won't let")
        [(3, 12)]
    """
    passage = passage.strip()
    if not passage:
        raise InvalidInput("the passage is empty", fix="paste or type the words to code")
    exact = [m.start() for m in re.finditer(re.escape(passage), text)]
    if exact:
        return [(s, s + len(passage)) for s in exact]
    spaced = [m.span() for m in re.finditer(r"\s+".join(re.escape(w) for w in passage.split()), text)]
    if spaced:
        return spaced
    loose = r"\s+".join("".join(_QUOTE_CLASSES.get(c, re.escape(c)) for c in w) for w in passage.split())
    return [m.span() for m in re.finditer(loose, text)]


def word_spans(text: str, base: int = 0) -> list[tuple[int, int]]:
    """Absolute (start, end) of each word of a segment, for picking a span word by word.

    Example:
        >>> word_spans("I am tired.", 10)
        [(10, 11), (12, 14), (15, 21)]
    """
    return [(base + m.start(), base + m.end()) for m in re.finditer(r"\S+", text)]


class OffsetMap:
    """Where offsets of a text lie after some of its passages were replaced by other words.

    ``replaced`` holds ``(start, end, new_start, new_end)`` per replaced passage, sorted and not
    overlapping. An offset outside them moves with the text before it; a span's start inside a replaced
    passage goes to where its replacement starts, an end to where it ends, so a span that held part of a
    passage holds all of its replacement.

    Example:
        >>> moved = OffsetMap([(3, 9, 3, 9), (15, 21, 15, 18)])  # "Okafor" -> "[name]", "Okafor" -> "[n]"
        >>> moved.start(5), moved.end(5), moved.start(22), moved.end(21)
        (3, 9, 19, 18)
    """

    def __init__(self, replaced: Sequence[tuple[int, int, int, int]]) -> None:
        self.replaced = sorted(replaced)
        self.starts = [span[0] for span in self.replaced]

    def _map(self, offset: int, *, is_end: bool) -> int:
        index = bisect.bisect_right(self.starts, offset) - 1
        if index < 0:
            return offset
        start, end, new_start, new_end = self.replaced[index]
        if offset >= end:
            return new_end + (offset - end)
        if offset == start:
            return new_start
        return new_end if is_end else new_start

    def start(self, offset: int) -> int:
        """Where a span starting at ``offset`` of the old text starts in the new one."""
        return self._map(offset, is_end=False)

    def end(self, offset: int) -> int:
        """Where a span ending at ``offset`` of the old text ends in the new one."""
        index = bisect.bisect_left(self.starts, offset) - 1
        if index >= 0 and offset == self.replaced[index][1]:
            return self.replaced[index][3]
        return self._map(offset, is_end=True)

    def spans(self, items: Any) -> list[list[Any]]:
        """``[start, end, *rest]`` items (label spans, marks, evidence) moved to the new text; ``rest`` kept.

        An item whose start is no offset (evidence naming words, not places) is kept as it is.

        Example:
            >>> OffsetMap([(3, 9, 3, 5)]).spans([[0, 3], [10, 14, "laugh"], ["cue", "tired"]])
            [[0, 3], [6, 10, 'laugh'], ['cue', 'tired']]
        """
        return [[self.start(a), self.end(b), *rest] if isinstance(a, int) else [a, b, *rest]
                for a, b, *rest in (items or [])]


class Rewrite(OffsetMap):
    """A text with the passages ``matches`` (``(start, end)`` spans) all replaced by ``replacement``.

    A match may carry its own replacement as a third item, ``(start, end, words)``, so that different
    passages change in ONE rewrite (a withdrawn turn's words and its speaker label). ``text`` is the new
    text; :meth:`start` and :meth:`end` place old offsets in it (see :class:`OffsetMap`).

    Example:
        >>> rewrite = Rewrite("Dr Okafor said Okafor was tired.", [(3, 9), (15, 21)], "[name]")
        >>> rewrite.text
        'Dr [name] said [name] was tired.'
        >>> rewrite.start(22), rewrite.end(32), rewrite.start(5), rewrite.end(5)
        (22, 32, 3, 9)
        >>> Rewrite("Ann Lee: I quit.", [(9, 16), (0, 7, "P07")], "[withdrawn]").text
        'P07: [withdrawn]'
    """

    def __init__(self, text: str, matches: Sequence[tuple[int, int] | tuple[int, int, str]],
                 replacement: str) -> None:
        pieces, replaced, last, shift = [], [], 0, 0
        for start, end, *own in sorted(matches, key=lambda match: (match[0], match[1])):
            if start < last:
                raise InvalidInput("two passages to replace overlap", fix="replace them one after the other")
            words = own[0] if own else replacement
            pieces += [text[last:start], words]
            replaced.append((start, end, start + shift, start + shift + len(words)))
            shift += len(words) - (end - start)
            last = end
        self.text = "".join(pieces) + text[last:]
        super().__init__(replaced)


def words_pattern(words: str, *, whole_words: bool = True, case_sensitive: bool = False) -> re.Pattern[str]:
    """A pattern for ``words`` in running text: whitespace in them matches any run of it (line breaks too).

    ``whole_words`` keeps "Ann" from matching inside "Anne" or "planning".

    Example:
        >>> [m.span() for m in words_pattern("ann").finditer("Ann met ann.  Anne left.")]
        [(0, 3), (8, 11)]
    """
    if not words.strip():
        raise InvalidInput("the words to find are empty", fix="type the words to replace")
    pattern = r"\s+".join(re.escape(word) for word in words.split())
    if whole_words:
        pattern = rf"(?<!\w){pattern}(?!\w)"
    return re.compile(pattern, 0 if case_sensitive else re.IGNORECASE)


__all__ = ["OffsetMap", "Rewrite", "locate_passage", "passage_matches", "word_spans", "words_pattern"]

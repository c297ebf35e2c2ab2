"""Re-segmenting a source's turns into sentences or windows of sentences.

Sentences come from spaCy's rule-based sentencizer (``qualkit.nlp.load_nlp``), run on each turn
separately, and additionally split at blank-line paragraph breaks inside a turn. A window is a run of
``window`` consecutive sentences *within one turn* (non-overlapping; the last window of a turn may be
shorter), so a coded window never mixes speakers. Sentence and window segments keep the turn's
speaker, role, turn index, times, participant and attributes, and carry the marks that fall inside
them; in a subtitle turn merged from several cues, a sentence gets the times of its own cues. Unattributed and legend segments are passed through unchanged.

Example:
    >>> from qualkit.model import Source, Segment
    >>> src = Source("a.txt", "Ann: I was done. Totally done.", "txt")
    >>> src.segments = [Segment("a.txt", 5, 30, "I was done. Totally done.", speaker="Ann", turn=0)]
    >>> [s.text for s in segment(src, by="sentence")]
    ['I was done.', 'Totally done.']
"""

from __future__ import annotations

import bisect
import re
from typing import Any

from qualkit.errors import QualkitError
from qualkit.model import Mark, Segment, Source

MODES = ("turn", "sentence", "window")
_PARAGRAPH = re.compile(r"(?:\r\n|\r|\n)[ \t]*(?:\r\n|\r|\n)\s*")


def nlp_for_sentences() -> Any:
    from qualkit.nlp import load_nlp

    return load_nlp(lemmatizer=False)


def sentence_spans(text: str, start: int, end: int, nlp: Any) -> list[tuple[int, int]]:
    """Absolute (start, end) of each sentence in ``text[start:end]``, trimmed, paragraph breaks respected.

    Example:
        >>> from qualkit.nlp import load_nlp
        >>> sentence_spans("x Hi there. Bye", 2, 15, load_nlp(lemmatizer=False))
        [(2, 11), (12, 15)]
    """
    pieces: list[tuple[int, int]] = []
    position = start
    for match in _PARAGRAPH.finditer(text, start, end):
        pieces.append((position, match.start()))
        position = match.end()
    pieces.append((position, end))
    spans: list[tuple[int, int]] = []
    texts = [text[a:b] for a, b in pieces]
    for (a, _b), doc in zip(pieces, nlp.pipe(texts), strict=True):
        for sent in doc.sents:
            s, e = a + sent.start_char, a + sent.end_char
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if e > s:
                spans.append((s, e))
    return spans


def segment(source: Source, by: str = "sentence", window: int = 3, *, nlp: Any = None) -> list[Segment]:
    """Segments of ``source`` by ``turn`` (as read), ``sentence`` or ``window`` (N sentences within a turn).

    Works from the source's turn (and row) segments; calling it on a source already split into
    sentences re-splits nothing and returns them. ``nlp`` is a spaCy pipeline with sentence
    boundaries (default: a fresh blank English + sentencizer).

    Example:
        >>> from qualkit.model import Source, Segment
        >>> src = Source("a.txt", "Ann: I was done. Totally. Bye now.", "txt")
        >>> src.segments = [Segment("a.txt", 5, 34, "I was done. Totally. Bye now.", speaker="Ann", turn=0)]
        >>> [s.text for s in segment(src, by="window", window=2)]
        ['I was done. Totally.', 'Bye now.']
    """
    if by not in MODES:
        raise QualkitError(f"unknown segmentation {by!r}", fix="use segment_by='turn', 'sentence' or 'window'")
    if by == "window" and (not isinstance(window, int) or window < 1):
        raise QualkitError(f"window must be a positive number of sentences, not {window!r}", fix="use a window of 1 or more sentences, e.g. 3")
    if by == "turn":
        return list(source.segments)
    nlp = nlp or nlp_for_sentences()
    text = source.text
    cue_times = source.metadata.get("cues") or {}
    cue_offsets = source.metadata.get("cue_offsets") or {}
    result: list[Segment] = []
    for seg in source.segments:
        if seg.kind not in ("turn", "row"):
            result.append(seg)
            continue
        spans = sentence_spans(text, seg.start, seg.end, nlp)
        if by == "window":
            spans = [(spans[i][0], spans[min(i + window, len(spans)) - 1][1]) for i in range(0, len(spans), window)]
        kind = "sentence" if by == "sentence" else "window"
        times = cue_times.get(str(seg.turn))
        offsets = cue_offsets.get(str(seg.turn))
        if not times or not offsets or len(times) != len(offsets):
            times = offsets = None
        for index, (s, e) in enumerate(spans):
            time_start, time_end = seg.time_start, seg.time_end
            if times and offsets:  # the times of the cues this sentence was said in
                starts = [a for a, _ in offsets]
                first = max(bisect.bisect_right(starts, s) - 1, 0)
                last = max(bisect.bisect_left(starts, e) - 1, first)
                time_start, time_end = times[first][0], times[last][1]
            marks = [Mark(max(m.start, s), min(m.end, e), m.kind) for m in seg.marks if m.start < e and m.end > s]
            attributes = dict(seg.attributes)
            attributes[f"{kind}_index"] = index
            result.append(Segment(
                source=seg.source, start=s, end=e, text=text[s:e], speaker=seg.speaker, role=seg.role, kind=kind,
                turn=seg.turn, time_start=time_start, time_end=time_end, marks=marks,
                attributes=attributes, participant=seg.participant,
            ))
    return result

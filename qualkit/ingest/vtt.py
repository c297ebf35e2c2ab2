"""Reader for WebVTT subtitles (``.vtt``), e.g. Zoom/Teams meeting transcripts.

Parsing is strict where it matters for not losing words: the file must start with ``WEBVTT``; every
cue block must have a timing line ``start --> end`` (``00:01.000`` or ``00:00:01.000``; a comma
decimal is tolerated); NOTE, STYLE and REGION blocks are skipped. A malformed timing line or a block
of text without one raises :class:`~qualkit.errors.InvalidTranscript` naming its line. (webvtt-py 0.6
silently drops such cues and rounds times to whole seconds, which is why qualkit parses VTT itself.)

Example:
    >>> layout = vtt_layout("WEBVTT\\n\\n00:01.000 --> 00:02.500\\n<v Ann>Hello</v>\\n", "a.vtt")
    >>> layout.text, layout.items[0].time_end
    ('Ann: Hello', 2.5)
"""

from __future__ import annotations

import os
import re

from qualkit.errors import InvalidTranscript
from qualkit.ingest.encoding import split_lines
from qualkit.ingest.layout import Layout
from qualkit.ingest.limits import DEFAULT_LIMITS, Limits, over_limit
from qualkit.ingest.subtitles import Cue, cues_layout

_TIME = r"(?:\d{1,3}:)?\d{1,2}:\d{2}[.,]\d{1,3}"
TIMING = re.compile(rf"[ \t]*(?P<start>{_TIME})[ \t]+-->[ \t]+(?P<end>{_TIME})(?:[ \t]+.*)?")
# Anything that tries to be a timing line (so a typo is reported as a bad timing, not as stray text).
_LOOSE_TIMING = re.compile(r"-->|\d:\d\d\S*\s*(?:-+>?|=>|–|—)\s*\S*\d:\d\d")


def vtt_time(value: str) -> float:
    """Seconds from a WebVTT/SRT timestamp (``01:02.5``, ``00:01:02.500``, ``00:01:02,500``).

    Example:
        >>> vtt_time("00:01:02.500")
        62.5
    """
    whole, fraction = re.split(r"[.,]", value)
    parts = [int(p) for p in whole.split(":")]
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds + int(fraction) / 10 ** len(fraction)


def blocks(text: str) -> list[list[tuple[int, str]]]:
    """Blank-line separated blocks as lists of (1-based line number, line).

    Example:
        >>> blocks("a\\nb\\n\\nc")
        [[(1, 'a'), (2, 'b')], [(4, 'c')]]
    """
    result: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for number, (s, e) in enumerate(split_lines(text), start=1):
        line = text[s:e]
        if line.strip():
            current.append((number, line))
        elif current:
            result.append(current)
            current = []
    if current:
        result.append(current)
    return result


def looks_like_timing(line: str) -> bool:
    """Whether a line tries to be a cue timing line (only its first 200 characters are looked at).

    Example:
        >>> looks_like_timing("00:01.000 -> 00:02.000"), looks_like_timing("Ann: hi")
        (True, False)
    """
    return _LOOSE_TIMING.search(line[:200]) is not None


def count_cue(cues: list[Cue], path: str | os.PathLike[str], limits: Limits | None, line: int) -> None:
    """Refuse a subtitle file as soon as it holds more cues than the segment limit.

    Example:
        >>> count_cue([], "a.vtt", Limits(segments=1), 3) is None
        True
    """
    limit = (limits or DEFAULT_LIMITS).segments
    if len(cues) >= limit:
        raise over_limit("subtitle cues", len(cues) + 1, limit, path, line=line,
                         fix="split the subtitles into several files, or raise the limit "
                             "(limits=Limits(segments=...))")


def count_timings(text: str, path: str | os.PathLike[str], limits: Limits | None) -> None:
    """Refuse a subtitle file with more timing lines (``-->``) than the segment limit before parsing it.

    Example:
        >>> count_timings("00:01.000 --> 00:02.000", "a.vtt", None) is None
        True
    """
    limit = (limits or DEFAULT_LIMITS).segments
    count = text.count("-->")
    if count > limit:
        raise over_limit("subtitle cues", count, limit, path,
                         fix="split the subtitles into several files, or raise the limit "
                             "(limits=Limits(segments=...))")


def parse_vtt(text: str, path: str | os.PathLike[str], *, limits: Limits | None = None) -> list[Cue]:
    """The cues of a WebVTT document, or :class:`InvalidTranscript` at the first malformed line.

    Example:
        >>> parse_vtt("WEBVTT\\n\\n1\\n00:00:01.000 --> 00:00:02.000\\nHi\\n", "a.vtt")[0].text
        'Hi'
    """
    count_timings(text, path, limits)
    lines = split_lines(text.lstrip("\ufeff"))
    first_line = text.lstrip("\ufeff")[lines[0][0]:lines[0][1]] if lines else ""
    if not re.match(r"WEBVTT(?:[ \t]|$)", first_line):
        raise InvalidTranscript("a WebVTT file must start with the line WEBVTT", path=path, line=1,
                                fix="add WEBVTT as the first line, or save the file with the extension it really has")
    cues: list[Cue] = []
    for index, block in enumerate(blocks(text)):
        if index == 0:
            continue  # the WEBVTT header block
        first = block[0][1].strip()
        if re.match(r"(?:NOTE|STYLE|REGION)(?:[ \t]|$)", first):
            continue
        timing_at = 0 if looks_like_timing(block[0][1]) else 1
        if timing_at >= len(block) or not looks_like_timing(block[timing_at][1]):
            number = block[0][0]
            raise InvalidTranscript(f"text without a cue timing line: {first[:60]!r}", path=path, line=number,
                                    fix="add a timing line such as 00:00:01.000 --> 00:00:04.000 before it, "
                                        "or remove the stray text")
        number, timing = block[timing_at]
        match = TIMING.fullmatch(timing)
        if not match:
            raise InvalidTranscript(f"malformed cue timing {timing.strip()!r}", path=path, line=number,
                                    fix="write it as 00:00:01.000 --> 00:00:04.000")
        start, end = vtt_time(match.group("start")), vtt_time(match.group("end"))
        payload = block[timing_at + 1:]
        if any("-->" in line for _, line in payload):
            bad = next(n for n, line in payload if "-->" in line)
            raise InvalidTranscript("a cue has two timing lines (a blank line is missing between cues)", path=path,
                                    line=bad, fix="put a blank line between cues")
        count_cue(cues, path, limits, number)
        cues.append(Cue(start, end, None, "\n".join(line for _, line in payload),
                        payload[0][0] if payload else number))
    if not cues:
        raise InvalidTranscript("no subtitle cues found", path=path, line=1,
                                fix="check that this is a WebVTT file with cues (a timing line such as "
                                    "00:00:01.000 --> 00:00:04.000, then the text)")
    return cues


def require_text(layout: Layout, path: str | os.PathLike[str]) -> Layout:
    """``layout`` unchanged, or :class:`InvalidTranscript` when its cues hold no words at all.

    Example:
        >>> require_text(Layout("Ann: Hi"), "a.vtt").text
        'Ann: Hi'
    """
    if not layout.text.strip():
        raise InvalidTranscript("the subtitle cues hold no text", path=path, line=1,
                                fix="export the subtitles again with their text")
    return layout


def vtt_layout(text: str, path: str | os.PathLike[str], *, known: set[str] | None = None,
               limits: Limits | None = None) -> Layout:
    """The canonical text and layout of a WebVTT transcript (``limits`` is the registry's; cues are capped).

    Example:
        >>> vtt_layout("WEBVTT\\n\\n00:01.000 --> 00:02.000\\nBo: Hi\\n", "a.vtt").text
        'Bo: Hi'
    """
    cues = parse_vtt(text, path, limits=limits)
    layout = require_text(cues_layout(cues, known=known), path)
    for cue in cues:
        if cue.end < cue.start:
            layout.warnings.append(f"line {cue.line}: a cue ends before it starts")
            break
    return layout

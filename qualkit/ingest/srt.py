"""Reader for SubRip subtitles (``.srt``).

Each block is an optional cue number, a timing line ``00:00:01,000 --> 00:00:04,000`` (a dot decimal
is tolerated) and the text. A block with a number but no valid timing line raises
:class:`~qualkit.errors.InvalidTranscript` naming the line; a block of plain text right after a cue
(a blank line inside the cue's text, which some editors write) is kept as part of that cue, with a
warning, rather than dropped. (pysrt 1.1 silently drops such text, which is why qualkit parses SRT
itself, sharing the timing grammar with :mod:`qualkit.ingest.vtt`.)

Example:
    >>> srt_layout("1\\n00:00:01,000 --> 00:00:02,000\\nAnn: Hi\\n\\n2\\n00:00:02,000 --> 00:00:03,000\\nAnn: Ok\\n", "a.srt").text
    'Ann: Hi Ok'
"""

from __future__ import annotations

import os
import re

from qualkit.errors import InvalidTranscript
from qualkit.ingest.layout import Layout
from qualkit.ingest.limits import Limits
from qualkit.ingest.subtitles import Cue, cues_layout
from qualkit.ingest.vtt import (
    TIMING,
    blocks,
    count_cue,
    count_timings,
    looks_like_timing,
    require_text,
    vtt_time,
)


def parse_srt(text: str, path: str | os.PathLike[str], *,
              limits: Limits | None = None) -> tuple[list[Cue], list[str]]:
    """The cues of an SRT document and warnings, or :class:`InvalidTranscript` at the first malformed line.

    Example:
        >>> parse_srt("1\\n00:00:01,000 --> 00:00:02,000\\nHi\\n", "a.srt")[0][0].end
        2.0
    """
    count_timings(text, path, limits)
    cues: list[Cue] = []
    warnings: list[str] = []
    for block in blocks(text):
        lines = list(block)
        timing_at = None
        if re.fullmatch(r"\s*\d+\s*", lines[0][1]):
            if len(lines) < 2 or not looks_like_timing(lines[1][1]):
                number = lines[1][0] if len(lines) > 1 else lines[0][0]
                raise InvalidTranscript(f"cue {lines[0][1].strip()} has no timing line", path=path, line=number,
                                        fix="write the timing as 00:00:01,000 --> 00:00:04,000 on the line after "
                                            "the cue number")
            timing_at = 1
        elif looks_like_timing(lines[0][1]):
            timing_at = 0
        if timing_at is None:
            if not cues:
                raise InvalidTranscript(f"text before the first cue: {lines[0][1].strip()[:60]!r}", path=path,
                                        line=lines[0][0], fix="start the file with a cue number and timing line, "
                                                              "or save it as .txt if it is not a subtitle file")
            previous = cues[-1]
            cues[-1] = Cue(previous.start, previous.end, None,
                           previous.text + "\n" + "\n".join(line for _, line in lines), previous.line)
            warnings.append(f"line {lines[0][0]}: text after a blank line inside a cue was kept with that cue")
            continue
        number, timing = lines[timing_at]
        match = TIMING.fullmatch(timing)
        if not match:
            raise InvalidTranscript(f"malformed cue timing {timing.strip()!r}", path=path, line=number,
                                    fix="write it as 00:00:01,000 --> 00:00:04,000")
        payload = lines[timing_at + 1:]
        if any("-->" in line for _, line in payload):
            bad = next(n for n, line in payload if "-->" in line)
            raise InvalidTranscript("a cue has two timing lines (a blank line is missing between cues)", path=path,
                                    line=bad, fix="put a blank line between cues")
        count_cue(cues, path, limits, number)
        cues.append(Cue(vtt_time(match.group("start")), vtt_time(match.group("end")), None,
                        "\n".join(line for _, line in payload), payload[0][0] if payload else number))
    if not cues:
        raise InvalidTranscript("no subtitle cues found", path=path, line=1,
                                fix="check that this is an SRT file (number, timing line, text)")
    return cues, warnings


def srt_layout(text: str, path: str | os.PathLike[str], *, known: set[str] | None = None,
               limits: Limits | None = None) -> Layout:
    """The canonical text and layout of an SRT transcript (``limits`` is the registry's; cues are capped).

    Example:
        >>> srt_layout("1\\n00:00:01,000 --> 00:00:02,000\\n<i>Hi</i>\\n", "a.srt").text
        'Hi'
    """
    cues, warnings = parse_srt(text, path, limits=limits)
    layout = require_text(cues_layout(cues, known=known), path)
    layout.warnings[:0] = warnings
    return layout

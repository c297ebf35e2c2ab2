"""Shared by the WebVTT and SRT readers: cues → merged speaker turns → canonical text and layout.

Canonical text (CONTRIBUTING.md): one line per merged turn, ``f"{speaker}: {' '.join(cue_texts)}"``,
lines joined with ``"\\n"``; without a speaker the line is just the cue text. Cue texts have voice
tags removed, inner newlines replaced by a space, and are stripped; other markup (``<i>``, ``<c.x>``,
``{\\an8}``, inline timestamps) is removed too and HTML entities (``&amp;``) are decoded, since they
are formatting, not words. Consecutive cues of the same speaker merge into one turn whose time runs
from the first cue's start to the last cue's end; every cue's times are kept in
``source.metadata["cues"]`` (turn index → ``[[start, end], ...]``), and where each cue's words are in
``source.metadata["cue_offsets"]`` (turn index → ``[[start offset, end offset], ...]``), so sentence
segments get the times of their own cues. A cue's speaker comes from its ``<v Name>`` voice tag, or from a label at
the start of its text (``Name: ...``, ``[Name] ...``, ``>> Name: ...``) that recurs or is known.
Cues without a speaker become unattributed lines (each its own line, with its times).

Example:
    >>> cues = [Cue(1.0, 2.0, "Ann", "Hello", 3), Cue(2.0, 3.5, "Ann", "again", 6), Cue(4.0, 5.0, "Bo", "Hi", 9)]
    >>> layout = cues_layout(cues)
    >>> layout.text
    'Ann: Hello again\\nBo: Hi'
    >>> [(i.label, i.time_start, i.time_end) for i in layout.items]
    [('Ann', 1.0, 3.5), ('Bo', 4.0, 5.0)]
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass

from qualkit.ingest.layout import Item, Layout
from qualkit.ingest.speakers import find_candidate, label_key, label_shape

_VOICE = re.compile(r"<v(?:\.[^\s<>]{0,100})?(?:[ \t]+(?P<name>[^<>]{0,200}))?>", re.IGNORECASE)
# Bounded repeats: "<a<a<a..." without a ">" must not cost time quadratic in the cue's length.
_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,200}>|</?\d[^<>]{0,200}>|\{\\[^{}]{0,200}\}")
_CUE_LABEL_PREFIX = re.compile(r"[ \t]*(?:>>|-|–|—)[ \t]*")


@dataclass(slots=True)
class Cue:
    """One subtitle cue: times in seconds, the speaker (voice tag) if any, its raw text, its first line.

    Example:
        >>> Cue(0.0, 1.5, None, "<v Ann>Hi</v>", 3).speaker is None
        True
    """

    start: float
    end: float
    speaker: str | None
    text: str
    line: int


def clean_cue_text(text: str) -> str:
    """Cue text without tags and entities, inner newlines as spaces, stripped.

    Example:
        >>> clean_cue_text("<i>Hello</i> &amp;\\r\\n<b>bye</b> ")
        'Hello & bye'
    """
    text = _TAG.sub("", text)
    text = html.unescape(text).replace("\u200e", "").replace("\u200f", "")
    return re.sub(r"\r\n|\r|\n", " ", text).strip()


def split_voices(text: str) -> list[tuple[str | None, str]]:
    """``[(voice, text), ...]`` for a cue's raw text; several ``<v>`` spans in one cue become several parts.

    Example:
        >>> split_voices("<v Ann>Yes</v><v.loud Bo>No</v>")
        [('Ann', 'Yes'), ('Bo', 'No')]
    """
    matches = list(_VOICE.finditer(text))
    if not matches:
        return [(None, text)]
    parts: list[tuple[str | None, str]] = []
    if text[: matches[0].start()].strip():
        parts.append((None, text[: matches[0].start()]))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        name = (match.group("name") or "").strip() or None
        parts.append((name, re.sub(r"</v>", "", text[match.end():end], flags=re.IGNORECASE)))
    return parts


def _speaker_like(label: str, text: str) -> bool:
    """A label seen once in cues is a speaker when it is a role, a full name, or a proper noun."""
    shape = label_shape(label)
    if shape == "role":
        return True
    words = label.split(",")[0].split()
    if shape != "name":
        return False
    if len(words) >= 2 or "," in label:
        return True
    word = words[0]
    return word.lower() != word and re.search(rf"(?<!\w){re.escape(word.lower())}(?!\w)", text) is None


def cues_layout(cues: list[Cue], *, known: set[str] | None = None) -> Layout:
    """Merge cues into turns and render the canonical text (see the module docstring).

    Example:
        >>> cues_layout([Cue(0, 1, None, "Moderator: Hi all", 1), Cue(1, 2, None, "Moderator: Welcome", 4)]).text
        'Moderator: Hi all Welcome'
    """
    known = known or set()
    parts: list[tuple[str | None, str, Cue, str]] = []  # speaker, clean text, cue, how the speaker was found
    for cue in cues:
        if cue.speaker is not None:
            parts.append((cue.speaker, clean_cue_text(_VOICE.sub("", cue.text).replace("</v>", "")), cue, "voice"))
            continue
        for voice, raw in split_voices(cue.text):
            parts.append((voice, clean_cue_text(raw), cue, "voice" if voice else ""))
    # labels written inside the cue text
    label_of: list[tuple[str, int] | None] = []
    for speaker, text, _cue, _how in parts:
        found = None
        if speaker is None and text:
            prefix = _CUE_LABEL_PREFIX.match(text)
            following = text[prefix.end():prefix.end() + 1] if prefix else ""
            offset = prefix.end() if prefix and (following.isalpha() or following == "[") else 0
            candidate = find_candidate(text[offset:])
            if candidate is not None and candidate.style in ("colon", "bracket", "bold") and \
                    text[offset + candidate.prefix_end:].strip():
                found = (candidate.label, offset + candidate.prefix_end)
        label_of.append(found)
    counts = Counter(label_key(f[0]) for f in label_of if f)
    recurring = {key for key, n in counts.items() if n >= 2 or key in known}
    all_text = "\n".join(p[1] for p in parts)
    # Every unvoiced cue opens with a label, two or more of them: the file is written that way, as a .txt whose
    # every line has one is read (a stranger's MODERATOR: and ZOE:, once each, were left unattributed).
    unvoiced = [found for (speaker, text, _cue, _how), found in zip(parts, label_of, strict=True)
                if speaker is None and text]
    whole_file = bool(unvoiced) and all(unvoiced) and len({label_key(f[0]) for f in unvoiced}) >= 2
    resolved: list[tuple[str | None, str, Cue, str]] = []
    once: list[str] = []  # labels left as words: named in the warning when no cue gets a speaker
    for (speaker, text, cue, how), found in zip(parts, label_of, strict=True):
        if found is not None:
            key = label_key(found[0])
            if key in recurring or whole_file or (len(recurring) >= 2 and _speaker_like(found[0], all_text)):
                speaker, text, how = found[0], text[found[1]:].strip(), "cue_label"
            elif found[0] not in once:
                once.append(found[0])
        resolved.append((speaker, text, cue, how))

    layout = Layout("")
    lines: list[str] = []
    position = 0
    turns: list[list[tuple[str | None, str, Cue, str]]] = []
    for part in resolved:
        if not part[1]:
            continue
        if turns and part[0] is not None and turns[-1][0][0] == part[0]:
            turns[-1].append(part)
        else:
            turns.append([part])
    unattributed = 0
    for turn in turns:
        speaker = turn[0][0]
        body = " ".join(p[1] for p in turn)
        first, last = turn[0][2], turn[-1][2]
        cue_times = [[p[2].start, p[2].end] for p in turn]
        start = position if speaker is None else position + len(speaker) + 2
        cue_offsets = []
        for p in turn:  # where each cue's words sit in the canonical text, so sentences get their cue's time
            cue_offsets.append([start, start + len(p[1])])
            start += len(p[1]) + 1
        attributes = {"cues": cue_times, "cue_offsets": cue_offsets}
        if speaker is None:
            line = body
            item = Item("unattributed", position, position + len(body), time_start=first.start,
                        time_end=last.end, line=first.line, attributes=attributes)
            unattributed += 1
        else:
            line = f"{speaker}: {body}"
            layout.label_spans.append((position, position + len(speaker) + 1))
            start = position + len(speaker) + 2
            item = Item("turn", start, start + len(body), label=speaker, time_start=first.start,
                        time_end=last.end, line=first.line, style=turn[0][3], attributes=attributes)
            layout.styles[turn[0][3]] += 1
        layout.items.append(item)
        lines.append(line)
        position += len(line) + 1
    layout.text = "\n".join(lines)
    if unattributed and unattributed < len(turns):
        layout.warnings.append(f"{unattributed} cue line(s) have no speaker and are unattributed")
    elif unattributed and once:  # labels were there, but a label seen once may be words, not a speaker
        names = ", ".join(repr(n) for n in once[:4]) + (", ..." if len(once) > 4 else "")
        layout.warnings.append(f"{len(once)} cue(s) begin with a 'Name:' label seen only once ({names}), which "
                               "is not taken as a speaker by itself; all cues are unattributed. Import with a "
                               "participants file naming these speakers, or label the cues with <v Name>")
    elif unattributed:
        layout.warnings.append("no cue names a speaker (no <v Name> tags or 'Name:' labels); all cues are "
                               "unattributed; label the cues with <v Name> or 'Name:'")
    return layout

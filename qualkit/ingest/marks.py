"""Non-speech marks: ``(laughs)``, ``[crosstalk]``, ``[inaudible 00:12:03]``, ``(K griner)``, timestamps.

Marks stay in the text (nothing is removed) and are returned as :class:`~qualkit.model.Mark` spans
with absolute offsets, so coders and topic models can blank them (``Segment.clean_text``). A
bracketed phrase is a mark only when it uses the transcription vocabulary below (in English and a few
other languages transcribers commonly use), optionally after a speaker initial or name, optionally with a
timestamp: ``(laughs)``, ``(K griner)``, ``[Ann sighs]``, ``[inaudible 00:12:03]``. Bare timestamps inside
a turn (``[00:12:03]``) are marks of kind ``timestamp``.

Example:
    >>> [(m.start, m.end, m.kind) for m in find_marks("Yes (laughs) and [inaudible 00:12:03].")]
    [(4, 12, 'laughter'), (17, 37, 'inaudible')]
"""

from __future__ import annotations

import re

from qualkit.model import Mark

TIMESTAMP = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"

# kind -> words (lower case). Multi-word phrases allowed. Danish/Norwegian/Swedish/German/Dutch/French/Spanish
# forms are included because focus-group transcripts from those countries use them.
_VOCABULARY: dict[str, tuple[str, ...]] = {
    "laughter": ("laugh", "laughs", "laughing", "laughter", "chuckle", "chuckles", "chuckling", "giggle",
                 "giggles", "giggling", "smiles", "smiling", "griner", "griner lidt", "latter", "ler", "skratt",
                 "skrattar", "lacht", "lachen", "gelächter", "lacht", "rires", "rire", "rit", "risas", "ríe",
                 "lach", "gelach"),
    "crosstalk": ("crosstalk", "cross-talk", "cross talk", "overlapping", "overlapping speech", "overlap",
                  "talking over each other", "talking at once", "all talking", "multiple voices",
                  "several voices", "simultaneous speech", "snakker i munden på hinanden", "alle snakker"),
    "inaudible": ("inaudible", "unintelligible", "unclear", "indistinct", "incomprehensible", "uhørligt",
                  "utydeligt", "uforståeligt", "unverständlich", "inaudible speech", "audio unclear",
                  "audio cuts out", "audio drops", "garbled", "muffled"),
    "pause": ("pause", "pauses", "long pause", "short pause", "silence", "silent", "beat", "hesitates",
              "hesitation", "pause i", "stilhed", "tystnad", "schweigen"),
    "sound": ("sighs", "sigh", "sighing", "coughs", "cough", "coughing", "clears throat", "clearing throat",
              "sniffs", "sniffles", "cries", "crying", "tearful", "tearing up", "gasps", "groans", "laughs nervously",
              "applause", "claps", "clapping", "background noise", "noise", "phone rings", "phone ringing",
              "pager beeps", "pager", "alarm", "door opens", "door closes", "door", "knock", "knocking",
              "music", "typing", "sukker", "suk", "hoster", "rømmer sig", "græder", "seufzt", "hustet",
              "soupir", "tousse", "suspira", "tose"),
    "gesture": ("nods", "nodding", "shakes head", "shaking head", "shrugs", "gestures", "points", "pointing",
                "rolls eyes", "nikker", "ryster på hovedet", "nickt"),
    "interruption": ("interruption", "interrupted", "interrupts", "cuts in", "recording paused",
                     "recording resumed", "recording stops", "recording starts", "end of recording",
                     "recording ends", "recording ended", "recording stopped", "end of audio", "audio ends",
                     "end of tape", "end of interview", "interview ends", "interview ended", "end of session",
                     "end of transcript", "transcript ends", "end of focus group", "start of recording",
                     "recording begins", "break", "tape ends", "tape change", "afbrydelse"),
    "redaction": ("redacted", "name redacted", "removed", "name removed", "deleted", "anonymised",
                  "anonymized", "name", "hospital name", "place", "location", "identifying information",
                  "identifying detail", "identifying details"),
}
_WORD_KIND = {word: kind for kind, words in _VOCABULARY.items() for word in words}
_PHRASES = sorted(_WORD_KIND, key=len, reverse=True)
_PHRASE = "|".join(re.escape(p) for p in _PHRASES)
# Optional actor ("K", "Ann", "all", "several", "P3", "[name]"), the vocabulary phrase, optional detail
# ("loudly", "at 00:12:03", "2 sec", "hospital name redacted"), optional timestamp.
_INNER = (
    rf"(?:(?:[A-ZÆØÅÄÖÜ][\w'’.-]{{0,20}}|all|several|both|everyone|group|participants?|others?)\s+)?"
    rf"(?:{_PHRASE})"
    rf"(?:[ ,:;-]+(?:[\w'’.]+(?:\s+[\w'’.]+){{0,3}}?))??"
    rf"(?:[ ,:;-]*(?:at\s+)?{TIMESTAMP})?"
)
_MARK = re.compile(
    rf"\((?P<p>{_INNER}|{TIMESTAMP})\)|\[(?P<b>{_INNER}|{TIMESTAMP}|[^\[\]\r\n]{{0,40}}\b(?:redacted|removed)\b)\]"
    rf"|\{{(?P<c>{_INNER})\}}",
    re.IGNORECASE,
)
_TIMESTAMP_ONLY = re.compile(rf"\s*{TIMESTAMP}\s*")
# "[END OF RECORDING]", "[Recording ends]", "[Participant 3 leaves the room]": a bracketed line standing alone
# is the transcriber's note whatever its words (nobody says the brackets).
_BRACKETED_LINE = re.compile(r"(?<![^\r\n])[ \t]*(?P<line>\[(?P<b>[^\[\]\r\n]{1,80})\])[ \t]*(?![^\r\n])")
_ENDING = re.compile(r"\b(?:end|ends|ended|ending|stops?|stopped|finish(?:es|ed)?|conclu(?:des|ded|sion))\b",
                     re.IGNORECASE)
_RECORDING = re.compile(r"\b(?:recording|recorder|interview|tape|session|audio|transcript|focus group|call|meeting|"
                        r"discussion)\b", re.IGNORECASE)


def _kind(inner: str) -> str:
    if _TIMESTAMP_ONLY.fullmatch(inner):
        return "timestamp"
    lowered = inner.lower()
    if re.search(r"\b(?:redacted|removed|anonymi[sz]ed)\b", lowered):
        return "redaction"
    for phrase in _PHRASES:
        if re.search(rf"(?<![\w]){re.escape(phrase)}(?![\w])", lowered):
            return _WORD_KIND[phrase]
    return "nonspeech"


def find_marks(text: str, start: int = 0, end: int | None = None, *, offset: int = 0) -> list[Mark]:
    """Non-speech marks in ``text[start:end]``, as marks with offsets ``+ offset`` (absolute offsets).

    Example:
        >>> find_marks("Ann: (sighs) fine", 5)
        [Mark(start=5, end=12, kind='sound')]

    A bracketed line standing alone is a mark whatever its words (kind ``nonspeech`` unless the vocabulary
    names one):

        >>> find_marks("Yes.\\r\\n[Recording ends]\\r\\n[Participant 3 leaves]")
        [Mark(start=6, end=22, kind='interruption'), Mark(start=24, end=46, kind='nonspeech')]
    """
    end = len(text) if end is None else end
    marks = [Mark(m.start("line") + offset, m.end("line") + offset, _kind(m.group("b")))
             for m in _BRACKETED_LINE.finditer(text, start, end)]
    lines = [(m.start, m.end) for m in marks]
    for match in _MARK.finditer(text, start, end):
        if any(lo <= match.start() + offset < hi for lo, hi in lines):
            continue  # the bracketed line is the mark already
        inner = match.group("p") or match.group("b") or match.group("c") or ""
        marks.append(Mark(match.start() + offset, match.end() + offset, _kind(inner)))
    marks.sort(key=lambda mark: mark.start)
    return marks


def is_bracketed_line(line: str) -> bool:
    """True when ``line`` is one bracketed note standing alone (``[END OF RECORDING]``, ``[inaudible]``).

    Example:
        >>> is_bracketed_line("  [Recording ends] "), is_bracketed_line("[inaudible] she said"), is_bracketed_line("Yes.")
        (True, False, False)
    """
    return _BRACKETED_LINE.fullmatch(line) is not None


def says_the_end(line: str) -> bool:
    """True when a bracketed note says the recording (interview, session, tape) has ended.

    Example:
        >>> says_the_end("[END OF RECORDING]"), says_the_end("[Recording ends]"), says_the_end("[inaudible]")
        (True, True, False)
        >>> says_the_end("[phone stops ringing]")
        False
    """
    match = _BRACKETED_LINE.fullmatch(line)
    return match is not None and _ENDING.search(match.group("b")) is not None and \
        _RECORDING.search(match.group("b")) is not None


def is_mark_only(text: str) -> bool:
    """True when ``text`` (stripped) is one non-speech mark and nothing else.

    Example:
        >>> is_mark_only(" [crosstalk] "), is_mark_only("[Ann]")
        (True, False)
    """
    stripped = text.strip()
    match = _MARK.fullmatch(stripped)
    return match is not None


def is_mark_word(label: str) -> bool:
    """True when a would-be speaker label is really mark vocabulary (``[crosstalk]``, ``[Inaudible]``).

    Example:
        >>> is_mark_word("Crosstalk"), is_mark_word("Ann")
        (True, False)
    """
    lowered = label.strip().lower()
    return lowered in _WORD_KIND or bool(re.fullmatch(rf"(?:{_PHRASE})(?:\s+{TIMESTAMP})?", lowered))

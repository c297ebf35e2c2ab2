"""From lines of text to turns, legend entries and unattributed lines (shared by .txt, .md and .docx).

:func:`detect_layout` decides, line by line, what each line is:

* a **label line** (an accepted speaker label, see :mod:`qualkit.ingest.speakers`) starts a turn; the
  turn's text starts after the label and runs over the following lines until the next label line,
  trimmed of surrounding whitespace;
* a **legend line** at the top (``I1: Interviewer 1``, ``P2 = nurse, 12 years``) becomes speaker
  metadata and a ``legend`` segment; ``Code: description`` lines without a ``Key:`` heading only when
  they read as definitions and stand apart from the talk (see :func:`_find_legend`), otherwise they
  are the opening turns;
* a label seen only once is a turn when it is in the style of the recurring labels and looks like a
  name or role (before the first recurring label its text must also read as talk, not as metadata
  such as ``Host: Jordan Lee``), and written unlike all of them (``URGENT`` among ``P1``, ``P2``) it must not sit
  straight under a line of a turn (``We had a page that said`` / ``URGENT: call back now``); label-like lines left
  as text are listed in the warnings;
* an **unattributed line**: anything before the first turn (titles, page chrome, show notes), headings
  and page furniture inside the transcript (``## Part 2``, ``Page 3 of 12``, ``Question 4: ...``,
  cookie banners, "Subscribe"), and the footer after the last turn once chrome starts there;
* when no line starts with a label, a **label on a line of its own** (``INTERVIEWER``, ``P1``) with the talk on
  the lines below starts a turn, but only when the file is written so throughout (see :func:`own_line_labels`);
* a bracketed note standing alone below the last turn (``[END OF RECORDING]``, ``[Recording ends]``, a last
  ``[inaudible]``) is the transcriber's, not the last speaker's: it and the lines after a note that says the
  recording ended are unattributed (the note stays a mark, see :mod:`qualkit.ingest.marks`);
* anything else continues the current turn (after an interruption by an unattributed line, the same
  speaker's turn continues as a second piece with the same turn number).

Every non-whitespace character of the text ends up in exactly one item (turn, legend, unattributed) or
in one label prefix (``Layout.label_spans``): this is the accounting the property tests check.

Example:
    >>> layout = detect_layout("Focus group 1\\n\\nAnn: I am tired.\\nBo: Me too.\\nAnn: Yes.\\n")
    >>> [(i.kind, i.label, layout.text[i.start:i.end]) for i in layout.items]
    [('unattributed', None, 'Focus group 1'), ('turn', 'Ann', 'I am tired.'), ('turn', 'Bo', 'Me too.'), ('turn', 'Ann', 'Yes.')]
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qualkit.ingest.encoding import split_lines
from qualkit.ingest.marks import TIMESTAMP, is_bracketed_line, is_mark_only, says_the_end
from qualkit.ingest.speakers import (
    CALENDAR_NAMES,
    NUMBERED_HEADING,
    TITLES,
    Candidate,
    find_candidate,
    heading_label,
    is_moderator_label,
    label_end,
    label_key,
    label_shape,
    looks_like_description,
    mentions_moderator,
    parse_time,
)

_TIME_LINE = re.compile(rf"\s*(?:\[({TIMESTAMP})\]|\(({TIMESTAMP})\)|({TIMESTAMP}))\s*")


def time_line(line: str) -> float | None:
    """The time a line holds when it is a timestamp and nothing else (``[00:14:32]``, ``(1:02)``, ``0:05``).

    Example:
        >>> time_line("  [00:14:32] "), time_line("00:05"), time_line("[00:14:32] Ann: hi")
        (872.0, 5.0, None)
    """
    match = _TIME_LINE.fullmatch(line)
    return None if match is None else parse_time(next(g for g in match.groups() if g))

STYLE_EXAMPLES = {
    "colon": "Name:", "name_note": "Name (role):", "bold": "**Name:**", "bracket": "[Name]",
    "own_line": "Name (own line, talk below)", "name_time": "Name (00:01:02):", "colon_time": "Name: (00:01:02)",
    "name_time_bare": "Name 00:01:02 ...",
    "time_name": "00:01:02 Name:", "time_name_bracket": "[00:01:02] Name:", "time_name_paren": "(00:01:02) Name:", "star_time": "*1:40 = Name:", "header_line": "Name 00:01:02 (own line)",
    "time_bracket": "(00:01:02) [Name]", "dash": "R1 - ...",
    "bold_run": "bold Name: in Word", "table": "speaker/time/text table", "voice": "<v Name>",
    "cue_label": "Name: in cues", "column": "speaker column",
}

_HEADING_MD = re.compile(r"[ \t]{0,3}#{1,6}[ \t]+\S")
_RULE = re.compile(r"[ \t]*([-*_=~•·])(?:[ \t]*\1){2,}[ \t]*")
_PAGE = re.compile(r"[ \t]*\[?(?:page[ \t]+\d+(?:[ \t]*(?:of|/)[ \t]*\d+)?|\d+[ \t]*(?:of|/)[ \t]*\d+|-[ \t]*\d+[ \t]*-)\]?"
                   r"[ \t]*", re.IGNORECASE)
_BOILERPLATE = re.compile(
    r"[ \t]*(?:©|\(c\)[ \t]*\d{4}|copyright\b|all rights reserved|skip to (?:main )?content|accept(?: all)? cookies|"
    r"we use cookies|this (?:site|website) uses cookies|cookie (?:settings|preferences|policy|notice)|"
    r"manage (?:cookies|preferences|consent)|reject all|privacy policy|terms (?:of|&|and) (?:use|service)|"
    r"subscribe\b|sign (?:in|up)\b|log ?in\b|log ?out\b|create (?:an )?account|back to top|share (?:this|on)\b|"
    r"follow us|listen (?:on|now|to)\b|apple podcasts|google podcasts|spotify|stitcher|rss feed|newsletter|"
    r"related (?:episodes|posts|articles|content|stories)|more episodes|read more\b|click here|"
    r"download (?:the )?(?:transcript|episode|mp3|pdf|audio)|(?:this )?transcript (?:was )?(?:auto-)?"
    r"(?:generated|produced|created|edited)|end of (?:the )?(?:transcript|recording|interview|session|focus group)|"
    r"\[?end\]?[ \t]*$|powered by|advertisement|sponsored by|menu[ \t]*$|home[ \t]*$|search[ \t]*$|"
    r"previous episode|next episode|episode notes|show notes|support (?:the|this|our) (?:show|podcast)|"
    r"donate\b|contact us|about us|leave a (?:comment|reply)|comments?[ \t]*\(\d+\)|\d+[ \t]+comments?[ \t]*$|"
    r"filed under|posted (?:on|in|by)\b|published (?:on|by)\b|tweet[ \t]*$|share[ \t]*$|print[ \t]*$|"
    r"email[ \t]*$|(?:home|podcasts?|episodes?|about|blog|shop|contact)(?:[ \t]*[|›>»·•][ \t]*\w[\w ]{0,20}){1,})",
    re.IGNORECASE,
)
# Web-page phrases people also say ("log in", "share on"): after a speaker's words, only chrome when not talk.
# ("Subscribe to the show ...", "Follow us ..." are left to be chrome: a podcast page's sign-off, hardly talk.)
_SAID_TOO = re.compile(r"[ \t]*(?:sign (?:in|up)|log ?in|log ?out|share|listen|read more|click here|donate|"
                       r"contact us|about us|posted|published|search|home|print|email|menu|related)\b",
                       re.IGNORECASE)
_ALLCAPS_HEADING = re.compile(r"[ \t]*[A-Z0-9][A-Z0-9 &/,'’()-]{2,60}[ \t]*")
_LEGEND_HEADING = re.compile(r"[ \t]*(?:#+[ \t]*)?(?:\*\*)?(?:key|legend|speakers?|participants|present|codes|"
                             r"speaker (?:key|codes|legend)|abbreviations|attendees|people)[ \t]*:?(?:\*\*)?[ \t]*",
                             re.IGNORECASE)
_LEGEND_ENTRY = re.compile(r"(?P<code>[^\W_][^=:\r\n]{0,30}?)[ \t]*=[ \t]*(?P<desc>[^=\r\n]+?)[ \t]*"
                           r"(?=$|[;,][ \t]*[^\W_][^=:,;\r\n]{0,30}?[ \t]*=)", re.UNICODE)
_LEGEND_PREFIX = re.compile(r"[ \t]*(?:(?:key|legend|speakers?|codes)[ \t]*:[ \t]*)?", re.IGNORECASE)
_TERMINAL = tuple(".?!…\"”’)]:;")


@dataclass(slots=True)
class Item:
    """One thing a reader found: a turn (or a piece of one), a legend entry, an unattributed line, a row.

    ``start``/``end`` delimit the text (for a turn: after the label), trimmed of whitespace.

    Example:
        >>> Item("turn", 5, 16, label="Ann").label
        'Ann'
    """

    kind: str
    start: int
    end: int
    label: str | None = None
    time_start: float | None = None
    time_end: float | None = None
    line: int | None = None
    style: str | None = None
    continued: bool = False
    participant: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Hint:
    """What a structured reader already knows about a line (a bold label, a table row, a table header).

    Example:
        >>> Hint("label", label="Ann", prefix_end=5).kind
        'label'
    """

    kind: str  # "label" | "item" | "unattributed"
    label: str | None = None
    prefix_end: int | None = None
    label_stop: int | None = None
    time: float | None = None
    style: str | None = None
    items: list[Item] = field(default_factory=list)
    label_spans: list[tuple[int, int]] = field(default_factory=list)


@dataclass(slots=True)
class Layout:
    """The reader's result before speakers are resolved: text, items, label prefixes, legend, notes.

    Example:
        >>> Layout("x").items
        []
    """

    text: str
    items: list[Item] = field(default_factory=list)
    label_spans: list[tuple[int, int]] = field(default_factory=list)
    legend: dict[str, str] = field(default_factory=dict)
    styles: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def label_style(self) -> str | None:
        """The label styles used, most frequent first (``"Name: (41), **Name:** (3)"``)."""
        if not self.styles:
            return None
        return ", ".join(f"{STYLE_EXAMPLES.get(s, s)} ({n})" for s, n in self.styles.most_common())


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


_FOOTNOTE = re.compile(r"\s*(?:[¹²³⁴⁵⁶⁷⁸⁹⁰]+|\[\d{1,2}\])\s+\S")  # "1) ..." may be a list in the talk


def is_footnote(line: str) -> bool:
    """True for a footnote line (``¹ Transcribed verbatim``, ``[2] Name removed``), read after the last turn.

    Example:
        >>> is_footnote("¹ Transcribed verbatim; details removed."), is_footnote("1) more staff"), is_footnote("I agree.")
        (True, False, False)
    """
    return _FOOTNOTE.match(line) is not None


def is_chrome(line: str, *, in_talk: bool = False) -> bool:
    """True for headings and page furniture that belong to no speaker even inside a transcript.

    ``in_talk``: the line follows a speaker's words. There a web page's phrase ("Log in", "Subscribe") that
    reads as a sentence, or goes on from the line above in lower case, is the speaker's: "Login takes ages
    on the ward PCs." was cut out of a turn as page furniture.

    Example:
        >>> is_chrome("## Part 2"), is_chrome("Page 3 of 12"), is_chrome("Subscribe to our newsletter")
        (True, True, True)
        >>> is_chrome("I subscribe to that view.")
        False
        >>> is_chrome("Login takes ages on the ward PCs.", in_talk=True), is_chrome("Log in", in_talk=True)
        (False, True)
    """
    stripped = line.strip()
    if not stripped:
        return False
    if _HEADING_MD.match(line) or _RULE.fullmatch(line) or _PAGE.fullmatch(line):
        return True
    words = stripped.split()
    talk = in_talk and bool(_SAID_TOO.match(line)) and (
        (len(words) >= 3 and stripped.endswith((".", "!", "?", "…"))) or stripped[0].islower())
    if len(words) <= 15 and len(stripped) <= 160 and _BOILERPLATE.match(line) and not talk:
        return True
    head = re.split(r"[:.\-–—]\s", stripped, maxsplit=1)[0].rstrip(":.")
    if NUMBERED_HEADING.fullmatch(head) and len(words) <= 16:
        return True
    letters = sum(c.isalpha() for c in stripped)
    return bool(letters >= 4 and len(words) <= 8 and _ALLCAPS_HEADING.fullmatch(line) and not is_mark_only(line)
                and not stripped.endswith((".", "!", "?")))


def _title_like(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and len(stripped.split()) <= 6 and not stripped.endswith(_TERMINAL)


def parse_legend_line(line: str) -> list[tuple[str, str]] | None:
    """``[(code, description), ...]`` for ``P2 = nurse, 12 years`` or ``Key: I = interviewer; R = respondent``.

    Example:
        >>> parse_legend_line("Key: I = interviewer, R = respondent")
        [('I', 'interviewer'), ('R', 'respondent')]
        >>> parse_legend_line("P2 = nurse, 12 years")
        [('P2', 'nurse, 12 years')]
    """
    prefix = _LEGEND_PREFIX.match(line)
    position = prefix.end() if prefix else 0
    entries: list[tuple[str, str]] = []
    rest = line[position:]
    for match in _LEGEND_ENTRY.finditer(rest):
        if rest[:match.start()].strip(" \t;,") and not entries:
            return None
        code, desc = match.group("code").strip(), match.group("desc").strip()
        if label_shape(code) is None or not looks_like_description(desc.replace(",", " ")):
            return None
        entries.append((code, desc))
    if not entries:
        return None
    covered = "".join(ch for ch in _LEGEND_ENTRY.sub("", rest) if not ch.isspace() and ch not in ",;")
    return entries if not covered else None


def detect_layout(
    text: str,
    *,
    known: set[str] | None = None,
    hints: dict[int, Hint] | None = None,
    first_line_number: int = 1,
) -> Layout:
    """Split ``text`` into turns, legend entries and unattributed lines (see the module docstring).

    ``known`` holds :func:`~qualkit.ingest.speakers.label_key` values that are speakers for sure
    (participants, aliases); ``hints`` maps a line index to what a structured reader already knows.

    Example:
        >>> layout = detect_layout("I: How are you?\\nR: Tired.\\nI: Why?\\nR: Nights.\\n")
        >>> [i.label for i in layout.items]
        ['I', 'R', 'I', 'R']
    """
    known = known or set()
    hints = hints or {}
    layout = Layout(text)
    spans = split_lines(text)
    lines = [text[s:e] for s, e in spans]
    n = len(lines)
    blank = [not line.strip() for line in lines]

    # ---- candidates and their recurrence
    candidates: list[Candidate | None] = [None] * n
    forced = [False] * n
    for i, line in enumerate(lines):
        hint = hints.get(i)
        if hint is not None and hint.kind == "label" and hint.label:
            stop = hint.label_stop if hint.label_stop is not None else hint.prefix_end or 0
            candidates[i] = Candidate(hint.style or "bold_run", hint.label, len(line) - len(line.lstrip()),
                                      hint.prefix_end or 0, hint.time, label_shape(hint.label) or "name")
            candidates[i].prefix_end = max(hint.prefix_end or 0, stop)
            forced[i] = True
        elif hint is None and not blank[i]:
            candidate = find_candidate(line)
            if candidate is not None and label_key(candidate.label) in CALENDAR_NAMES and \
                    label_key(candidate.label) not in known:
                candidate = None  # "May: the rota changes" lists a month unless a participant is called May
            candidates[i] = candidate
    # A name written in lower case ("helen:", "łukasz :") is not name-shaped, but it is a label where the same
    # name is written as one elsewhere (or is a participant): a stranger's 79 such turns ran into the turn before.
    named = known | {label_key(c.label) for c in candidates if c is not None}
    for i, line in enumerate(lines):
        if candidates[i] is None and hints.get(i) is None and not blank[i]:
            candidate = find_candidate(line, named)
            if candidate is not None and label_key(candidate.label) in named:
                candidates[i] = candidate
    counts = Counter(label_key(c.label) for c in candidates if c is not None)
    strong = [c is not None and (forced[i] or label_key(c.label) in known or counts[label_key(c.label)] >= 2)
              for i, c in enumerate(candidates)]
    if not any(strong):
        styles = Counter(c.style for c in candidates if c is not None)
        strong = [c is not None and styles[c.style] >= 2 for c in candidates]

    # ---- legend block at the top
    legend_lines: dict[int, list[tuple[str, str]]] = {}
    first_strong = next((i for i in range(n) if strong[i] or (hints.get(i) and hints[i].kind == "item")), n)
    legend_note = _find_legend(lines, blank, candidates, strong, counts, first_strong, legend_lines, hints)
    if legend_note:
        layout.warnings.append(legend_note)
    for entries in legend_lines.values():
        for code, desc in entries:
            layout.legend.setdefault(code, desc)
            known.add(label_key(code))

    # ---- accept labels seen once that behave like the recurring ones
    accepted = [strong[i] and i not in legend_lines for i in range(n)]
    first_turn = next((i for i in range(n) if accepted[i] or (hints.get(i) and hints[i].kind == "item")), n)
    strong_styles = Counter(candidates[i].style for i in range(n) if accepted[i])
    any_role = any(candidates[i].shape == "role" for i in range(n) if accepted[i])
    words = _WordIndex(text)
    runs_on = _mid_turn_rule(lines, blank, accepted)
    forms = {_capitals(candidates[i].label) for i in range(n) if accepted[i]}
    rejected: list[str] = []
    for i in range(n):
        c = candidates[i]
        if c is None or accepted[i] or i in legend_lines or i == first_turn:
            continue
        # "P2: We had a page that said / URGENT: call back now": a one-off label written unlike every recurring
        # one (in capitals among P1, P2), straight below a line of the turn where this file's turns are set
        # apart (by blank lines, or by a finished sentence), continues that turn.
        if not _accept_singleton(c, strong_styles, any_role, words) or (
                i > first_turn and _capitals(c.label) not in forms and runs_on(i)):
            rejected.append(f"line {i + first_line_number}: {c.label!r}")
            continue
        # Before the first recurring label, a one-off speaker ("Dr Okafor: Welcome everyone...") opens
        # the talk; "Host: Jordan Lee" there is page metadata, so the body must read as talk.
        if i < first_turn and (is_chrome(lines[i]) or looks_like_description(lines[i][c.prefix_end:])):
            rejected.append(f"line {i + first_line_number}: {c.label!r}")
            continue
        accepted[i] = True
    if rejected:
        shown = ", ".join(rejected[:5]) + (f" and {len(rejected) - 5} more" if len(rejected) > 5 else "")
        layout.warnings.append(f"{len(rejected)} label-like line start(s) appear only once and were kept as text "
                               f"({shown}); if they are speakers, name them in the participants list or the "
                               "speaker aliases")

    if not any(accepted) and not any(h.kind in ("label", "item") for h in hints.values()):
        # "INTERVIEWER" on a line of its own, the talk on the lines below: only when the whole file is written so.
        own, note = own_line_labels(lines, known=known, first_line_number=first_line_number)
        for i, c in own.items():
            candidates[i], accepted[i] = c, True
        if note:
            layout.warnings.append(note)

    closing_notes = n  # from here on every line is blank or a bracketed note ("[inaudible]", "[Recording ends]")
    while closing_notes > 0 and (blank[closing_notes - 1] or is_bracketed_line(lines[closing_notes - 1])):
        closing_notes -= 1
    last_label = max((i for i in range(n) if accepted[i] or (hints.get(i) and hints[i].kind == "item")),
                     default=-1)

    # ---- walk the lines
    current: dict[str, Any] | None = None  # the open turn piece
    resume: dict[str, Any] | None = None  # speaker to continue after an interruption
    trailing = False
    stamp: float | None = None  # a timestamp on its own line, for the label that follows it

    def close() -> None:
        nonlocal current
        if current is not None and current["end"] > current["start"]:
            layout.items.append(Item("turn", current["start"], current["end"], label=current["label"],
                                     time_start=current["time"], line=current["line"], style=current["style"],
                                     continued=current["continued"]))
        current = None

    def unattributed(i: int) -> None:
        start, end = _trim(text, *spans[i])
        if end > start:
            layout.items.append(Item("unattributed", start, end, line=i + first_line_number))

    for i in range(n):
        s, e = spans[i]
        line = lines[i]
        hint = hints.get(i)
        if hint is not None and hint.kind in ("item", "unattributed"):
            close()
            resume = None
            if hint.kind == "item":
                layout.items.extend(hint.items)
                layout.label_spans.extend(hint.label_spans)
                for item in hint.items:
                    if item.style:
                        layout.styles[item.style] += 1
            else:
                unattributed(i)
            continue
        if blank[i]:
            continue
        if i in legend_lines:
            close()
            start, end = _trim(text, s, e)
            entries = legend_lines[i]
            layout.items.append(Item("legend", start, end, line=i + first_line_number,
                                     attributes={"legend": {code: desc for code, desc in entries}}))
            continue
        if not trailing and not accepted[i] and (time := time_line(line)) is not None:
            following = next((j for j in range(i + 1, n) if not blank[j]), None)
            if following is not None and accepted[following] and following not in legend_lines:
                # "[00:14:32]" above "P07: ..." (a transcription service's layout) dates P07's turn: it is
                # read as part of that turn's label, not left in the turn before nor as a turn of its own.
                close()
                resume, stamp = None, time
                layout.label_spans.append(_trim(text, s, e))
                continue
        if accepted[i] and not trailing:
            close()
            resume = None
            c = candidates[i]
            stop = label_end(line, c) if not forced[i] else len(line[: c.prefix_end].rstrip(" \t"))
            layout.label_spans.append((s + c.prefix_start, s + stop))
            layout.styles[c.variant or c.style] += 1
            start, end = _trim(text, s + c.prefix_end, e)
            current = {"label": c.label, "start": start, "end": end, "time": c.time if c.time is not None else stamp,
                       "line": i + first_line_number, "style": c.style, "continued": False}
            stamp = None
            if end == start:
                current["start"] = current["end"] = -1  # body starts on a later line
            continue
        if i > last_label and not trailing and (current or resume):
            previous_blank = i > 0 and blank[i - 1]
            if is_bracketed_line(line) and (i >= closing_notes or says_the_end(line)):
                trailing = True  # "[END OF RECORDING]" below the last turn: the transcriber's, not the speaker's
            elif is_chrome(line, in_talk=True) or is_footnote(line) or (previous_blank and ((_title_like(line) and not is_mark_only(line))
                                                                            or heading_label(line))):
                trailing = True  # after the last turn: page furniture, a footnote, a closing heading
        if trailing or is_chrome(line, in_talk=True):
            if current is not None:
                resume = dict(current, start=-1, end=-1, continued=True)
            close()
            unattributed(i)
            continue
        if current is None and resume is not None:
            current, resume = resume, None
        if current is None:
            unattributed(i)
            continue
        start, end = _trim(text, s, e)
        if current["start"] < 0:
            current["start"] = start
        current["end"] = end
    close()
    layout.items.sort(key=lambda item: item.start)
    return layout


_OWN_LINE_END = tuple(".?!…,;:")


def _own_line_label(line: str, known: set[str]) -> Candidate | None:
    """A line that is nothing but a short speaker label (``INTERVIEWER``, ``P1``, ``Dr Jane Okafor``), or None."""
    stripped = line.strip()
    if not stripped or len(stripped) > 40 or len(stripped.split()) > 4 or stripped.endswith(_OWN_LINE_END):
        return None
    label = re.sub(r"\s+", " ", stripped)
    key = label_key(label)
    shape = label_shape(label)
    if shape is None and key in known:
        shape = "name"
    if shape is None or (key in CALENDAR_NAMES and key not in known) or time_line(line) is not None:
        return None
    start = len(line) - len(line.lstrip())
    return Candidate("own_line", label, start, len(line), None, shape)


def own_line_labels(lines: list[str], *, known: set[str] | None = None,
                    first_line_number: int = 1) -> tuple[dict[int, Candidate], str | None]:
    """Speaker labels written on a line of their own with the talk on the next lines, when the file is written so.

    Returns ``({line index: candidate}, warning)``. The layout is taken only when it is consistent through the
    file: labels recur (or are known speakers) on their own lines, each directly above talk, starting the
    paragraphs where the file has blank lines; or every paragraph opens with such a line and they name a known
    speaker, or are roles with a moderator among them (``INTERVIEWER``, ``P1``). A label seen once then counts
    when it is a role, or a name never written in lower case elsewhere, and it sits where the others do (opening
    a paragraph or not). Otherwise nothing is taken; the warning names the lines left as text.

    Example:
        >>> lines = "INTERVIEWER|How was the night shift?||P1|Long. Nobody came.".split("|")
        >>> sorted((i, c.label) for i, c in own_line_labels(lines)[0].items())
        [(0, 'INTERVIEWER'), (3, 'P1')]
        >>> own_line_labels(["Ann Smith", "Came to the meeting.", "", "Bo", "Did not."])[0]
        {}
    """
    known = known or set()
    n = len(lines)
    blank = [not line.strip() for line in lines]
    found: dict[int, Candidate] = {}
    for i, line in enumerate(lines):
        if blank[i] or i + 1 >= n or blank[i + 1]:
            continue
        c = _own_line_label(line, known)
        if c is not None and _own_line_label(lines[i + 1], known) is None:
            found[i] = c
    if not found:
        return {}, None
    keys = Counter(label_key(c.label) for c in found.values())
    opens = {i: i == 0 or blank[i - 1] for i in found}  # the label opens a paragraph
    first = min(found)
    paragraphs = [i for i in range(first, n) if not blank[i] and (i == 0 or blank[i - 1])]
    recurring = [i for i, c in found.items() if keys[label_key(c.label)] >= 2 or label_key(c.label) in known]
    later = [i for i in recurring if i != first]  # the file's first label opens a paragraph however it is written
    by_paragraph = sum(opens[i] for i in later)
    layout_ok = (len(recurring) >= 2 and len({label_key(found[i].label) for i in recurring}) >= 2
                 and by_paragraph in (0, len(later))
                 and (by_paragraph == 0 or sum(opens.values()) >= 0.5 * len(paragraphs)))
    # Every paragraph opens with such a line, and they are known speakers or roles with a moderator among them.
    every = len(paragraphs) >= 2 and all(i in found for i in paragraphs)
    roles = every and (any(label_key(found[i].label) in known for i in paragraphs) or (
        all(found[i].shape == "role" for i in paragraphs) and any(is_moderator_label(found[i].label)
                                                                   for i in paragraphs)))
    if not (layout_ok or roles):
        if len(found) >= 2 and all(opens.values()):
            shown = ", ".join(f"line {i + first_line_number}: {c.label!r}" for i, c in list(found.items())[:5])
            return {}, (f"{len(found)} line(s) could be speaker labels on a line of their own with the talk below "
                        f"({shown}) but were kept as text, as they do not recur through the file; if they are "
                        "speakers, name them in the participants list or the speaker aliases")
        return {}, None
    by_paragraph_style = roles or by_paragraph > 0
    words = _WordIndex("\n".join(lines))
    taken: dict[int, Candidate] = {}
    left: list[str] = []
    for i, c in found.items():
        if i not in recurring and ((i != first and opens[i] != by_paragraph_style)
                                   or (c.shape != "role" and not _proper_name(c.label, words))):
            left.append(f"line {i + first_line_number}: {c.label!r}")
            continue
        taken[i] = c
    if not left:
        return taken, None
    shown = ", ".join(left[:5]) + (f" and {len(left) - 5} more" if len(left) > 5 else "")
    return taken, (f"{len(left)} short line(s) above talk appear only once and were kept as text ({shown}); if they "
                   "are speakers, name them in the participants list or the speaker aliases")


def _proper_name(label: str, words: _WordIndex) -> bool:
    """A name as speakers are named: several words or a title, or a word never written in lower case."""
    parts = label.split()
    if len(parts) >= 2 or parts[0].rstrip(".").casefold() in TITLES:
        return True
    word = parts[0]
    return word.lower() != word and words.count(word.lower()) == 0


class _WordIndex:
    """The words of a text, counted once, so checks on many one-off labels stay linear in the text.

    Example:
        >>> index = _WordIndex("Ann: honestly, yes. Honestly: no")
        >>> index.count("honestly"), index.count("Honestly"), index.count("Bo")
        (1, 1, 0)
    """

    _WORD = re.compile(r"\w+", re.UNICODE)

    def __init__(self, text: str) -> None:
        self.text = text
        self.counts: Counter[str] = Counter(self._WORD.findall(text))

    def count(self, word: str) -> int:
        """Occurrences of ``word`` as a whole word (exactly as written)."""
        if self._WORD.fullmatch(word):
            return self.counts[word]
        return len(re.findall(rf"(?<!\w){re.escape(word)}(?!\w)", self.text))  # rare: O'Brien, Jean-Luc


_SENTENCE_END = tuple(".?!…\"”’»)]-–—*")


def _finished(line: str) -> bool:
    """Whether a line ends a sentence (emoji and other symbols after the full stop are looked past)."""
    end = len(line)
    while end and (line[end - 1].isspace() or unicodedata.category(line[end - 1]).startswith("S")
                   or line[end - 1] in "\u200d\ufe0f"):
        end -= 1
    return line[:end].endswith(_SENTENCE_END)


def _capitals(label: str) -> bool:
    """Whether a label is written in capitals (``URGENT``, ``INTERVIEWER``; not ``P1``, ``Ann``, ``李雷``).

    Example:
        >>> _capitals("URGENT"), _capitals("P1"), _capitals("Ann")
        (True, False, False)
    """
    letters = [ch for ch in label if ch.isalpha()]
    return len(letters) >= 2 and all(ch.isupper() for ch in letters)


def _mid_turn_rule(lines: list[str], blank: list[bool], accepted: list[bool]) -> Callable[[int], bool]:
    """A test of whether line ``i`` sits inside a turn, judged by how this file's recurring labels start turns.

    A line sits inside a turn when it follows the line above without a blank line and either the file puts a
    blank line before every turn, or its turns end with a finished sentence and the line above does not.

    Example:
        >>> lines = ["A: Hi.", "", "B: It said", "URGENT: call.", "", "A: Oh.", "", "B: Yes."]
        >>> rule = _mid_turn_rule(lines, [not x for x in lines], [x[:2] in ("A:", "B:") for x in lines])
        >>> rule(3), rule(5)
        (True, False)
    """
    starts = [j for j, ok in enumerate(accepted) if ok][1:]
    ends = []
    for j in starts:
        k = j - 1
        while k >= 0 and blank[k]:
            k -= 1
        if k >= 0:
            ends.append(lines[k])
    separated = len(starts) >= 2 and all(blank[j - 1] for j in starts)
    punctuated = len(ends) >= 2 and sum(_finished(end) for end in ends) >= 0.8 * len(ends)

    def runs_on(i: int) -> bool:
        if i == 0 or blank[i - 1]:
            return False
        return separated or (punctuated and not _finished(lines[i - 1]))

    return runs_on


def _accept_singleton(c: Candidate, strong_styles: Counter[str], any_role: bool, words: _WordIndex) -> bool:
    """Whether a label seen once is a speaker: it must fit the file's style and look like a name or role."""
    if c.shape == "role":
        return any_role or strong_styles[c.style] >= 2
    if strong_styles[c.style] < 2:
        return False
    if c.time is not None:
        return True
    parts = c.label.split(",")[0].split()
    if len(parts) >= 2 or "," in c.label or parts[0].rstrip(".").casefold() in TITLES:
        return True
    word = parts[0]
    if word.lower() == word.upper():  # a script without case (李雷): it must be used nowhere else
        return _count_caseless(word, words) == 1
    # A proper name is never written in lower case elsewhere; "Honestly:" is.
    return words.count(word.lower()) == 0 and word.lower() != word


def _count_caseless(word: str, words: _WordIndex) -> int:
    """Occurrences of a word in a script without spaces between words (李雷): as a substring, at most 2 counted."""
    text, found, position = words.text, 0, 0
    while found < 2:
        position = text.find(word, position)
        if position < 0:
            break
        found, position = found + 1, position + len(word)
    return found


def _find_legend(
    lines: list[str],
    blank: list[bool],
    candidates: list[Candidate | None],
    strong: list[bool],
    counts: Counter[str],
    first_strong: int,
    legend_lines: dict[int, list[tuple[str, str]]],
    hints: dict[int, Hint],
) -> str | None:
    """Find the legend block before the first turn and fill ``legend_lines`` (line index -> entries).

    Returns a warning for the import report when a block that might be a legend was read as turns.
    """
    heading = False
    block: list[tuple[int, list[tuple[str, str]], bool]] = []  # (line, entries, colon form)
    codes: set[str] = set()
    for i, line in enumerate(lines):
        if blank[i] or i in hints:
            if i in hints and hints[i].kind != "label":
                break
            continue
        if _LEGEND_HEADING.fullmatch(line):
            heading = True
            continue
        entries = parse_legend_line(line)
        if entries and not (strong[i] and candidates[i] is not None and candidates[i].style != "colon"):
            keys = {label_key(code) for code, _ in entries}
            if keys & codes:
                break
            codes |= keys
            block.append((i, entries, False))
            continue
        c = candidates[i]
        if c is not None and strong[i] and c.style == "colon":
            body = line[c.prefix_end:].strip()
            key = label_key(c.label)
            if key in codes:
                break
            if body and looks_like_description(body):
                codes.add(key)
                block.append((i, [(c.label, body)], True))
                continue
            break
        if i >= first_strong:
            break
        if block:
            break
    if not block:
        return None
    for i, entries, colon in block:
        if not colon:
            legend_lines[i] = entries
    colon_entries = [(i, entries[0]) for i, entries, colon in block if colon]
    if not colon_entries:
        return None
    if heading:
        for i, (code, desc) in colon_entries:
            if counts[label_key(code)] >= 2 or _is_code(code) or _defines_a_speaker(desc):
                legend_lines[i] = [(code, desc)]
        return None
    # Without a heading, "Code: description" lines are only a legend when they read as definitions
    # (short codes, or descriptions naming a role or a person) and stand apart from the talk: written
    # together and followed by a blank line or a heading. Labels that alternate and run straight on
    # into the conversation are its opening turns ("Interviewer: Your current role / Nurse: Charge
    # nurse, ICU / Interviewer: And how many years?").
    indices = [i for i, _, _ in block]
    together = all(b == a + 1 for a, b in itertools.pairwise(indices))
    after = indices[-1] + 1
    apart = after >= len(lines) or blank[after] or is_chrome(lines[after])
    definitions = [_is_code(code) or _defines_a_speaker(desc) for _, (code, desc) in colon_entries]
    certain = all(_is_code(code) and _defines_a_speaker(desc) for _, (code, desc) in colon_entries)
    enough = len(block) >= 2 or any(_defines_a_speaker(desc) for _, (_code, desc) in colon_entries)
    if enough and all(definitions) and ((together and apart) or certain):
        for i, (code, desc) in colon_entries:
            legend_lines[i] = [(code, desc)]
        return None
    if len(colon_entries) >= 2 and (all(definitions) or (together and apart)):
        first, last = colon_entries[0][0] + 1, colon_entries[-1][0] + 1
        return (f"lines {first}-{last} could be a speaker key but were read as turns; if they are a key, put a "
                "'Key:' line above them and a blank line after them")
    return None


def _is_code(code: str) -> bool:
    """A speaker code as legends define them: ``I``, ``R``, ``M``, ``I1``, ``P12``, ``Speaker 2``."""
    return len(code) <= 3 or (label_shape(code) == "role" and any(ch.isdigit() for ch in code))


def _defines_a_speaker(description: str) -> bool:
    """A legend description that names a role or a person (``Interviewer 1``, ``Man``, ``Dr Jane Okafor``)."""
    shape = label_shape(description)
    return mentions_moderator(description) or (shape is not None and (len(description.split()) >= 2
                                                                       or shape == "role"))

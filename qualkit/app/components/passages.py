"""What the text selector draws and returns, as pure functions (no Streamlit): words, pieces, selections.

Offsets are Unicode code points into the source text, as everywhere in qualkit. The browser never
computes one: Python cuts each passage into *pieces* (words, the gaps between them, and the edges of
coded spans), each word carrying its absolute ``(start, end)``; the browser only reports which words
were selected, by index, plus the offsets it was given. JavaScript strings count UTF-16 units (an
emoji is two), so an offset computed there would drift after the first astral character; here it
cannot. :func:`selection_parts` checks what comes back against the passages before anything is stored.

A *word* is what a selection snaps to: a run of letters and digits (with inner apostrophes, hyphens
and dots, as in ``don't``, ``short-staffed``, ``3.5``), or a single other visible character such as
a comma, a quote or an emoji. Combining accents, variation selectors, skin-tone modifiers and
zero-width-joined emoji stay with the character before them, so a selection never splits what the
reader sees as one character.

Example:
    >>> text = "Paperwork,\\r\\nthe EHR 😩."
    >>> [text[s:e] for s, e in selectable_words(text)]
    ['Paperwork', ',', 'the', 'EHR', '😩', '.']
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from qualkit.errors import InvalidInput

# Inside a word these join two letters/digits: don't, short-staffed, 3.5, l'hôpital.
_INNER = frozenset("'’\u2010\u2011-.·")
_ZWJ = "\u200d"
STATUSES = ("accepted", "suggested", "rejected")


def _extends(ch: str) -> bool:
    """True for a character drawn as part of the one before it (accents, emoji modifiers, joiners)."""
    if unicodedata.category(ch) in ("Mn", "Mc", "Me"):
        return True
    code = ord(ch)
    return (ch == _ZWJ or 0xFE00 <= code <= 0xFE0F or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F
            or 0xE0100 <= code <= 0xE01EF)


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _is_regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def selectable_words(text: str, start: int = 0) -> list[tuple[int, int]]:
    """Absolute ``(start, end)`` code-point offsets of the words of ``text`` (which begins at ``start``).

    Example:
        >>> selectable_words("Café déjà-vu, isn't it?", 100)
        [(100, 104), (105, 112), (112, 113), (114, 119), (120, 122), (122, 123)]
        >>> text = "e\\u0301te\\u0301 👍🏽 👩\\u200d⚕\\ufe0f 🇬🇧"  # decomposed accents, skin tone, ZWJ, flag
        >>> [text[s:e] for s, e in selectable_words(text)] == ["e\\u0301te\\u0301", "👍🏽", "👩\\u200d⚕\\ufe0f", "🇬🇧"]
        True
    """
    spans: list[list[int]] = []
    kind = ""  # "" outside a word, "w" in letters/digits, "o" in a one-character token
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            kind = ""
        elif spans and kind and (_extends(ch) or text[i - 1] == _ZWJ):
            spans[-1][1] = i + 1  # drawn with the character before it
        elif _is_word_char(ch):
            if kind == "w":
                spans[-1][1] = i + 1
            else:
                spans.append([i, i + 1])
                kind = "w"
        elif (kind == "w" and ch in _INNER and i + 1 < n and _is_word_char(text[i + 1])):
            spans[-1][1] = i + 1  # an inner apostrophe/hyphen/dot; the next letter continues the word
        elif kind == "o" and _is_regional(ch) and spans[-1][1] - spans[-1][0] == 1 and _is_regional(text[i - 1]):
            spans[-1][1] = i + 1  # the second half of a flag
        else:
            spans.append([i, i + 1])
            kind = "o"
        i += 1
    return [(start + a, start + b) for a, b in spans]


@dataclass(frozen=True)
class Passage:
    """A stretch of source text shown as one block: a segment's text and where it starts in the source.

    ``label`` (the speaker) and ``note`` (turn number, role, memo count) are shown before the text and
    cannot be selected.

    Example:
        >>> Passage(7, "I am tired.", 120, label="Ana").end
        131
    """

    id: int | str
    text: str
    start: int
    label: str = ""
    note: str = ""

    @property
    def end(self) -> int:
        """The absolute offset just after the passage's last character."""
        return self.start + len(self.text)


@dataclass(frozen=True)
class Highlight:
    """A coded span drawn in its code's colour, and what the reader may do with it.

    ``actions`` names the buttons the selector offers for it: ``adjust`` (set its extent to the
    selection), ``remove``, ``accept``, ``reject``, ``revert``. ``version`` travels back with an
    action, so a decision applies to exactly the row the reader saw.

    Example:
        >>> Highlight(3, 120, 124, "#ffd", "Workload", status="suggested").dashed
        True
    """

    id: int | str
    start: int
    end: int
    color: str
    name: str
    status: str = "accepted"
    detail: str = ""
    version: int | None = None
    actions: tuple[str, ...] = ()

    @property
    def dashed(self) -> bool:
        """Suggestions are drawn with a dashed underline."""
        return self.status == "suggested"


@dataclass(frozen=True)
class Part:
    """The part of a selection inside one passage: absolute offsets and the exact text.

    Example:
        >>> Part(7, 125, 130, "tired").end - Part(7, 125, 130, "tired").start
        5
    """

    passage: int | str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Selection:
    """What the reader selected: one :class:`Part` per passage it touches, in reading order.

    Example:
        >>> s = Selection((Part(7, 125, 130, "tired"),))
        >>> (s.start, s.end, s.text, s.single)
        (125, 130, 'tired', True)
    """

    parts: tuple[Part, ...]

    @property
    def single(self) -> bool:
        """True when the selection lies within one passage."""
        return len(self.parts) == 1

    @property
    def start(self) -> int:
        """Absolute start of the first part."""
        return self.parts[0].start

    @property
    def end(self) -> int:
        """Absolute end of the last part."""
        return self.parts[-1].end

    @property
    def text(self) -> str:
        """The selected words; parts in different passages are joined with `` … ``."""
        return " … ".join(p.text for p in self.parts)


@dataclass(frozen=True)
class Action:
    """What the reader asked for in the selector: code a selection, or act on one coded span.

    ``kind`` is ``code`` (``code`` and ``selection`` set), ``adjust`` (``highlight``, ``version`` and a
    one-part ``selection``), or ``remove`` / ``accept`` / ``reject`` / ``revert`` (``highlight``, ``version``).

    Example:
        >>> Action("remove", highlight=3, version=2).kind
        'remove'
    """

    kind: str
    selection: Selection | None = None
    code: str | None = None
    highlight: int | str | None = None
    version: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


ACTIONS = ("code", "adjust", "remove", "accept", "reject", "revert")


def layout(passages: Sequence[Passage], highlights: Sequence[Highlight] = ()) -> dict[str, Any]:
    """The JSON the selector draws: per passage its words and its pieces, plus one look per set of codes.

    A piece is ``[text, word, look]``: ``word`` is the passage's word index or -1 for the space
    between words, ``look`` indexes ``looks`` (-1 when uncoded). Pieces split at word edges and at
    every coded span's edges, so a span that starts inside a word (a pasted passage, an old import)
    is still drawn exactly. Line breaks in the gaps are shown as ``\\n`` (CRLF and CR too); the
    offsets stay those of the source text.

    Example:
        >>> out = layout([Passage(1, "So tired.", 10)], [Highlight(5, 13, 18, "#fd0", "Exhaustion")])
        >>> out["passages"][0]["words"], out["passages"][0]["pieces"]
        ([[10, 12], [13, 18], [18, 19]], [['So', 0, -1], [' ', -1, -1], ['tired', 1, 0], ['.', 2, -1]])
    """
    looks: dict[tuple[int, ...], int] = {}
    look_rows: list[dict[str, Any]] = []
    out_passages, out_highlights = [], []
    for index, h in enumerate(highlights):
        out_highlights.append({"i": index, "id": h.id, "start": h.start, "end": h.end, "color": h.color,
                               "name": h.name, "status": h.status, "detail": h.detail, "version": h.version,
                               "actions": list(h.actions)})
    for passage in passages:
        words = selectable_words(passage.text, passage.start)
        mine = [(i, h) for i, h in enumerate(highlights)
                if h.status != "rejected" and h.start < passage.end and h.end > passage.start]
        cuts = {passage.start, passage.end}
        for s, e in words:
            cuts.update((s, e))
        for _, h in mine:
            cuts.update((max(h.start, passage.start), min(h.end, passage.end)))
        edges = sorted(cuts)
        pieces = []
        w = 0
        for lo, hi in itertools.pairwise(edges):
            while w < len(words) and words[w][1] <= lo:
                w += 1
            word = w if w < len(words) and words[w][0] <= lo and hi <= words[w][1] else -1
            covering = tuple(i for i, h in mine if h.start <= lo and hi <= h.end)
            look = -1
            if covering:
                if covering not in looks:
                    looks[covering] = len(look_rows)
                    look_rows.append(_look([highlights[i] for i in covering], covering))
                look = looks[covering]
            text = passage.text[lo - passage.start:hi - passage.start]
            if word < 0:
                text = text.replace("\r\n", "\n")
                if text.endswith("\r") and passage.text[hi - passage.start:hi - passage.start + 1] == "\n":
                    text = text[:-1]  # a span edge between CR and LF: the LF piece draws the one line break
                text = text.replace("\r", "\n")
            pieces.append([text, word, look])
        chips = [i for i, h in enumerate(highlights) if passage.start <= h.start and h.end <= passage.end]
        out_passages.append({"id": passage.id, "label": passage.label, "note": passage.note, "start": passage.start,
                             "end": passage.end, "words": [[s, e] for s, e in words], "pieces": pieces,
                             "chips": chips})
    return {"passages": out_passages, "highlights": out_highlights, "looks": look_rows}


def _look(covering: Sequence[Highlight], indexes: Sequence[int]) -> dict[str, Any]:
    """How a piece covered by these codings is drawn: the shortest span's colour, the others as lines under it."""
    order = sorted(range(len(covering)), key=lambda k: covering[k].end - covering[k].start)
    top = covering[order[0]]
    return {"bg": top.color, "lines": [covering[k].color for k in order[1:4]],
            "dashed": all(h.dashed for h in covering),
            "title": ", ".join(dict.fromkeys(f"{h.name} ({h.status})" for h in covering)),
            "hl": list(indexes)}


def selection_parts(raw: Any, passages: Sequence[Passage]) -> Selection:
    """Check a selection sent back by the browser against the passages and return it with exact texts.

    Each part must name a passage shown, start and end on that passage's word edges, and not be empty;
    anything else (a stale page, a tampered request) is refused with a plain message.

    Example:
        >>> p = [Passage(1, "So tired.", 10)]
        >>> selection_parts([{"passage": 1, "start": 13, "end": 18}], p).text
        'tired'
        >>> selection_parts([{"passage": 1, "start": 14, "end": 18}], p)
        Traceback (most recent call last):
        qualkit.errors.InvalidInput: the selection does not start and end on whole words of the passage. Fix: select the words again
    """
    by_id = {str(p.id): p for p in passages}
    if not isinstance(raw, list) or not raw:
        raise InvalidInput("nothing is selected", fix="select some words first")
    parts = []
    for item in raw:
        passage = by_id.get(str(item.get("passage"))) if isinstance(item, Mapping) else None
        if passage is None:
            raise InvalidInput("the selection is not in the text shown", fix="reload the page and select again")
        try:
            start, end = int(item["start"]), int(item["end"])
        except (KeyError, TypeError, ValueError):
            raise InvalidInput("the selection has no offsets", fix="select the words again") from None
        words = selectable_words(passage.text, passage.start)
        if not (start < end and start in {s for s, _ in words} and end in {e for _, e in words}):
            raise InvalidInput("the selection does not start and end on whole words of the passage",
                               fix="select the words again")
        parts.append(Part(passage.id, start, end, passage.text[start - passage.start:end - passage.start]))
    order = {str(p.id): i for i, p in enumerate(passages)}
    parts.sort(key=lambda p: (order[str(p.passage)], p.start))
    if len({str(p.passage) for p in parts}) != len(parts):
        raise InvalidInput("the selection names a passage twice", fix="select the words again")
    return Selection(tuple(parts))


def parse_action(raw: Any, passages: Sequence[Passage], highlights: Sequence[Highlight] = ()) -> Action | None:
    """The reader's request sent by the selector, checked: None for no request, or a clear error.

    Example:
        >>> p, h = [Passage(1, "So tired.", 10)], [Highlight(9, 13, 18, "#fd0", "Exhaustion", version=2,
        ...                                               actions=("remove",))]
        >>> parse_action({"kind": "code", "code": "workload", "parts": [{"passage": 1, "start": 10, "end": 18}]},
        ...              p, h).selection.text
        'So tired'
        >>> parse_action({"kind": "remove", "highlight": 9, "version": 2}, p, h).version
        2
    """
    if not isinstance(raw, Mapping) or not raw.get("kind"):
        return None
    kind = str(raw["kind"])
    if kind not in ACTIONS:
        raise InvalidInput(f"unknown action {kind!r}", fix=f"use one of {', '.join(ACTIONS)}")
    if kind == "code":
        code = raw.get("code")
        if not code:
            raise InvalidInput("no code was chosen", fix="pick a code from the list")
        return Action(kind, selection=selection_parts(raw.get("parts"), passages), code=str(code))
    target = next((h for h in highlights if str(h.id) == str(raw.get("highlight"))), None)
    if target is None:
        raise InvalidInput("that coding is no longer shown here", fix="reload the page")
    if kind not in target.actions:
        raise InvalidInput(f"you cannot {kind} this coding here")
    version = raw.get("version")
    version = int(version) if version is not None else target.version
    if kind != "adjust":
        return Action(kind, highlight=target.id, version=version)
    selection = selection_parts(raw.get("parts"), passages)
    if not selection.single:
        raise InvalidInput("a coded passage stays within one turn",
                           fix="select the new extent inside the turn it belongs to")
    home = next((p for p in passages if p.start <= target.start and target.end <= p.end), None)
    if home is None or str(home.id) != str(selection.parts[0].passage):
        raise InvalidInput(f"the new extent of {target.name} is in another turn",
                           fix="select inside the turn it belongs to")
    return Action(kind, selection=selection, highlight=target.id, version=version)

"""Plain data objects shared by every part of qualkit (standard library only).

Offsets are always Unicode code points into ``Source.text``, end exclusive, so
``source.text[seg.start:seg.end] == seg.text`` holds for every segment. ``Source.text``
is the decoded transcript exactly as read (CRLF kept) for text formats, and a
documented plain-text rendering for structured formats (Word, subtitles, CSV);
the original bytes are kept in ``Source.raw``.

Example:
    >>> src = Source(name="g1.txt", text="Ann: I am tired.\\n", format="txt")
    >>> seg = Segment(source=src.name, start=5, end=16, text="I am tired.", speaker="Ann")
    >>> src.text[seg.start:seg.end] == seg.text
    True
"""

from __future__ import annotations

import hashlib
import html
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

SegmentKind = Literal["turn", "sentence", "window", "unattributed", "legend", "row"]
Role = Literal["moderator", "participant"]
Origin = Literal["human", "rules", "similarity", "learned", "ensemble", "topic"]
Status = Literal["suggested", "accepted", "rejected"]

ORIGINS: tuple[str, ...] = ("human", "rules", "similarity", "learned", "ensemble", "topic")
STATUSES: tuple[str, ...] = ("suggested", "accepted", "rejected")
CONSENSUS = "consensus"
"""The ``coder``/``decided_by`` name of adjudicated (agreed) decisions; the event log names the real user."""
SEGMENT_KINDS: tuple[str, ...] = ("turn", "sentence", "window", "unattributed", "legend", "row")


def withdrawn_by_author(codings: Any) -> Any:
    """Which rows of a codings table their own author took back (a hand code removed, a change undone).

    Such a row stays on record, but it is neither a judgement of its segment nor a rejection: the coder
    never said the code does not apply, only that they had not meant to code it. A blind coder's own row
    that judges a suggestion (its parent, in the same table, carries the same code) is a real rejection.
    Returns a boolean Series.

    Example:
        >>> import pandas as pd
        >>> rows = pd.DataFrame({"id": [1, 2, 3, 4, 5], "code_id": ["a", "a", "b", "a", "b"],
        ...                      "origin": ["learned", "human", "human", "human", "human"],
        ...                      "status": ["suggested", "rejected", "rejected", "rejected", "rejected"],
        ...                      "coder": ["auto", "ana", "ana", "ana", "ana"], "decided_by": [None, "ana", "ben", "ana", "ana"],
        ...                      "parent_id": [None, None, None, 1, 1]})
        >>> withdrawn_by_author(rows).tolist()  # removed by hand; ben's; a blind rejection; a change taken back
        [False, True, False, False, True]
    """
    return ((codings["origin"] == "human") & (codings["status"] == "rejected")
            & (codings["decided_by"] == codings["coder"]) & ~judges_a_suggestion(codings))


def judges_a_suggestion(codings: Any) -> Any:
    """Which rows of a codings table are a blind coder's own judgement of a suggestion (a boolean Series).

    Such a row is a person's row whose parent, in the same table, carries the same code; the suggestion
    itself stays "suggested" until the transcript is settled. (A "change" also points to its parent, with
    another code.)

    Example:
        >>> import pandas as pd
        >>> rows = pd.DataFrame({"id": [1, 2, 3], "code_id": ["a", "a", "b"], "origin": ["rules", "human", "human"],
        ...                      "parent_id": [None, 1, 1]})
        >>> judges_a_suggestion(rows).tolist()
        [False, True, False]
    """
    if "parent_id" not in codings or "id" not in codings:
        return codings["origin"] != codings["origin"]  # all False, on the table's index
    parent_code = codings["parent_id"].map(dict(zip(codings["id"], codings["code_id"], strict=True)))
    return (codings["origin"] == "human") & parent_code.eq(codings["code_id"])


def undone_judgements(codings: Any) -> Any:
    """Which rows are a blind coder's judgement she took back (undo): her own row, back at "suggested".

    Example:
        >>> import pandas as pd
        >>> rows = pd.DataFrame({"id": [1, 2], "code_id": ["a", "a"], "origin": ["rules", "human"],
        ...                      "parent_id": [None, 1], "status": ["suggested", "suggested"]})
        >>> undone_judgements(rows).tolist()
        [False, True]
    """
    return judges_a_suggestion(codings) & (codings["status"] == "suggested")


def awaiting_review(codings: Any) -> Any:
    """Which rows of a codings table are suggestions still awaiting review (a boolean Series).

    A suggestion on a transcript coded blind stays "suggested" after each coder judged it in a row of their
    own: judged all the same, so not awaiting review. ``qualkit info``, ``suggest`` and the .qdpx summary
    counted it (6), the queue and the report did not (3).

    A judgement the coder took back (undo) leaves her row "suggested": it judges nothing, so the suggestion
    awaits her again, and her row is not a second suggestion.

    Example:
        >>> import pandas as pd
        >>> rows = pd.DataFrame({"id": [1, 2, 3], "code_id": ["a", "a", "b"], "origin": ["rules", "human", "rules"],
        ...                      "parent_id": [None, 1, None], "status": ["suggested", "accepted", "suggested"]})
        >>> awaiting_review(rows).tolist()
        [False, False, True]
        >>> awaiting_review(rows.assign(status="suggested")).tolist()  # her judgement undone
        [True, False, True]
    """
    open_rows = codings["status"] == "suggested"
    judged = set(codings.loc[judges_a_suggestion(codings) & ~open_rows, "parent_id"].dropna().astype(int))
    return open_rows & ~undone_judgements(codings) & ~codings["id"].isin(judged)


def new_guid() -> str:
    """Return a fresh REFI-QDA style GUID (8-4-4-4-12 hex, upper case).

    Example:
        >>> len(new_guid())
        36
    """
    return str(uuid.uuid4()).upper()


def sha256_hex(data: bytes | str) -> str:
    """Return the SHA-256 hex digest of bytes or UTF-8 text.

    Example:
        >>> sha256_hex("a")[:8]
        'ca978112'
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class Mark:
    """A non-speech mark such as ``(laughs)`` or ``[crosstalk]``, kept in the text but flagged.

    Example:
        >>> Mark(10, 19, "laughter").end
        19
    """

    start: int
    end: int
    kind: str = "nonspeech"


@dataclass(slots=True)
class Segment:
    """A span of a source's text: a speaker turn, a sentence, a window of sentences or an unattributed line.

    ``start``/``end`` are code-point offsets into the source text; ``marks`` use the same absolute
    offsets. ``id`` is set once the segment is stored.

    Example:
        >>> s = Segment(source="g1.txt", start=0, end=5, text="Hello", speaker="Ann")
        >>> s.is_participant
        True
    """

    source: str
    start: int
    end: int
    text: str
    speaker: str | None = None
    role: Role | None = "participant"
    kind: SegmentKind = "turn"
    turn: int | None = None
    time_start: float | None = None
    time_end: float | None = None
    marks: list[Mark] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    participant: str | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if self.end - self.start != len(self.text):
            raise ValueError(
                f"segment of {self.source!r} at {self.start}:{self.end} has {len(self.text)} characters of text"
            )

    @property
    def is_participant(self) -> bool:
        """True for talk by a participant (not the moderator, not unattributed lines)."""
        return self.role != "moderator" and self.kind not in ("unattributed", "legend")

    @property
    def clean_text(self) -> str:
        """The text with non-speech marks blanked to spaces, so offsets stay valid for coders.

        Example:
            >>> s = Segment("f", 0, 16, "Yes (laughs) ok.", marks=[Mark(4, 12)])
            >>> s.clean_text
            'Yes          ok.'
        """
        if not self.marks:
            return self.text
        chars = list(self.text)
        for mark in self.marks:
            lo, hi = max(mark.start - self.start, 0), min(mark.end - self.start, len(chars))
            for i in range(lo, hi):
                chars[i] = " "
        return "".join(chars)

    def _repr_html_(self) -> str:
        who = html.escape(self.speaker or "(unattributed)")
        return f"<div><b>{who}</b> <small>{html.escape(self.source)} {self.start}–{self.end}</small><br>{html.escape(self.text)}</div>"


@dataclass(slots=True)
class Speaker:
    """A speaker label resolved in one source, with the aliases merged into it and its role.

    Example:
        >>> Speaker("Jill Smith, MD", aliases=["Dr Smith"]).aliases
        ['Dr Smith']
    """

    label: str
    aliases: list[str] = field(default_factory=list)
    role: Role = "participant"
    turns: int = 0
    words: int = 0
    participant: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Participant:
    """A study participant with free attributes (role, group, years in role, gender, ...).

    ``guid`` is the participant's REFI-QDA case GUID (the store assigns one when it is ``None``), kept so
    that a ``.qdpx`` round trip gives the same case identifiers.

    Example:
        >>> Participant("R01", pseudonym="Alex", attributes={"role": "resident"}).attributes["role"]
        'resident'
    """

    id: str
    pseudonym: str | None = None
    aliases: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    guid: str | None = field(default=None, repr=False)  # out of the repr: it is bookkeeping, not study data


@dataclass(slots=True)
class ImportReport:
    """What a reader understood of one file: speakers, merges proposed, unattributed lines, warnings.

    Example:
        >>> r = ImportReport(source="g1.txt", format="txt")
        >>> r.warnings
        []
    """

    source: str
    format: str
    encoding: str | None = None
    label_style: str | None = None
    speakers: dict[str, int] = field(default_factory=dict)
    proposed_merges: dict[str, str] = field(default_factory=dict)
    moderators: list[str] = field(default_factory=list)
    unattributed: int = 0
    unattributed_examples: list[str] = field(default_factory=list)
    marks: int = 0
    segments: int = 0
    warnings: list[str] = field(default_factory=list)
    skipped: str | None = None  # why the file was not imported (e.g. "already imported, skipped")

    def summary(self) -> str:
        """A few human-readable lines for the CLI and the app.

        Example:
            >>> "g1.txt" in ImportReport(source="g1.txt", format="txt").summary()
            True
            >>> print(ImportReport(source="g.vtt", format="vtt", segments=1, speakers={"Omar": 1}).summary())
            g.vtt (vtt): 1 segment, 1 speaker, 0 unattributed
              Omar: 1 turn
        """
        if self.skipped:
            return f"{self.source}: {self.skipped}"
        lines = [f"{self.source} ({self.format}{', ' + self.encoding if self.encoding else ''}): "
                 f"{self.segments} segment{'s' if self.segments != 1 else ''}, {len(self.speakers)} "
                 f"speaker{'s' if len(self.speakers) != 1 else ''}, {self.unattributed} unattributed"]
        for label, turns in sorted(self.speakers.items(), key=lambda kv: -kv[1]):
            role = " [moderator]" if label in self.moderators else ""
            lines.append(f"  {label}: {turns} turn{'s' if turns != 1 else ''}{role}")
        for alias, canonical in self.proposed_merges.items():
            lines.append(f"  proposed merge: {alias!r} -> {canonical!r}")
        lines += [f"  unattributed: {ex!r}" for ex in self.unattributed_examples]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


@dataclass(slots=True)
class Source:
    """One imported transcript: its text, original bytes, segments, speakers and import report.

    Example:
        >>> Source(name="g1.txt", text="Ann: hi\\n", format="txt").sha256[:6]
        '918825'
    """

    name: str
    text: str
    format: str
    raw: bytes | None = None
    encoding: str | None = None
    guid: str = field(default_factory=new_guid)
    segments: list[Segment] = field(default_factory=list)
    speakers: list[Speaker] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    import_report: ImportReport | None = None
    id: int | None = None

    @property
    def sha256(self) -> str:
        """Hash of the original bytes when known, else of the text."""
        return sha256_hex(self.raw if self.raw is not None else self.text)


@dataclass(slots=True)
class Code:
    """One code of a codebook: definition, criteria, examples, near-misses and rule cues.

    ``cues`` are words or phrases matched on lemmas and lower-cased text; ``patterns`` are
    regular expressions. ``near_misses`` are excerpts that must *not* get the code.

    Example:
        >>> Code(id="workload", name="Workload", parent="systemic_drivers").parent
        'systemic_drivers'
    """

    id: str
    name: str
    parent: str | None = None
    definition: str = ""
    inclusion: str = ""
    exclusion: str = ""
    examples: list[str] = field(default_factory=list)
    near_misses: list[str] = field(default_factory=list)
    cues: list[str] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)
    color: str | None = None
    guid: str | None = None
    codable: bool = True


@dataclass(slots=True)
class Codebook:
    """A versioned, hierarchical set of codes. Every change makes a new version.

    Example:
        >>> cb = Codebook(name="mini", codes=[Code("a", "A"), Code("b", "B", parent="a")])
        >>> [c.id for c in cb.children("a")]
        ['b']
    """

    name: str
    codes: list[Code] = field(default_factory=list)
    version: int = 1
    description: str = ""

    def __getitem__(self, code_id: str) -> Code:
        for code in self.codes:
            if code.id == code_id:
                return code
        raise KeyError(code_id)

    def __contains__(self, code_id: object) -> bool:
        return any(code.id == code_id for code in self.codes)

    def __len__(self) -> int:
        return len(self.codes)

    def __iter__(self):
        return iter(self.codes)

    @property
    def ids(self) -> list[str]:
        """Code ids in codebook order."""
        return [code.id for code in self.codes]

    @property
    def codable_codes(self) -> list[Code]:
        """Codes a segment can receive (leaves and any code marked codable)."""
        return [code for code in self.codes if code.codable]

    def children(self, code_id: str | None) -> list[Code]:
        """Direct children of ``code_id`` (``None`` for the top level)."""
        return [code for code in self.codes if code.parent == code_id]

    @classmethod
    def load(cls, name_or_path: str, **options: Any) -> Codebook:
        """Load a shipped codebook by name (``"burnout"``) or a YAML/CSV/Excel/.qdc file.

        The formats live one layer up, in :mod:`qualkit.codebook`, which registers its loader when
        imported (``import qualkit`` does); the model itself imports nothing of qualkit.

        Example:
            >>> import qualkit
            >>> Codebook.load("burnout").name
            'burnout'
        """
        if not _CODEBOOK_LOADERS:
            raise RuntimeError("no codebook reader is registered; import qualkit (or qualkit.codebook) first")
        return _CODEBOOK_LOADERS[-1](name_or_path, **options)


_CODEBOOK_LOADERS: list[Callable[..., Codebook]] = []


def register_codebook_loader(loader: Callable[..., Codebook]) -> None:
    """Make ``loader`` the function behind :meth:`Codebook.load` (``qualkit.codebook`` registers ``load_codebook``).

    Registering the same loader twice changes nothing; the last one registered is used.

    Example:
        >>> import qualkit.codebook
        >>> register_codebook_loader(qualkit.codebook.load_codebook)
        >>> Codebook.load("burnout").name
        'burnout'
    """
    if loader not in _CODEBOOK_LOADERS:
        _CODEBOOK_LOADERS.append(loader)


@dataclass(slots=True)
class Coding:
    """A code applied to (part of) a segment, by a human or a model, with its provenance.

    ``start``/``end`` are absolute offsets into the source text (the whole segment unless a
    reviewer adjusted the span); ``evidence`` holds absolute (start, end) pairs of the tokens or
    sentence that support the code.

    Example:
        >>> Coding(segment_id=1, code_id="workload", origin="rules", score=0.8).status
        'suggested'
    """

    segment_id: int | None
    code_id: str
    origin: Origin = "human"
    status: Status = "suggested"
    score: float | None = None
    coder: str | None = None
    start: int | None = None
    end: int | None = None
    evidence: list[tuple[int, int]] = field(default_factory=list)
    rationale: str = ""
    codebook_version: int | None = None
    decided_by: str | None = None
    parent_id: int | None = None
    guid: str | None = None
    id: int | None = None
    version: int = 1

    def _repr_html_(self) -> str:
        score = "" if self.score is None else f" {self.score:.2f}"
        span = "" if self.start is None else f" at {self.start}–{self.end}"
        why = f"<br><small>{html.escape(self.rationale)}</small>" if self.rationale else ""
        return (f"<div><b>{html.escape(self.code_id)}</b> <small>{self.status} · {self.origin}{score} · "
                f"segment {self.segment_id}{span}</small>{why}</div>")


@dataclass(slots=True)
class Memo:
    """A researcher's note on a segment, source or code.

    Example:
        >>> Memo(text="Recurring 'cog' metaphor", author="ana", segment_id=12).author
        'ana'
    """

    text: str
    author: str | None = None
    segment_id: int | None = None
    source_id: int | None = None
    code_id: str | None = None
    guid: str | None = None
    id: int | None = None

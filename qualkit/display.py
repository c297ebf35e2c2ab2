"""HTML renderings of transcripts and codings: code colours, highlighted spans, chips, tables for notebooks.

The builders are pure functions over plain values (no Streamlit, no pandas styling), shared by the
review app and by notebooks: in Jupyter, ``qk.show(frame)`` renders a codings frame (the review queue,
``project.codings()``) as cards with the coded span and its evidence highlighted, and a segments frame
as speaker turns with non-speech marks greyed.

Example:
    >>> highlight_html("I am tired.", 10, [Span(15, 20, "#ffd", "exhaustion")])
    '<span class="qk-text">I am <mark style="background:#ffd" title="exhaustion">tired</mark>.</span>'
"""

from __future__ import annotations

import html
import itertools
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qualkit.model import Codebook

# Light, distinguishable backgrounds (text stays readable on all of them).
PALETTE = (
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5",
    "#fdd0a2", "#c7e9c0", "#dadaeb", "#fcbba1", "#c6dbef", "#e5d8bd", "#fed9a6", "#b3de69", "#fccde5",
    "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f", "#8dd3c7", "#80b1d3",
)
MARK_COLOR = "#e8e8e8"


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun, singular for one.

    Example:
        >>> counted(1, "suggestion"), counted(3, "suggestion"), counted(2, "memo", "memos")
        ('1 suggestion', '3 suggestions', '2 memos')
    """
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def clock(seconds: Any) -> str:
    """A recording time as ``m:ss`` or ``h:mm:ss`` (as media players show it); ``""`` when there is none.

    Example:
        >>> clock(83.6), clock(3723), clock(None), clock(float("nan"))
        ('1:23', '1:02:03', '', '')
    """
    if _missing(seconds):
        return ""
    whole = int(float(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def code_colors(codebook: Codebook | None) -> dict[str, str]:
    """A colour per code: the codebook's own, else one from the palette in codebook order.

    Example:
        >>> from qualkit.model import Code
        >>> code_colors(Codebook("x", [Code("a", "A", color="#123456"), Code("b", "B")]))
        {'a': '#123456', 'b': '#ffbb78'}
    """
    if codebook is None:
        return {}
    return {code.id: code.color or PALETTE[i % len(PALETTE)] for i, code in enumerate(codebook.codes)}


def code_label(codebook: Codebook | None, code_id: str) -> str:
    """``Name (id)`` for a code; the id alone when unknown or when it is the name (an imported codebook's).

    Example:
        >>> code_label(None, "workload")
        'workload'
        >>> from qualkit.model import Code
        >>> code_label(Codebook("c", [Code("Exhaustion", "Exhaustion")]), "Exhaustion")
        'Exhaustion'
    """
    if codebook is not None and code_id in codebook and codebook[code_id].name != code_id:
        return f"{codebook[code_id].name} ({code_id})"
    return code_id


@dataclass(frozen=True, slots=True)
class Span:
    """A highlighted stretch of text: absolute offsets, background colour, tooltip, and style.

    Example:
        >>> Span(0, 4, "#eee", "workload", dashed=True).dashed
        True
    """

    start: int
    end: int
    color: str
    title: str
    dashed: bool = False
    strong: bool = False


def highlight_html(text: str, base: int, spans: Sequence[Span]) -> str:
    """HTML of ``text`` (which starts at absolute offset ``base``) with ``spans`` highlighted.

    Overlapping spans split the text at every boundary; each piece takes the colour of the shortest
    span covering it and lists every covering code in its tooltip. Suggestions are drawn dashed,
    evidence in bold. Offsets outside the text are clipped.

    Example:
        >>> highlight_html("a<b", 0, [])
        '<span class="qk-text">a&lt;b</span>'
    """
    clipped = []
    for span in spans:
        lo, hi = max(span.start - base, 0), min(span.end - base, len(text))
        if lo < hi:
            clipped.append((lo, hi, span))
    cuts = sorted({0, len(text), *(lo for lo, _, _ in clipped), *(hi for _, hi, _ in clipped)})
    parts = []
    for lo, hi in itertools.pairwise(cuts):
        piece = html.escape(text[lo:hi])
        covering = [s for a, b, s in clipped if a <= lo and hi <= b]
        if not covering:
            parts.append(piece)
            continue
        top = min(covering, key=lambda s: s.end - s.start)
        style = f"background:{top.color}"
        if any(s.dashed for s in covering) and all(s.dashed for s in covering):
            style += ";border-bottom:2px dashed #555"
        if any(s.strong for s in covering):
            style += ";font-weight:bold"
        if len(covering) > 1:
            others = [s.color for s in covering if s is not top][:3]
            style += ";box-shadow:" + ",".join(f"0 {2 * (i + 1)}px 0 {c}" for i, c in enumerate(others))
        title = html.escape(", ".join(dict.fromkeys(s.title for s in covering)), quote=True)
        parts.append(f'<mark style="{style}" title="{title}">{piece}</mark>')
    return f'<span class="qk-text">{"".join(parts)}</span>'


def chip_html(label: str, color: str, *, dashed: bool = False, note: str = "") -> str:
    """A small coloured label for a code (dashed border for a suggestion).

    Example:
        >>> chip_html("Workload", "#eee").startswith('<span style="background:#eee')
        True
    """
    border = "1px dashed #555" if dashed else "1px solid #999"
    extra = f" <small>{html.escape(note)}</small>" if note else ""
    return (f'<span style="background:{color};border:{border};border-radius:0.6em;padding:0 0.45em;'
            f'margin-right:0.3em;font-size:0.85em;white-space:nowrap">{html.escape(label)}{extra}</span>')


def text_or(value: object, default: str = "") -> str:
    """A text cell as a string, or ``default`` when it is empty (None, or pandas' NaN for a missing value).

    Segments without a speaker hold NaN in a DataFrame, which is truthy and not a string.

    Example:
        >>> text_or(float("nan"), "(unattributed)"), text_or("Ana")
        ('(unattributed)', 'Ana')
    """
    if value is None or (isinstance(value, float) and value != value) or value == "":
        return default
    return str(value)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _text(value: Any, default: str = "") -> str:
    """A display string for a cell that may hold None or pandas' NaN."""
    return default if _missing(value) else str(value)


def location(row: Any) -> str:
    """Where a coding's words are, as a person finds them: the turn and its speaker, or a survey's respondent.

    A survey answer is a row of a sheet, not a turn of talk: "turn 0 (unattributed)" on every card told a
    coder nothing about whose answer it was. ``row`` is a record of ``project.codings()`` or
    ``project.review_queue()`` (an itertuples row or a mapping).

    Example:
        >>> location({"turn": 3, "speaker": "Ann", "segment_kind": "turn"})
        'turn 3 (Ann)'
        >>> location({"turn": 0, "speaker": None, "participant": "R0001", "segment_kind": "row"})
        'respondent R0001'
        >>> location({"turn": 5, "speaker": None})
        'turn 5 (unattributed)'
    """
    get = row.get if isinstance(row, dict) else lambda name, default=None: getattr(row, name, default)
    if _text(get("segment_kind")) == "row":
        respondent = _text(get("participant"))
        return f"respondent {respondent}" if respondent else "an answer (no respondent id)"
    turn = get("turn")
    where = "" if _missing(turn) else f"turn {int(turn)} "
    return f"{where}({_text(get('speaker')) or 'unattributed'})"


def coding_card_html(row: Any, *, codebook: Codebook | None = None, colors: dict[str, str] | None = None) -> str:
    """One coding as a card: code chip, score and origin, who said it, the text with span and evidence marked.

    ``row`` is a record of ``project.codings()`` or ``project.review_queue()`` (an itertuples row or a
    mapping): it needs ``code_id``, ``segment_text`` and ``segment_start``; ``start``/``end``,
    ``evidence``, ``score``, ``status``, ``origin``, ``rationale``, ``speaker`` and ``source`` are used
    when present.

    Example:
        >>> row = {"code_id": "workload", "segment_text": "Too many shifts.", "segment_start": 0,
        ...        "start": 0, "end": 16, "evidence": [[9, 15]], "score": 0.8, "status": "suggested"}
        >>> 'title="workload, evidence">shifts</mark>' in coding_card_html(row)
        True
    """
    get = row.get if isinstance(row, dict) else lambda name, default=None: getattr(row, name, default)
    code_id = str(get("code_id"))
    color = (colors or code_colors(codebook)).get(code_id, PALETTE[zlib.crc32(code_id.encode()) % len(PALETTE)])
    status = _text(get("status"), "suggested")
    text, base = _text(get("segment_text")), int(get("segment_start", 0) or 0)
    start, end = get("start"), get("end")
    spans = []
    if not _missing(start) and not _missing(end):
        spans.append(Span(int(start), int(end), color, code_id, dashed=status == "suggested"))
    evidence = get("evidence")
    for pair in evidence if isinstance(evidence, list | tuple) else []:
        spans.append(Span(int(pair[0]), int(pair[1]), color, "evidence", strong=True))
    score = get("score")
    details = [f"score {float(score):.2f}" if not _missing(score) else "", _text(get("origin")), status,
               _text(get("source")), location(row)]
    rationale = _text(get("rationale"))
    note = f"<div style='color:#555;font-size:0.85em'>{html.escape(rationale)}</div>" if rationale else ""
    return (f"<div style='border:1px solid #ddd;border-radius:6px;padding:6px 10px;margin:6px 0'>"
            f"{chip_html(code_label(codebook, code_id), color, dashed=status == 'suggested')}"
            f"<small>{html.escape(' · '.join(d for d in details if d))}</small>"
            f"<div style='margin-top:4px'>{highlight_html(text, base, spans)}</div>{note}</div>")


def segment_html(row: Any) -> str:
    """One segment as a speaker turn, with non-speech marks greyed (they stay in the text).

    Example:
        >>> segment_html({"speaker": "Ann", "text": "Yes (laughs)", "start": 0, "marks": [[4, 12, "laughter"]]})[:32]
        "<div style='margin:4px 0'><b>Ann"
    """
    get = row.get if isinstance(row, dict) else lambda name, default=None: getattr(row, name, default)
    marks = get("marks")
    spans = [Span(int(m[0]), int(m[1]), MARK_COLOR, _text(m[2] if len(m) > 2 else "", "non-speech"))
             for m in (marks if isinstance(marks, list | tuple) else [])]
    role = " <small>(moderator)</small>" if get("speaker_role") == "moderator" else ""
    where = " ".join(p for p in (_text(get("source")), f"#{int(get('turn'))}" if not _missing(get("turn")) else "",
                                 clock(get("time_start"))) if p)
    return (f"<div style='margin:4px 0'><b>{html.escape(_text(get('speaker'), '(unattributed)'))}</b>{role} "
            f"<small style='color:#888'>{html.escape(where)}</small>: "
            f"{highlight_html(_text(get('text')), int(get('start', 0) or 0), spans)}</div>")


class Rendered:
    """An HTML fragment that Jupyter displays as HTML (and prints as its plain text elsewhere).

    Example:
        >>> Rendered("<b>hi</b>", "hi")
        hi
    """

    def __init__(self, markup: str, plain: str) -> None:
        self.markup = markup
        self.plain = plain

    def _repr_html_(self) -> str:
        return self.markup

    def __repr__(self) -> str:
        return self.plain


def show(frame: Any, *, codebook: Codebook | None = None, n: int = 20) -> Rendered:
    """Render the first ``n`` rows of a codings frame (cards) or a segments frame (turns) as HTML.

    A frame with a ``code_id`` column is shown as codings (the review queue, ``project.codings()``);
    otherwise as segments (``project.segments()``). Pass the project's codebook for names and colours.

    Example:
        >>> import pandas as pd
        >>> show(pd.DataFrame({"speaker": ["Ann"], "text": ["Hi"], "start": [0]})).markup.count("<b>Ann</b>")
        1
    """
    rows = list(frame.head(n).itertuples(index=False))
    if "code_id" in frame.columns:
        colors = code_colors(codebook)
        body = "".join(coding_card_html(r, codebook=codebook, colors=colors) for r in rows)
        plain = "\n".join(f"{r.code_id}: {_text(getattr(r, 'segment_text', ''))[:80]}" for r in rows)
    else:
        body = "".join(segment_html(r) for r in rows)
        plain = "\n".join(f"{_text(getattr(r, 'speaker', None), '(unattributed)')}: {_text(r.text)[:80]}" for r in rows)
    more = f"<p><small>… {len(frame) - n} more rows</small></p>" if len(frame) > n else ""
    return Rendered(f"<div class='qk-show'>{body}{more}</div>", plain)

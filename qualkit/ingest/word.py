"""Reader for Word ``.docx`` transcripts: paragraphs, speaker labels in text or in a bold run, tables.

Canonical text (CONTRIBUTING.md): the body's paragraph texts (``paragraph.text``, plus what it leaves
out: tracked insertions, inline and block content controls, fields; see :func:`paragraph_text`)
joined with ``"\\n"``; a table row is one line, its cell texts joined with ``"\\t"`` (a cell's own line
breaks become spaces, merged cells count once, a table nested in a cell is read into the cell's text).
Tracked changes and nested tables are mentioned in the import report. The zip container is checked before
python-docx opens it (:func:`qualkit.ingest.archive.check_archive`).

* A paragraph starting with a bold run that reads like a label (``**Dr. Okafor:**`` in Word, or a bold
  name followed by a colon) is a label even if that speaker talks only once.
* Heading/Title paragraphs are unattributed.
* A table whose header (or content) shows speaker/time/text columns, as exported by transcription
  services, gives one turn per row: the text cell is the turn, the other cells are its label prefix; a
  row with an empty speaker cell continues the previous speaker. Its header row is unattributed.
  Other tables are read as lines of text.

Example:
    >>> import io, docx
    >>> document = docx.Document()
    >>> run = document.add_paragraph().add_run("Ann:"); run.bold = True
    >>> document.paragraphs[0].add_run(" Tired.")  # doctest: +ELLIPSIS
    <docx.text.run.Run object at ...>
    >>> buffer = io.BytesIO(); document.save(buffer)
    >>> layout = docx_layout(buffer.getvalue(), "a.docx")
    >>> [(i.label, layout.text[i.start:i.end]) for i in layout.items]
    [('Ann', 'Tired.')]
"""

from __future__ import annotations

import io
import os
import re
from typing import Any

from qualkit.errors import InvalidTranscript
from qualkit.ingest.archive import check_archive
from qualkit.ingest.layout import Hint, Item, Layout, detect_layout
from qualkit.ingest.limits import Limits
from qualkit.ingest.speakers import find_candidate, label_end, label_shape, parse_time

SPEAKER_HEADERS = {"speaker", "speaker name", "name", "who", "person", "participant", "voice", "speaker id",
                   "spreker", "sprecher", "taler", "locuteur"}
TIME_HEADERS = {"time", "timestamp", "time stamp", "start", "start time", "timecode", "time code", "tc", "begin",
                "in", "start (hh:mm:ss)", "tid", "zeit", "temps"}
TEXT_HEADERS = {"text", "transcript", "transcription", "utterance", "dialogue", "dialog", "content", "words",
                "speech", "what was said", "comment", "response", "answer", "caption", "tekst", "texte"}
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _body_blocks(document: Any) -> list[Any]:
    """Paragraphs and tables of the body in order, looking inside block-level content controls."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    blocks: list[Any] = []

    def walk(element: Any, parent: Any) -> None:
        for child in element.iterchildren():
            if child.tag == f"{_W}p":
                blocks.append(Paragraph(child, parent))
            elif child.tag == f"{_W}tbl":
                blocks.append(Table(child, parent))
            elif child.tag == f"{_W}sdt":
                content = child.find(f"{_W}sdtContent")
                if content is not None:
                    walk(content, parent)

    walk(document.element.body, document._body)
    return blocks


class _Found:
    """What the text walk met that the import report should mention (tracked changes, nested tables)."""

    def __init__(self) -> None:
        self.insertions = 0
        self.deletions = 0
        self.nested_tables = 0

    def warnings(self) -> list[str]:
        notes = []
        if self.insertions or self.deletions:
            notes.append(f"the Word file has tracked changes ({self.insertions} insertion(s), {self.deletions} "
                         "deletion(s)); inserted text is read and deleted text left out, as if all changes were "
                         "accepted; accept or reject them in Word to be sure")
        if self.nested_tables:
            notes.append(f"{self.nested_tables} table(s) inside table cells were read into their cell's text")
        return notes


# Runs under these are not body text: deleted or moved-away text, and text boxes drawn inside a run.
_NOT_BODY = {f"{_W}del", f"{_W}moveFrom", f"{_W}r", f"{_W}p", f"{_W}txbxContent"}
_INSERTED = {f"{_W}ins", f"{_W}moveTo"}


def paragraph_text(p: Any, found: _Found | None = None) -> str:
    """The text of a ``w:p`` element, like ``paragraph.text`` but with tracked insertions and inline content.

    python-docx's ``paragraph.text`` reads only the runs directly in the paragraph and in hyperlinks:
    text in tracked insertions (``w:ins``), inline content controls, fields and smart tags would be
    lost. Deleted text (``w:del``) stays out.

    Example:
        >>> from docx.oxml import parse_xml
        >>> xml = ('<w:p xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:r><w:t>Ann: </w:t>'
        ...        '</w:r><w:ins><w:r><w:t>very </w:t></w:r></w:ins><w:r><w:t>tired</w:t></w:r></w:p>')
        >>> paragraph_text(parse_xml(xml))
        'Ann: very tired'
    """
    parts: list[str] = []
    for run in p.iter(f"{_W}r"):
        parent, inserted = run.getparent(), False
        while parent is not None and parent is not p and parent.tag not in _NOT_BODY:
            inserted = inserted or parent.tag in _INSERTED
            parent = parent.getparent()
        if parent is not p:
            continue
        parts.append(run.text)
        if inserted and found is not None:
            found.insertions += 1
    if found is not None:
        found.deletions += sum(1 for _ in p.iter(f"{_W}del"))
    return "".join(parts)


def _cell_text(tc: Any, found: _Found) -> str:
    """A cell's paragraphs and nested tables (rows and cells joined by spaces), on one line."""
    pieces: list[str] = []

    def walk(element: Any) -> None:
        for child in element.iterchildren():
            if child.tag == f"{_W}p":
                pieces.append(paragraph_text(child, found))
            elif child.tag == f"{_W}tbl":
                found.nested_tables += 1
                for tr in child.iterchildren(f"{_W}tr"):
                    cells = [_cell_text(inner, found) for inner in tr.iterchildren(f"{_W}tc")]
                    pieces.append(" ".join(c for c in cells if c.strip()))
            elif child.tag == f"{_W}sdt":
                content = child.find(f"{_W}sdtContent")
                if content is not None:
                    walk(content)

    walk(tc)
    return re.sub(r"\r\n|\r|\n", " ", "\n".join(pieces))


def _row_cells(row: Any, found: _Found) -> list[str]:
    cells: list[str] = []
    seen: set[int] = set()
    for cell in row.cells:
        if id(cell._tc) in seen:
            continue
        seen.add(id(cell._tc))
        cells.append(_cell_text(cell._tc, found))
    return cells


class _Styles:
    """Style names and boldness by style id, looked up once (python-docx resolves styles slowly)."""

    def __init__(self, document: Any) -> None:
        self.names: dict[str, str] = {}
        self.bold: dict[str, bool] = {}
        try:
            for style in document.styles:
                self.names[style.style_id] = style.name or ""
                try:
                    self.bold[style.style_id] = bool(style.font.bold)
                except AttributeError:  # numbering/table styles have no font
                    self.bold[style.style_id] = False
        except Exception:  # a damaged styles part only costs us style hints
            pass

    def paragraph_name(self, paragraph: Any) -> str:
        style_id = paragraph._p.style
        return self.names.get(style_id, "") if style_id else ""

    def run_bold(self, run: Any) -> bool:
        if run.bold is not None:
            return bool(run.bold)
        style_id = run._r.style
        return bool(style_id and self.bold.get(style_id))


def _bold_label(paragraph: Any, first_line: str, styles: _Styles) -> Hint | None:
    """A label hint when the paragraph starts with a bold run reading like a label."""
    from docx.text.run import Run

    bold_text = ""
    all_bold = True
    for item in paragraph.iter_inner_content():
        if isinstance(item, Run) and styles.run_bold(item):
            bold_text += item.text
            continue
        all_bold = False
        break
    if not bold_text.strip() or not first_line.startswith(bold_text):
        return None
    stripped = bold_text.rstrip()
    rest = first_line[len(bold_text):]
    has_colon = stripped.endswith(":") or rest.lstrip(" \t").startswith(":")
    candidate = find_candidate(first_line)
    if candidate is not None:
        stop = label_end(first_line, candidate)
        if abs(stop - len(stripped)) <= 2 or stop <= len(stripped) + 2:
            return Hint("label", label=candidate.label, prefix_end=candidate.prefix_end, label_stop=stop,
                        time=candidate.time, style="bold_run")
    label = stripped.rstrip(":").strip().strip("*").strip()
    if label_shape(label) is None or (all_bold and not has_colon):
        return None
    if not has_colon and not rest.strip():
        return None
    stop = len(stripped)
    if not stripped.endswith(":") and rest.lstrip(" \t").startswith(":"):
        stop = len(bold_text) + (len(rest) - len(rest.lstrip(" \t"))) + 1
    prefix_end = stop + (len(first_line[stop:]) - len(first_line[stop:].lstrip(" \t")))
    return Hint("label", label=label, prefix_end=prefix_end, label_stop=stop, style="bold_run")


def _classify_columns(rows: list[list[str]]) -> tuple[dict[str, int], bool] | None:
    """Column roles (speaker/time/text) of a transcript table and whether row 0 is a header; None if not one."""
    width = max(len(r) for r in rows)
    if width < 2:
        return None
    header = [c.strip().casefold().rstrip(":") for c in rows[0]]
    roles: dict[str, int] = {}
    for index, cell in enumerate(header):
        for role, names in (("speaker", SPEAKER_HEADERS), ("time", TIME_HEADERS), ("text", TEXT_HEADERS)):
            if cell in names and role not in roles:
                roles[role] = index
    if "text" in roles and len(roles) >= 2:
        return roles, True
    body = [r for r in rows if len(r) == width]
    if len(body) < 2:
        return None
    columns = list(zip(*body, strict=True))
    roles = {}
    for index, column in enumerate(columns):
        values = [c.strip() for c in column if c.strip()]
        if values and sum(parse_time(re.split(r"\s*[-–]\s*", v)[0]) is not None for v in values) >= 0.8 * len(values):
            roles.setdefault("time", index)
    lengths = [sum(len(c) for c in column) / len(column) for column in columns]
    candidates = [i for i in range(width) if i not in roles.values()]
    if not candidates:
        return None
    text_index = max(candidates, key=lambda i: lengths[i])
    if lengths[text_index] < 15:
        return None
    roles["text"] = text_index
    for index in candidates:
        if index == text_index:
            continue
        values = [c.strip() for c in columns[index] if c.strip()]
        if values and sum(label_shape(v) is not None for v in values) >= 0.8 * len(values) \
                and len(set(values)) < len(values):
            roles["speaker"] = index
            break
    if "speaker" not in roles and "time" not in roles:
        return None
    return roles, False


def docx_layout(raw: bytes, path: str | os.PathLike[str], *, known: set[str] | None = None,
                max_bytes: int = 50_000_000, limits: Limits | None = None) -> Layout:
    """The canonical text and layout of a Word file (see the module docstring).

    Example:
        >>> docx_layout(b"plain text", "x.docx")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        qualkit.errors.InvalidTranscript: x.docx: the file is not a valid Word file (not a zip archive). Fix: ...
    """
    if limits is not None:
        max_bytes = limits.file_bytes
    raw = check_archive(raw, path, required="word/document.xml", max_bytes=max_bytes, kind="Word")
    try:
        import docx

        document = docx.Document(io.BytesIO(raw))
        blocks = _body_blocks(document)
    except InvalidTranscript:
        raise
    except Exception as exc:
        raise InvalidTranscript(f"the Word file cannot be opened ({type(exc).__name__}: {exc})", path=path,
                                fix="open it in Word and save it again as .docx") from None
    from docx.table import Table

    styles = _Styles(document)
    found = _Found()
    lines: list[str] = []
    hints: dict[int, Hint] = {}
    line_starts: list[int] = []
    position = 0

    def add_line(content: str) -> int:
        nonlocal position
        index = len(lines)
        lines.append(content)
        line_starts.append(position)
        position += len(content) + 1
        return index

    for block in blocks:
        if isinstance(block, Table):
            rows = [_row_cells(row, found) for row in block.rows]
            rows = [r for r in rows if r]
            if not rows:
                continue
            classified = _classify_columns(rows)
            if classified is None:
                for cells in rows:
                    add_line("\t".join(cells))
                continue
            roles, has_header = classified
            previous_label: str | None = None
            for row_index, cells in enumerate(rows):
                index = add_line("\t".join(cells))
                if row_index == 0 and has_header:
                    hints[index] = Hint("unattributed")
                    continue
                hint, previous_label = _table_row_hint(cells, roles, line_starts[index], index, previous_label)
                hints[index] = hint
            continue
        text = paragraph_text(block._p, found)
        style = styles.paragraph_name(block)
        pieces = re.split(r"\r\n|\r|\n", text)
        first = add_line(pieces[0])
        for piece in pieces[1:]:
            add_line(piece)
        if style.startswith(("Heading", "Title", "Subtitle")) and text.strip():
            hints[first] = Hint("unattributed")
            continue
        hint = _bold_label(block, pieces[0], styles)
        if hint is not None:
            hints[first] = hint
    text = "\n".join(lines)
    if not text.strip():
        raise InvalidTranscript("the Word file has no text in its body", path=path,
                                fix="check that the transcript is in the document body, not only in text boxes")
    layout = detect_layout(text, known=known, hints=hints)
    layout.warnings[:0] = found.warnings()
    return layout


def _table_row_hint(cells: list[str], roles: dict[str, int], line_start: int, line_index: int,
                    previous_label: str | None) -> tuple[Hint, str | None]:
    """The item (turn piece) and label prefixes of one transcript-table row."""
    offsets = []
    position = line_start
    for cell in cells:
        offsets.append(position)
        position += len(cell) + 1
    text_index = roles["text"]
    spans: list[tuple[int, int]] = []
    for index, cell in enumerate(cells):
        if index == text_index:
            continue
        stripped = cell.strip()
        if stripped:
            start = offsets[index] + len(cell) - len(cell.lstrip())
            spans.append((start, start + len(stripped)))
    speaker_index = roles.get("speaker")
    label = cells[speaker_index].strip() if speaker_index is not None and speaker_index < len(cells) else ""
    continued = False
    if not label and previous_label:
        label, continued = previous_label, True
    time_index = roles.get("time")
    time_start = time_end = None
    if time_index is not None and time_index < len(cells):
        parts = re.split(r"\s*(?:-->|[-–—]|to)\s*", cells[time_index].strip())
        time_start = parse_time(parts[0])
        time_end = parse_time(parts[1]) if len(parts) > 1 else None
    items: list[Item] = []
    if text_index < len(cells):
        cell = cells[text_index]
        start = offsets[text_index] + len(cell) - len(cell.lstrip())
        end = start + len(cell.strip())
        if end > start:
            kind = "turn" if label else "unattributed"
            items.append(Item(kind, start, end, label=label or None, time_start=time_start, time_end=time_end,
                              line=line_index + 1, style="table" if label else None, continued=continued))
    return Hint("item", items=items, label_spans=spans), label or previous_label

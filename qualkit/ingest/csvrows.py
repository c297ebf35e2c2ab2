"""CSV rows with the line each starts on, read strictly: a quoting mistake is an error, never lost rows.

Python's lenient reader lets a quote that is never closed swallow every row after it into one cell; a
survey answer or a codebook row would disappear without a word. Read strictly, the mistake becomes
:class:`MalformedCSV` naming the line where the row began, which each reader turns into its own error.

Example:
    >>> list(csv_rows("a,b\\n1,2\\n", ","))
    [(1, ['a', 'b']), (2, ['1', '2'])]
    >>> list(csv_rows('a,b\\n"1,2\\n3,4\\n', ","))
    Traceback (most recent call last):
    ...
    qualkit.ingest.csvrows.MalformedCSV: a quote opened in this row is never closed (line 2)
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Iterator


class MalformedCSV(ValueError):
    """CSV text that cannot be read: ``reason`` in a researcher's words, the ``line`` its row starts on, and
    the ``fix`` when the mistake is a known one (else None: the reader says its own)."""

    def __init__(self, reason: str, line: int, fix: str | None = None) -> None:
        self.reason, self.line, self.fix = reason, line, fix
        super().__init__(f"{reason} (line {line})")


DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}


def sniff_delimiter(text: str, path: str | os.PathLike[str] = "") -> str:
    """The delimiter of CSV ``text``: a tab for a ``.tsv`` file, else the one the rows use (comma when unsure).

    Example:
        >>> sniff_delimiter("id;answer\\nR1;tired\\n"), sniff_delimiter("id\\tanswer\\n", "s.tsv"), sniff_delimiter("x")
        (';', '\\t', ',')
    """
    if str(path).lower().endswith(".tsv"):
        return "\t"
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def csv_rows(text: str | Iterable[str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Each row of ``text`` with the line it starts on (a quoted cell may span lines); raises MalformedCSV.

    ``text`` is the whole text, or its lines as an open file yields them (read with ``newline=""``).

    The first row with any text is the header: a later row with more (non-empty) cells than it names is
    an error too, since an unquoted comma in a cell ("tired, really tired") would otherwise split it and
    drop what follows the comma without a word.

    Example:
        >>> [line for line, _ in csv_rows('a\\n"two\\nlines"\\nb\\n', ",")]
        [1, 2, 4]
        >>> list(csv_rows("id,answer\\nR1,tired, really tired\\n", ","))
        Traceback (most recent call last):
        ...
        qualkit.ingest.csvrows.MalformedCSV: this row has 3 cells but the header names 2 columns: ' really tired' would be lost (line 2)
    """
    lines = io.StringIO(text, newline="") if isinstance(text, str) else text
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    start = 1
    width = None
    try:
        for row in reader:
            filled = len(row)
            while filled and not row[filled - 1].strip():  # trailing empty cells hold nothing to lose
                filled -= 1
            if width is None:
                width = filled or None
            elif filled > width:
                extra = ", ".join(repr(cell) for cell in row[width:filled] if cell.strip())
                name = DELIMITER_NAMES.get(delimiter, repr(delimiter))
                raise MalformedCSV(f"this row has {filled} cells but the header names {width} columns: {extra[:120]} "
                                   "would be lost", start,
                                   fix=f"put a cell that contains a {name} in double quotes (\"like this{delimiter} "
                                       "with the {name} inside\"), or name the extra column in the header")
            yield start, row
            start = reader.line_num + 1
    except csv.Error as error:
        if "unexpected end of data" in str(error):
            raise MalformedCSV("a quote opened in this row is never closed", start,
                               fix='close the quote (a " inside a quoted cell is written "")') from None
        raise MalformedCSV(f"the quoting is malformed ({str(error)[:100]})", start) from None

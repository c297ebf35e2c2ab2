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
from collections.abc import Iterator


class MalformedCSV(ValueError):
    """CSV text that cannot be read: ``reason`` in a researcher's words, the ``line`` its row starts on, and
    the ``fix`` when the mistake is a known one (else None: the reader says its own)."""

    def __init__(self, reason: str, line: int, fix: str | None = None) -> None:
        self.reason, self.line, self.fix = reason, line, fix
        super().__init__(f"{reason} (line {line})")


def csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Each row of ``text`` with the line it starts on (a quoted cell may span lines); raises MalformedCSV.

    Example:
        >>> [line for line, _ in csv_rows('a\\n"two\\nlines"\\nb\\n', ",")]
        [1, 2, 4]
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    try:
        for row in reader:
            yield start, row
            start = reader.line_num + 1
    except csv.Error as error:
        if "unexpected end of data" in str(error):
            raise MalformedCSV("a quote opened in this row is never closed", start,
                               fix='close the quote (a " inside a quoted cell is written "")') from None
        raise MalformedCSV(f"the quoting is malformed ({str(error)[:100]})", start) from None

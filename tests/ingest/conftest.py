"""Fixtures for the ingestion tests: the data folder, a Word-file builder and the accounting check."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

DATA = Path(__file__).with_name("data")


@pytest.fixture
def data() -> Path:
    """The folder of hand-written test transcripts."""
    return DATA


@pytest.fixture
def assert_accounted() -> Callable:
    """Assert that no text is lost and offsets are exact (see qualkit.ingest.accounting)."""
    from qualkit.ingest.accounting import accounting_problems

    def check(source) -> None:
        problems = accounting_problems(source)
        assert problems == [], problems
        ordered = sorted(source.segments, key=lambda s: s.start)
        for before, after in itertools.pairwise(ordered):
            assert before.end <= after.start

    return check


@pytest.fixture
def make_docx(tmp_path) -> Callable[..., Path]:
    """Build a small .docx: ``paragraphs`` are strings or (bold label, rest) pairs; ``tables`` lists of rows."""

    def build(name: str, paragraphs: Sequence = (), *, tables: Sequence[Sequence[Sequence[str]]] = (),
              heading: str | None = None, table_first: bool = False) -> Path:
        import docx

        document = docx.Document()
        if heading:
            document.add_heading(heading, level=1)

        def add_tables() -> None:
            for rows in tables:
                table = document.add_table(rows=0, cols=len(rows[0]))
                for row in rows:
                    cells = table.add_row().cells
                    for cell, value in zip(cells, row, strict=True):
                        cell.text = value

        if table_first:
            add_tables()
        for paragraph in paragraphs:
            if isinstance(paragraph, tuple):
                p = document.add_paragraph()
                p.add_run(paragraph[0]).bold = True
                p.add_run(paragraph[1])
            else:
                document.add_paragraph(paragraph)
        if not table_first:
            add_tables()
        buffer = io.BytesIO()
        document.save(buffer)
        path = tmp_path / name
        path.write_bytes(buffer.getvalue())
        return path

    return build

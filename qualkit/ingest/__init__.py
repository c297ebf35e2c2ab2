"""Transcript ingestion: every format researchers have, speakers resolved, exact offsets, never a word lost.

``read_transcript`` reads one file into a :class:`~qualkit.model.Source` whose ``segments`` point into
``source.text`` by exact code-point offsets, whose ``speakers`` are resolved (aliases merged, roles
decided, participants attached) and whose ``import_report`` says what was understood. Readers are listed
in one registry, :data:`qualkit.ingest.readers.READERS` (a new format: one module plus one line there):

=========================  ===============================================================
``.txt .text .md``         :mod:`qualkit.ingest.text` (label styles, legends, chrome)
``.docx``                  :mod:`qualkit.ingest.word` (paragraphs, bold-run labels, tables)
``.vtt`` / ``.srt``        :mod:`qualkit.ingest.vtt`, :mod:`qualkit.ingest.srt`
``.csv .tsv .xlsx .xlsm``  :mod:`qualkit.ingest.tabular` (column mapping guessed and reported)
=========================  ===============================================================

The canonical text of each format is fixed in CONTRIBUTING.md. Accounting (checked by the property
tests): every non-whitespace character of ``source.text`` lies in exactly one of a turn/row segment,
a legend segment, an unattributed segment, or a speaker-label prefix listed in
``source.metadata["label_spans"]``; segments never overlap; marks lie inside their segment.

Example:
    >>> import qualkit as qk
    >>> src = qk.read_transcript("tests/ingest/data/interview_ir.txt")  # doctest: +SKIP
    >>> src.import_report.moderators  # doctest: +SKIP
    ['I']
"""


from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from qualkit.ingest.limits import Limits
from qualkit.ingest.participants import read_participants
from qualkit.ingest.readers import READERS, detect_format, reader_for
from qualkit.ingest.segment import segment
from qualkit.ingest.transcript import FORMATS, read_transcript


def import_transcripts(store: Any, paths: Sequence[str | os.PathLike[str]], **kwargs: Any) -> list[Any]:
    """Read and store several transcripts, each in its own transaction (see :mod:`qualkit.ingest.batch`).

    Example:
        >>> from qualkit.store.repository import Store
        >>> import_transcripts(Store.create("sqlite://"), [])
        []
    """
    from qualkit.ingest.batch import import_transcripts as run

    return run(store, paths, **kwargs)


def deidentify(*args: Any, **kwargs: Any) -> Any:
    """Replace names, emails, phones and URLs with consistent pseudonyms (see :mod:`qualkit.ingest.deidentify`).

    Example:
        >>> from qualkit.model import Source
        >>> deidentify(Source("a.txt", "Mail ann@x.org", "txt")).source.text
        'Mail [EMAIL-1]'
    """
    from qualkit.ingest.deidentify import deidentify as run

    return run(*args, **kwargs)


__all__ = ["FORMATS", "READERS", "Limits", "deidentify", "detect_format", "import_transcripts", "read_participants",
           "read_transcript", "reader_for", "segment"]

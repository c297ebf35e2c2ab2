"""Reader for plain-text and Markdown transcripts (``.txt``, ``.text``, ``.md``, ``.markdown``).

The canonical text is the decoded file exactly (line endings kept, BOM removed); speaker labels,
legends and unattributed lines are found by :func:`qualkit.ingest.layout.detect_layout`.

Example:
    >>> layout = text_layout("Interviewer: Why?\\r\\nNurse 1: Nights.\\r\\n")
    >>> [i.label for i in layout.items]
    ['Interviewer', 'Nurse 1']
"""

from __future__ import annotations

import os

from qualkit.ingest.layout import Layout, detect_layout
from qualkit.ingest.limits import Limits


def text_layout(text: str, path: str | os.PathLike[str] | None = None, *, known: set[str] | None = None,
                limits: Limits | None = None) -> Layout:
    """The layout of a decoded text transcript (``path`` and ``limits`` are the registry's, unused here).

    Example:
        >>> text_layout("Ann: Hi.\\nBo: Hey.\\nAnn: Ok.\\n").label_style
        'Name: (3)'
    """
    return detect_layout(text, known=known)

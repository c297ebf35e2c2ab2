"""Every export by name and file suffix: ``Project.export``, the CLI's ``export`` and the app's Export page use this.

Adding an export is one module with an ``Export(...)`` and one line in :data:`EXPORTS`.

Example:
    >>> [e.name for e in EXPORTS][:4]
    ['xlsx', 'csv', 'qdpx', 'qdc']
    >>> export_for("study").name, export_for("r.htm").name, export_for("x", "QDPX").name
    ('csv', 'html', 'qdpx')
"""

from __future__ import annotations

import os
from pathlib import Path

from qualkit.errors import InvalidInput
from qualkit.export import report, tables
from qualkit.export.format import Export, check_folder
from qualkit.export.refi import write as refi_write

EXPORTS: tuple[Export, ...] = (
    *tables.EXPORTS,
    *refi_write.EXPORTS,
    *report.EXPORTS,
)
"""Every export, in the order people are offered them."""


def export_names() -> list[str]:
    """The export names (``--format`` values), in registry order.

    Example:
        >>> export_names()[:2]
        ['xlsx', 'csv']
    """
    return [entry.name for entry in EXPORTS]


def export_for(path: str | os.PathLike[str], format: str | None = None) -> Export:
    """The export named ``format``, else the one for the path's suffix (a path without one: a folder export).

    The folder the export goes into must exist (:func:`~qualkit.export.format.check_folder`).

    Example:
        >>> export_for("codebook.qdc").label
        'REFI-QDA codebook (.qdc)'
    """
    names = ", ".join(export_names())
    check_folder(path)
    if format:
        for entry in EXPORTS:
            if entry.name == format.lower().lstrip("."):
                return entry
        raise InvalidInput(f"cannot export as {format!r}", fix=f"use format= one of {names}",
                           cli_fix=f"use --format with one of {names}")
    suffix = Path(path).suffix.lower()
    for entry in EXPORTS:
        if (suffix and suffix in entry.suffixes) or (entry.folder and suffix in ("", f".{entry.name}")):
            return entry
    raise InvalidInput(f"cannot export as {suffix or 'a path without a suffix'}",
                       fix=f"use a file name ending in {', '.join(s for e in EXPORTS for s in e.suffixes)}, "
                           f"a folder name for CSV, or format= one of {names}",
                       cli_fix=f"use a file name ending in {', '.join(s for e in EXPORTS for s in e.suffixes)}, "
                               f"a folder name for CSV, or --format with one of {names}")


__all__ = ["EXPORTS", "Export", "export_for", "export_names"]

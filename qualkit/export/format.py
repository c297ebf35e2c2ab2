"""What an export is: a name, a label, file suffixes, the options it takes and a writer (see :mod:`.registry`).

Example:
    >>> from qualkit.export.registry import export_for
    >>> export_for("study.xlsx").label
    'Excel workbook'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qualkit.errors import InvalidInput


def check_folder(path: str | Path) -> None:
    """Refuse an export into a folder that does not exist, before any work (else pandas' OSError, late).

    Example:
        >>> check_folder("nofolder/study.xlsx")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        qualkit.errors.InvalidInput: no folder 'nofolder' to export into. Fix: create the folder first, ...
    """
    folder = Path(path).parent
    if not folder.is_dir():
        raise InvalidInput(f"no folder {str(folder)!r} to export into",
                           fix="create the folder first, or give a path in a folder that exists")


def file_stem(name: str) -> str:
    """A file name stem for a study's name: letters, digits, ``-`` and single ``_`` in place of the rest.

    Example:
        >>> file_stem("Burnout: pharmacists & porters 2026"), file_stem("???")
        ('Burnout_pharmacists_porters_2026', 'study')
    """
    stem = re.sub(r"_+", "_", "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)).strip("_")
    return stem or "study"


@dataclass(frozen=True)
class Export:
    """One export: ``write(store, path, **options)`` writes it and returns the path written.

    ``suffixes`` are lower-case with the dot (the first is the one a new file gets); an export with
    ``folder=True`` writes a folder (a path without a suffix). ``options`` names the keyword options
    the writer takes; ``kind`` is ``"data"`` (tables, exchange files) or ``"report"``. ``contents(store,
    **options)``, where given, says in one line what the file holds and what its format cannot.

    Example:
        >>> toy = Export("txt", "Plain text", (".txt",), write=lambda store, path: path)
        >>> toy.file_name("study")
        'study.txt'
    """

    name: str
    label: str
    suffixes: tuple[str, ...]
    write: Callable[..., Path]
    options: tuple[str, ...] = ()
    folder: bool = False
    kind: str = "data"
    contents: Callable[..., str] | None = None

    def file_name(self, stem: str) -> str:
        """The name a new export of a project called ``stem`` gets (a folder has no suffix).

        Example:
            >>> Export("csv", "CSV tables", (), write=print, folder=True).file_name("study")
            'study'
        """
        return stem if self.folder or not self.suffixes else f"{stem}{self.suffixes[0]}"

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Refuse an option this export does not take, naming the ones it does.

        Example:
            >>> Export("qdc", "Codebook", (".qdc",), write=print).check_options({"include_suggested": True})
            Traceback (most recent call last):
            ...
            qualkit.errors.InvalidInput: the qdc export takes no option 'include_suggested'. Fix: it takes no options
        """
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise InvalidInput(f"the {self.name} export takes no option {unknown[0]!r}",
                               fix=f"use {', '.join(self.options)}" if self.options else "it takes no options")


__all__ = ["Export"]

"""What a codebook format is: a name, its file suffixes, a reader and a writer (see :mod:`.registry`).

Example:
    >>> from qualkit.codebook.registry import codebook_format
    >>> codebook_format("x.yml").name
    'yaml'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qualkit.model import Codebook


@dataclass(frozen=True)
class CodebookFormat:
    """One codebook file format: ``read(path, validate=..., **options)`` and ``write(codebook, path)``.

    ``suffixes`` are lower-case with the dot; the first is the one a new file gets. ``label`` is what
    a person sees (the app's format picker, the CLI's help).

    Example:
        >>> CodebookFormat("txt", "Plain text", (".txt",), read=print, write=print).suffixes
        ('.txt',)
    """

    name: str
    label: str
    suffixes: tuple[str, ...]
    read: Callable[..., Codebook]
    write: Callable[[Codebook, Path], Any]


def read_text(path: Path) -> str:
    """A codebook file's text: UTF-8 (with or without BOM), else Windows-1252, else Latin-1.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "c.csv"
        >>> _ = path.write_bytes("name\\nCaf\\u00e9\\n".encode("cp1252"))
        >>> read_text(path).splitlines()[1]
        'Café'
    """
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")



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
    """A codebook file's text: as its byte-order mark says (UTF-8, UTF-16, UTF-32), else UTF-8, Windows-1252, Latin-1.

    Excel's "Unicode Text" and "UTF-16" saves start with a UTF-16 mark; read as Windows-1252 their headers were
    'ÿþi\\x00d\\x00' and the file was refused for having no name column.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "c.csv"
        >>> _ = path.write_bytes("name\\nCaf\\u00e9\\n".encode("cp1252"))
        >>> read_text(path).splitlines()[1]
        'Café'
        >>> _ = path.write_bytes("name\\tdefinition\\nZoë\\tx\\n".encode("utf-16"))
        >>> read_text(path).splitlines()[1]
        'Zoë\\tx'
    """
    import codecs

    data = path.read_bytes()
    for mark, encoding in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                           (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(mark):  # UTF-32's mark starts like UTF-16's: the longer is tried first
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                break
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")



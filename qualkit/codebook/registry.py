"""The codebook formats, by name and file suffix: :func:`load_codebook` and :func:`save_codebook` dispatch from here.

Adding a format is one module with a ``FORMAT = CodebookFormat(...)`` and one line in :data:`FORMATS`.

Example:
    >>> [f.name for f in FORMATS][:2]
    ['yaml', 'csv']
    >>> codebook_format(".TSV").name
    'csv'
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from qualkit.codebook import csv_format, excel_format, qdc_format, yaml_format
from qualkit.codebook.format import CodebookFormat
from qualkit.codebook.validation import replace_name, validate_codebook
from qualkit.errors import InvalidCodebook, did_you_mean
from qualkit.model import Codebook

FORMATS: tuple[CodebookFormat, ...] = (
    yaml_format.FORMAT,
    csv_format.FORMAT,
    excel_format.FORMAT,
    qdc_format.FORMAT,
)
"""Every codebook format qualkit reads and writes, in the order people are offered them."""


def suffixes() -> list[str]:
    """Every file suffix a codebook can have, in format order (``.yaml``, ``.yml``, ``.csv`` ...).

    Example:
        >>> suffixes()[:3]
        ['.yaml', '.yml', '.csv']
    """
    return [suffix for fmt in FORMATS for suffix in fmt.suffixes]


def codebook_format(name_or_suffix: str | os.PathLike[str]) -> CodebookFormat:
    """The format named ``name_or_suffix`` (``"csv"``), or the one for that suffix or file name (``"a.tsv"``).

    Example:
        >>> codebook_format("qdc").label
        'REFI-QDA codebook (.qdc)'
        >>> codebook_format("codes.yml").name
        'yaml'
    """
    key = str(name_or_suffix).lower()
    for fmt in FORMATS:
        if key == fmt.name:
            return fmt
    suffix = key if key.startswith(".") else Path(key).suffix
    for fmt in FORMATS:
        if suffix in fmt.suffixes:
            return fmt
    raise InvalidCodebook(f"no codebook format for {str(name_or_suffix) or 'a suffix-less file'}",
                          path=name_or_suffix if Path(key).suffix else None,
                          fix=f"use one of {', '.join(suffixes())}")


def list_codebooks() -> list[str]:
    """Names of the codebooks shipped with qualkit (load them by name).

    Example:
        >>> "burnout" in list_codebooks()
        True
    """
    folder = resources.files("qualkit") / "codebooks"
    return sorted(Path(entry.name).stem for entry in folder.iterdir()
                  if entry.name.endswith(yaml_format.FORMAT.suffixes) and not entry.name.startswith((".", "_")))


def load_codebook(
    name_or_path: str | os.PathLike[str] | Codebook, *, name: str | None = None, sheet: str | None = None,
    validate: bool = True,
) -> Codebook:
    """Load a shipped codebook by name or a codebook file in any registered format, validated.

    ``name`` overrides the codebook's name (by default the YAML ``name`` field or the file stem);
    ``sheet`` picks an Excel worksheet (default: the first).

    Example:
        >>> cb = load_codebook("burnout")
        >>> len(cb.codable_codes)
        24
    """
    if isinstance(name_or_path, Codebook):
        return validate_codebook(name_or_path) if validate else name_or_path
    path = Path(name_or_path)
    if not path.exists():
        text = str(name_or_path)
        if text in list_codebooks():
            shipped = resources.files("qualkit") / "codebooks" / f"{text}.yaml"
            codebook = yaml_format.codebook_from_yaml(shipped.read_text(encoding="utf-8"),
                                                      path=f"qualkit/codebooks/{text}.yaml", validate=validate)
            return replace_name(codebook, name)
        if path.suffix.lower() in suffixes():
            raise InvalidCodebook(f"no codebook file at {path}", fix="check the path")
        raise InvalidCodebook(f"{text!r} is neither a codebook file nor a shipped codebook",
                              fix=f"{did_you_mean(text, list_codebooks())}use one of {list_codebooks()} or a "
                                  f"{'/'.join(fmt.suffixes[0] for fmt in FORMATS)} path")
    suffix = path.suffix.lower()
    if suffix not in suffixes():
        raise InvalidCodebook(f"cannot read a codebook from a {suffix or 'suffix-less'} file", path=path,
                              fix=f"use {', '.join(suffixes())}")
    options = {"sheet": sheet} if sheet is not None else {}
    codebook = codebook_format(suffix).read(path, validate=validate, **options)
    if validate and not codebook.codes:
        raise InvalidCodebook("the codebook file holds no codes", path=path,
                              fix="add codes (each with at least an id and a name), or check that this is the right file")
    return replace_name(codebook, name)


def save_codebook(codebook: Codebook, path: str | os.PathLike[str]) -> Path:
    """Write a codebook in the registered format its file's extension names (validated first).

    Example:
        >>> import tempfile, pathlib
        >>> from qualkit.model import Code
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "mini.qdc"
        >>> save_codebook(Codebook("mini", [Code("a", "A")]), out).suffix
        '.qdc'
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in suffixes():
        raise InvalidCodebook(f"cannot write a codebook as {suffix or 'a suffix-less file'}", path=path,
                              fix=f"use {', '.join(suffixes())}")
    validate_codebook(codebook)
    codebook_format(suffix).write(codebook, path)
    return path


__all__ = ["FORMATS", "codebook_format", "list_codebooks", "load_codebook", "save_codebook", "suffixes"]

"""The Excel codebook format: a worksheet laid out like the CSV format (header row first).

Example:
    >>> import tempfile, pathlib
    >>> from qualkit.model import Code
    >>> out = codebook_to_excel(Codebook("m", [Code("a", "A")]), pathlib.Path(tempfile.mkdtemp()) / "m.xlsx")
    >>> codebook_from_excel(out).ids
    ['a']
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from qualkit.codebook.csv_format import codebook_from_rows, table_rows
from qualkit.codebook.format import CodebookFormat
from qualkit.errors import InvalidCodebook
from qualkit.model import Codebook


def codebook_from_excel(path: str | os.PathLike[str], *, sheet: str | None = None, name: str | None = None,
                        validate: bool = True) -> Codebook:
    """Read a codebook from an Excel worksheet laid out like the CSV format (header row first).

    Example:
        >>> codebook_from_excel("codes.xlsx").name  # doctest: +SKIP
        'codes'
    """
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:
        raise InvalidCodebook(f"cannot open the workbook ({error})", path=path,
                              fix="save it as .xlsx from Excel or LibreOffice") from None
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise InvalidCodebook(f"no worksheet {sheet!r}", path=path, fix=f"use one of {workbook.sheetnames}")
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        rows = [(n, list(r)) for n, r in enumerate(worksheet.iter_rows(values_only=True), start=1)]
    finally:
        workbook.close()
    return codebook_from_rows(rows, path=path, validate=validate, name=name or Path(path).stem)



def codebook_to_excel(codebook: Codebook, path: str | os.PathLike[str]) -> Path:
    """Write a codebook as an Excel workbook with the CSV columns.

    Example:
        >>> codebook_to_excel(Codebook("m", [Code("a", "A")]), "m.xlsx")  # doctest: +SKIP
        PosixPath('m.xlsx')
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = (codebook.name or "codebook")[:31]
    for row in table_rows(codebook):
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    workbook.save(path)
    return Path(path)




def _read(path: Path, *, validate: bool = True, sheet: str | None = None, **_: Any) -> Codebook:
    return codebook_from_excel(path, sheet=sheet, validate=validate)


def _write(codebook: Codebook, path: Path) -> None:
    codebook_to_excel(codebook, path)


FORMAT = CodebookFormat("xlsx", "Excel", (".xlsx", ".xlsm"), read=_read, write=_write)

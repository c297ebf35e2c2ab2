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
        # Without a sheet named, the first one that holds anything: a stranger's codes sat on a second sheet
        # behind an empty first one, and the error ("no name column among []") named neither.
        candidates = [workbook[sheet]] if sheet else workbook.worksheets
        rows, worksheet = [], candidates[0]
        for worksheet in candidates:
            rows = [(n, list(r)) for n, r in enumerate(worksheet.iter_rows(values_only=True), start=1)]
            if any(str(cell or "").strip() for _, row in rows for cell in row):
                break
        else:
            which = f"the sheet {sheet!r} is" if sheet else ("its only sheet is" if len(candidates) == 1
                                                             else f"all {len(candidates)} sheets are")
            raise InvalidCodebook(f"the workbook holds no codebook: {which} empty", path=path,
                                  fix="put a header row (name, definition, ...) and one code per row on a sheet")
        many = len(workbook.sheetnames) > 1
        title = worksheet.title
    finally:
        workbook.close()
    where = f"{path}, sheet {title!r}" if many else path  # errors and warnings say which sheet was read
    return codebook_from_rows(rows, path=where, validate=validate, name=name or Path(path).stem)



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
            if cell.data_type == "f":  # openpyxl makes "=..." a formula; a codebook cell is always text
                cell.data_type = "s"
    workbook.save(path)
    return Path(path)




def _read(path: Path, *, validate: bool = True, sheet: str | None = None, **_: Any) -> Codebook:
    return codebook_from_excel(path, sheet=sheet, validate=validate)


def _write(codebook: Codebook, path: Path) -> None:
    codebook_to_excel(codebook, path)


FORMAT = CodebookFormat("xlsx", "Excel", (".xlsx", ".xlsm"), read=_read, write=_write)

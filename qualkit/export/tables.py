r"""CSV and Excel exports: codings in tidy form, the codebook, prevalence and co-occurrence tables.

Every text cell that starts like a formula is kept from running in a spreadsheet (CSV/formula
injection): in a CSV file it gets a leading apostrophe, so a spreadsheet shows it as text (a CSV has no
other way to say "text"); in an Excel workbook the words stay exactly as spoken, in a string cell with
Excel's quote prefix (Excel shows it and never evaluates it, not even after an edit). The about table
says so. "Starts like a formula" is read conservatively: the
first character that is not white space or an invisible format character (zero-width space, BOM)
is ``=``, ``+``, ``-``, ``@`` or a look-alike of one (full-width ``＝``, small ``﹦``, the minus sign
``−``, ...: anything that Unicode NFKC folds to one of them), or the cell starts with a tab or a
carriage return. Every column that is not numeric, boolean or a date is checked value by value
(object, string and categorical columns alike), and so are headers and index labels.
Lists and dicts become JSON text; time stamps are written in UTC without a zone (Excel has none).

Example:
    >>> escape_cell("=HYPERLINK(\"http://x\")")
    '\'=HYPERLINK("http://x")'
    >>> escape_cell(" \uff1d1+1"), escape_cell(-3)
    ("' ＝1+1", -3)
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from qualkit.display import clock
from qualkit.errors import InvalidInput
from qualkit.export.format import Export
from qualkit.model import withdrawn_by_author

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMULA_CHARACTERS = frozenset("=+-@")
# Signs NFKC leaves alone that a spreadsheet (some locales accept U+2212 as minus) or a reader may take
# for a formula sign. En and em dashes are prose punctuation in transcripts and are left alone.
FORMULA_LOOKALIKES = frozenset("\u2212\u2010\u2011\u2012\u2795\u2796\u229c")
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
EXCEL_CELL_LIMIT = 32_767


def starts_like_formula(text: str) -> bool:
    """True when a spreadsheet could read ``text`` as a formula (see the module docstring).

    Example:
        >>> starts_like_formula("  =1"), starts_like_formula("\u200b+1"), starts_like_formula("a = b")
        (True, True, False)
    """
    if text.startswith(FORMULA_START):
        return True
    for character in text:
        if character.isspace() or unicodedata.category(character) == "Cf":
            continue
        return (character in FORMULA_LOOKALIKES
                or unicodedata.normalize("NFKC", character)[:1] in FORMULA_CHARACTERS)
    return False


def escape_cell(value: Any) -> Any:
    """Make one cell safe for spreadsheets: text that starts like a formula gets a leading ``'``.

    Numbers stay numbers (a negative number is not a formula).

    Example:
        >>> escape_cell("@SUM(A1)"), escape_cell("+1"), escape_cell("fine"), escape_cell(2.5)
        ("'@SUM(A1)", "'+1", 'fine', 2.5)
    """
    if isinstance(value, str) and starts_like_formula(value):
        return "'" + value
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple | dict | set):
        return json.dumps(list(value) if isinstance(value, set | tuple) else value, ensure_ascii=False, default=str)
    if isinstance(value, pd.Timestamp | datetime) and value.tzinfo is not None:
        return pd.Timestamp(value).tz_convert("UTC").tz_localize(None)
    return value


def _holds_text(dtype: Any) -> bool:
    """Whether a column may hold text: anything but numbers, booleans, dates and durations."""
    api = pd.api.types
    if isinstance(dtype, pd.CategoricalDtype):
        return True  # categories may be text even when the codes are numbers
    return not (api.is_numeric_dtype(dtype) or api.is_bool_dtype(dtype) or api.is_datetime64_any_dtype(dtype)
                or api.is_timedelta64_dtype(dtype))


def _escape_labels(index: pd.Index, cell: Any) -> pd.Index:
    """Escape the labels (and names) of an index or of the columns, MultiIndex levels included."""
    names = [cell(n) if isinstance(n, str) else n for n in index.names]
    if isinstance(index, pd.MultiIndex):
        return pd.MultiIndex.from_tuples([tuple(cell(v) if isinstance(v, str) else v for v in t) for t in index],
                                         names=names)
    if not _holds_text(index.dtype):
        return index.set_names(names)
    return pd.Index([cell(v) if isinstance(v, str) else v for v in index], dtype=object, name=names[0])


def escape_frame(frame: pd.DataFrame, *, excel: bool = False, prefix: bool = True) -> pd.DataFrame:
    """A copy of ``frame`` safe to open in a spreadsheet (see :func:`escape_cell`).

    ``excel`` also removes control characters Excel cannot store and cuts cells at Excel's 32,767
    characters. ``prefix=False`` leaves text that starts like a formula as it is (lists, dicts and time
    stamps are still made plain): for :func:`write_workbook`, which makes such cells text cells instead.

    Example:
        >>> escape_frame(pd.DataFrame({"a": ["=1+1", "ok"], "b": [[1, 2], None]}))["a"].tolist()
        ["'=1+1", 'ok']
        >>> escape_frame(pd.DataFrame({"c": pd.Categorical(["=A1"])}))["c"].tolist()
        ["'=A1"]
        >>> escape_frame(pd.DataFrame({"years": [12.0, None, 1.0]}))["years"].tolist()
        [12, <NA>, 1]
        >>> escape_frame(pd.DataFrame({"kappa": [1.0, 0.0]}))["kappa"].tolist()
        [1.0, 0.0]
    """

    def cell(value: Any) -> Any:
        value = escape_cell(_plain(value)) if prefix else _plain(value)
        return _excel_text(value) if excel else value

    out = frame.copy()
    out.columns = _escape_labels(out.columns, cell)
    for position in range(out.shape[1]):
        series = out.iloc[:, position]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            out.isetitem(position, series.dt.tz_convert("UTC").dt.tz_localize(None))
        elif series.dtype.kind == "f" and series.notna().any() and series.isna().any() and \
                (series.dropna() % 1 == 0).all():
            # whole numbers with gaps (years in role, for a participant without any) read 12.0 in the files; a
            # column without gaps is float by nature (a kappa of 1.0 and 0.0 was written 1 beside -0.33)
            out.isetitem(position, series.astype("Int64"))
        elif _holds_text(series.dtype):
            out.isetitem(position, pd.Series([cell(v) for v in series.astype(object)], index=series.index,
                                             dtype=object))
    out.index = _escape_labels(out.index, cell)
    return out


def _excel_text(value: Any) -> Any:
    if isinstance(value, str):
        value = _ILLEGAL_XLSX.sub("\ufffd", value)
        if len(value) > EXCEL_CELL_LIMIT:
            value = value[: EXCEL_CELL_LIMIT - 1] + "…"
    return value


def write_csv(frame: pd.DataFrame, target: str | os.PathLike[str] | None = None) -> bytes | Path:
    """THE CSV writer of qualkit: formula-escaped, UTF-8 with BOM (Excel reads non-ASCII right), CRLF rows.

    Every CSV qualkit writes (the app's downloads, the CLI's ``--out``, ``Project.export``) goes through
    here. With ``target`` the file is written and its path returned; without, the bytes are returned
    (for a download button). A frame's index is kept unless it is a plain ``RangeIndex``.

    Example:
        >>> data = write_csv(pd.DataFrame({"code": ['=HYPERLINK("http://x","click")']}))
        >>> data.startswith(b"\\xef\\xbb\\xbf"), b"'=HYPERLINK" in data
        (True, True)
    """
    keep_index = not isinstance(frame.index, pd.RangeIndex)
    # CRLF rows (RFC 4180) make the writer quote any field holding a CR or LF.
    text = escape_frame(frame).to_csv(index=keep_index, lineterminator="\r\n")
    data = ("\ufeff" + text).encode("utf-8")
    if target is None:
        return data
    path = Path(target)
    path.write_bytes(data)
    return path


def write_csvs(folder: str | os.PathLike[str], sheets: Mapping[str, pd.DataFrame]) -> list[Path]:
    """Write each frame as ``<folder>/<name>.csv`` with :func:`write_csv`.

    Example:
        >>> import tempfile
        >>> [p.name for p in write_csvs(tempfile.mkdtemp(), {"codings": pd.DataFrame({"a": [1]})})]
        ['codings.csv']
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [write_csv(frame, folder / f"{name}.csv") for name, frame in sheets.items()]


def keep_as_text(worksheet: Any) -> int:
    """Make every cell of an openpyxl worksheet whose text starts like a formula a string cell Excel never runs.

    The words stay exactly as they are: the cell's type is string (openpyxl had made ``"=..."`` a
    formula) and it carries Excel's quote prefix, so it stays text when someone edits it. Returns how
    many cells it marked.

    Example:
        >>> from openpyxl import Workbook
        >>> sheet = Workbook().active
        >>> sheet["A1"], sheet["A2"] = "+1 to what the others said", "=SUM(B1:B3)"
        >>> keep_as_text(sheet), sheet["A2"].data_type, sheet["A2"].value, sheet["A1"].quotePrefix
        (2, 's', '=SUM(B1:B3)', True)
    """
    marked = 0
    for row in worksheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and (cell.data_type == "f" or starts_like_formula(cell.value)):
                cell.data_type = "s"
                cell.quotePrefix = True
                marked += 1
    return marked


def write_workbook(path: str | os.PathLike[str], sheets: Mapping[str, pd.DataFrame]) -> Path:
    """Write the frames as sheets of one Excel workbook (header frozen, columns sized to their text).

    Text that starts like a formula keeps its words, in text cells Excel does not run (:func:`keep_as_text`).

    Example:
        >>> import tempfile, pathlib
        >>> out = write_workbook(pathlib.Path(tempfile.mkdtemp()) / "t.xlsx", {"codings": pd.DataFrame({"a": ["=1"]})})
        >>> pd.read_excel(out)["a"].tolist()
        ['=1']
    """
    path = Path(path)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            sheet = re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "sheet"
            keep_index = not isinstance(frame.index, pd.RangeIndex)
            safe = escape_frame(frame, excel=True, prefix=False)
            safe.to_excel(writer, sheet_name=sheet, index=keep_index)
            worksheet = writer.sheets[sheet]
            keep_as_text(worksheet)
            worksheet.freeze_panes = "B2" if keep_index else "A2"
            for i, column in enumerate(worksheet.columns):
                width = max((len(str(c.value)) for c in list(column)[:200] if c.value is not None), default=8)
                worksheet.column_dimensions[column[0].column_letter].width = min(max(width + 2, 8), 60 if i else 40)
    return path


# ------------------------------------------------------------------------------------------ project tables


def tidy_codings(store: Any, *, statuses: tuple[str, ...] = ("accepted", "suggested", "rejected", "removed"),
                 ) -> pd.DataFrame:
    """One row per coding with code name, transcript, speaker, participant attributes and the coded text.

    A ``time`` column (``m:ss`` into the recording) follows the turn where the transcript has times (VTT/SRT,
    timestamped lines). A coding its own coder took back (a hand code removed, a change undone) has the status
    ``removed``: it is on record, but nobody judged the code not to apply (see :func:`qualkit.model.withdrawn_by_author`).

    Example:
        >>> from qualkit.store.repository import Store
        >>> tidy_codings(Store.create("sqlite://")).empty
        True
    """
    every = store.codings_df()
    # Judged on the whole table: a blind coder's rejection is told from a removal by its parent suggestion.
    removed = withdrawn_by_author(every) if len(every) else pd.Series(False, index=every.index, dtype=bool)
    # Nobody judged a hand code its coder took back: a stranger read her removals as rejections.
    codings = every.assign(status=every["status"].where(~removed, "removed"))
    codings = codings.loc[codings["status"].isin(statuses)]
    try:
        names = {c.id: c.name for c in store.codebook().codes}
    except Exception:  # no codebook yet
        names = {}
    segments = store.segments_df()
    base = ["id", "source", "speaker", "participant", "speaker_role", "kind", "turn", "start", "end", "text",
            "source_id", "seq", "time_start", "time_end", "marks"]
    attributes = [c for c in segments.columns if c not in base]
    timed = [c for c in ("time_start",) if c in segments and segments[c].notna().any()]
    frame = codings.merge(segments[["id", "participant", *timed, *attributes]].rename(columns={"id": "segment_id"}),
                          on="segment_id", how="left")
    if timed:  # where the recording has it: the way back to the audio for a quote (a stranger missed it)
        frame["time"] = [clock(t) for t in frame["time_start"]]
    frame["code_name"] = frame["code_id"].map(lambda code: names.get(code, code))
    frame["coded_text"] = [str(t)[s - ss:e - ss] if isinstance(t, str) else None for t, s, e, ss in
                           zip(frame["segment_text"], frame["start"], frame["end"], frame["segment_start"],
                               strict=True)]
    columns = ["id", "guid", "source", "source_id", "segment_id", "turn", "time", "speaker", "participant",
               "speaker_role",
               *attributes,
               "code_id", "code_name", "status", "origin", "coder", "decided_by", "score", "start", "end",
               "coded_text", "evidence", "rationale", "codebook_version", "parent_id", "created_at", "decided_at"]
    frame = frame[[c for c in columns if c in frame.columns]].rename(columns={"id": "coding_id"})
    for column in ("parent_id", "turn"):  # ids and turn numbers with gaps read "1.0" as floats (a stranger)
        if column in frame:
            frame[column] = frame[column].astype("Int64")
    return frame


def codebook_table(codebook: Any) -> pd.DataFrame:
    """The codebook as a table: id, name, parent, definition, inclusion, exclusion, examples, colour, GUID.

    Example:
        >>> from qualkit.model import Code, Codebook
        >>> codebook_table(Codebook("m", [Code("a", "A", examples=["x", "y"])]))["examples"].tolist()
        ['x\\ny']
    """
    rows = [{"code_id": c.id, "name": c.name, "parent": c.parent, "codable": c.codable, "definition": c.definition,
             "inclusion": c.inclusion, "exclusion": c.exclusion, "examples": "\n".join(c.examples),
             "near_misses": "\n".join(c.near_misses), "cues": "\n".join(c.cues), "patterns": "\n".join(c.patterns),
             "color": c.color, "guid": c.guid} for c in codebook.codes]
    return pd.DataFrame(rows, columns=["code_id", "name", "parent", "codable", "definition", "inclusion",
                                       "exclusion", "examples", "near_misses", "cues", "patterns", "color", "guid"])


def memo_table(store: Any) -> pd.DataFrame:
    """Every memo with what it is written on: the transcript and turn, a code, or the project.

    Example:
        >>> from qualkit.store.repository import Store
        >>> memo_table(Store.create("sqlite://", name="m")).columns.tolist()
        ['memo_id', 'author', 'written_at', 'on', 'source', 'turn', 'segment_id', 'code_id', 'text']
    """
    columns = ["memo_id", "author", "written_at", "on", "source", "turn", "segment_id", "code_id", "text"]
    memos = store.memos_df()
    if memos.empty:
        return pd.DataFrame(columns=columns)
    segments = store.segments_df(attributes=False).set_index("id")
    names = dict(zip(store.sources_df()["id"], store.sources_df()["name"], strict=True))
    rows = []
    for memo in memos.itertuples(index=False):
        segment = int(memo.segment_id) if pd.notna(memo.segment_id) else None
        source_id = (segments.at[segment, "source_id"] if segment in segments.index
                     else memo.source_id if pd.notna(memo.source_id) else None)
        on = ("a turn" if segment is not None else "a transcript" if source_id is not None
              else "a code" if isinstance(memo.code_id, str) else "the project")
        turn = segments.at[segment, "turn"] if segment in segments.index else None
        rows.append({"memo_id": int(memo.id), "author": memo.author, "written_at": memo.created_at, "on": on,
                     "source": names.get(source_id), "turn": None if pd.isna(turn) else int(turn),
                     "segment_id": segment, "code_id": memo.code_id, "text": memo.text})
    return pd.DataFrame(rows, columns=columns)


def participant_table(store: Any) -> pd.DataFrame:
    """The participants with their attributes (aliases joined by ``;``, as a participants file writes them).

    Example:
        >>> from qualkit.store.repository import Store
        >>> participant_table(Store.create("sqlite://", name="p")).columns.tolist()
        ['participant', 'pseudonym', 'aliases']
    """
    people = store.participants_df().drop(columns=["version"], errors="ignore")
    if "aliases" in people:
        people["aliases"] = [";".join(a) if isinstance(a, list | tuple) else a for a in people["aliases"]]
    return people


def project_tables(store: Any, *, by: str | None = "auto", include_suggested: bool = False,
                   window: int = 0) -> dict[str, pd.DataFrame]:
    """The export's sheets: about, codings, codebook, prevalence (by ``by``), its tests, co-occurrence, memos, participants.

    ``by`` is the participant attribute the prevalence sheet compares (``role``, ``site``...; the about sheet
    names it): ``"auto"``, the default, is role where the study records it, else all participants together,
    as ``None`` is; an attribute the study lacks is an error, never a silent "all participants". Either way
    the sheet follows the study's minimum cell size (:mod:`qualkit.analysis.disclosure`).

    Example:
        >>> from qualkit.store.repository import Store
        >>> sorted(project_tables(Store.create("sqlite://")))
        ['about', 'codebook', 'codings', 'cooccurrence', 'memos', 'participants', 'prevalence', 'prevalence_tests']
        >>> tuple(project_tables(Store.create("sqlite://"))) == TABLE_NAMES  # the files a CSV export writes
        True
    """
    from qualkit.analysis._common import grouping
    from qualkit.analysis.cooccurrence import cooccurrence
    from qualkit.analysis.prevalence import prevalence
    from qualkit.version import __version__

    store = getattr(store, "store", store)
    segments = store.segments_df()
    codings = store.codings_df()
    try:
        codebook = store.codebook()
    except Exception:  # no codebook yet: tables still work with code ids
        codebook = None
    by = grouping(segments, by, "group the prevalence sheet by")
    from qualkit.analysis.disclosure import DEFAULT_MIN_CELL, SETTING, check_min_cell

    # With the roll-up rows, as Project.prevalence() and the report give them: without, a category read 0. And
    # with the study's minimum cell size: the workbook showed the one manager the app and the report kept hidden.
    min_cell = check_min_cell(store.settings.get(SETTING, DEFAULT_MIN_CELL))
    prev = prevalence(segments, codings, by=by, codebook=codebook, include_suggested=include_suggested,
                      all_codes=True, rollup=True, min_cell=min_cell)
    small_cells = prev.settings.get("small_cells", {}).get("notes", [])
    co = cooccurrence(segments, codings, window=window, codebook=codebook, include_suggested=include_suggested)
    about = pd.DataFrame([
        ("qualkit version", __version__),
        ("project", store.name),
        ("codebook", f"{codebook.name} version {codebook.version}" if codebook else "(none)"),
        ("exported at (UTC)", pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d %H:%M")),
        ("codings counted in the analyses", "accepted" + (" and suggested" if include_suggested else "")),
        ("codings sheet", "every coding and decision: accepted, suggested, rejected, and removed (taken back by its own coder: a hand code removed or a change undone; not a rejection) in its status column"),
        ("prevalence by", by or "(all participants)"),
        ("smallest group shown in prevalence", f"{min_cell} people" if min_cell > 1 else "1 (every group shown)"),
        *[("small groups", note) for note in small_cells],
        ("unit", "segment; moderator talk excluded"),
        ("co-occurrence", "within a segment" if window == 0 else f"within {window} turns"),
        ("text starting with = + - or @", "the Excel workbook keeps it as written, in text cells Excel does not "
                                          "run; the CSV files put a ' before it, so a spreadsheet shows it as text "
                                          "instead of running it"),
    ], columns=["item", "value"])
    return {
        "about": about,
        "codings": tidy_codings(store),
        "codebook": codebook_table(codebook) if codebook else pd.DataFrame(columns=["code_id", "name"]),
        "prevalence": prev.table,
        "prevalence_tests": prev.tests,
        "cooccurrence": co,
        "memos": memo_table(store),
        "participants": participant_table(store),
    }


TABLE_NAMES = ("about", "codings", "codebook", "prevalence", "prevalence_tests", "cooccurrence", "memos",
               "participants")
"""The tables of :func:`project_tables`, in its order: the files ``<name>.csv`` a CSV export writes."""


def holds_qualkit_tables(folder: str | os.PathLike[str]) -> bool:
    """Whether ``folder`` holds an earlier CSV export of qualkit: its ``about.csv`` as qualkit writes it.

    Example:
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> holds_qualkit_tables(folder)
        False
        >>> _ = write_csvs(folder, {"about": pd.DataFrame([("qualkit version", "1")], columns=["item", "value"])})
        >>> holds_qualkit_tables(folder)
        True
    """
    try:
        with open(Path(folder) / "about.csv", encoding="utf-8-sig", errors="replace", newline="") as about:
            head = [about.readline().rstrip("\r\n") for _ in range(2)]
    except OSError:
        return False
    return head[0] == "item,value" and head[1].startswith("qualkit version,")


def check_csv_folder(path: str | os.PathLike[str]) -> None:
    """Refuse a CSV export that would overwrite files qualkit did not write, or make a folder called ``*.csv``.

    The CSV export writes the files ``<name>.csv`` of :data:`TABLE_NAMES` into a folder. When any of them
    exists already, the folder must hold an earlier qualkit CSV export (:func:`holds_qualkit_tables`),
    which is then replaced; otherwise nothing is written and the error names the files.

    Example:
        >>> check_csv_folder("codebook.csv")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        qualkit.errors.InvalidInput: codebook.csv: the CSV export writes a folder of files ... Fix: ...
    """
    folder = Path(path)
    if folder.suffix.lower() == ".csv":
        raise InvalidInput(f"the CSV export writes a folder of files ({', '.join(n + '.csv' for n in TABLE_NAMES)}), "
                           "not one .csv file", path=folder,
                           fix=f"give a folder name such as {folder.stem + '_tables'!r}, or a .xlsx file name for "
                               "one workbook with every table")
    if folder.exists() and not folder.is_dir():
        raise InvalidInput("this is a file; the CSV export writes a folder of files", path=folder,
                           fix="give the name of a new folder, or a .xlsx file name for one workbook")
    clashing = [f"{name}.csv" for name in TABLE_NAMES if (folder / f"{name}.csv").exists()]
    if clashing and not holds_qualkit_tables(folder):
        raise InvalidInput(f"the folder already holds {', '.join(clashing)}, which qualkit did not write; "
                           "nothing was written", path=folder,
                           fix="export into a new folder (a name that does not exist yet), or move those files "
                               "out first")


def export_tables(store: Any, path: str | os.PathLike[str], *, format: str = "xlsx", **options: Any) -> Path:
    """Write the project tables as one Excel workbook (``xlsx``) or a folder of CSV files (``csv``).

    The CSV folder never overwrites files qualkit did not write (:func:`check_csv_folder`); an earlier
    qualkit CSV export in it is replaced.

    Example:
        >>> from qualkit.store.repository import Store
        >>> import tempfile, pathlib
        >>> export_tables(Store.create("sqlite://"), pathlib.Path(tempfile.mkdtemp()) / "t.xlsx").suffix
        '.xlsx'
    """
    if format == "csv":
        check_csv_folder(path)  # before any work: nothing is written when it refuses
        folder = Path(path)
        write_csvs(folder, project_tables(store, **options))
        return folder
    return write_workbook(path, project_tables(store, **options))


def _workbook(store: Any, path: Path, **options: Any) -> Path:
    return export_tables(store, path, format="xlsx", **options)


def _csv_folder(store: Any, path: Path, **options: Any) -> Path:
    return export_tables(store, path, format="csv", **options)


_TABLE_OPTIONS = ("include_suggested", "by", "window")
EXPORTS = (
    Export("xlsx", "Excel workbook", (".xlsx",), write=_workbook, options=_TABLE_OPTIONS),
    Export("csv", "CSV tables", (), write=_csv_folder, options=_TABLE_OPTIONS, folder=True),
)
"""The table exports (one escaping writer for both)."""

"""Participants: reading ``participants.csv`` (or a DataFrame) and matching speakers to them.

A participants table has one row per person. Recognised columns (ignoring case, and reading ``_``/``-`` as a
space, so "Speaker label" is ``speaker_label``): the id
(``participant_id``, ``id``, ``participant``, ``pid``), the label used in transcripts (``pseudonym``,
``label``, ``speaker``, ``name``), optional ``aliases`` (separated by ``;`` or ``|``); every other
column becomes an attribute named by its header in lower case (numbers become ints/floats, empty cells are
left out).

Speakers match a participant by id, pseudonym or alias, first exactly (ignoring case and spacing),
then ignoring titles, credentials and accents. When several participants share a label, the one
whose ``session``/``group`` value appears in the file name wins.

Example:
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"participant_id": ["R01"], "pseudonym": ["Ana"], "years_in_role": ["3"]})
    >>> read_participants(frame)
    [Participant(id='R01', pseudonym='Ana', aliases=[], attributes={'years_in_role': 3})]
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from qualkit.errors import InvalidInput, QualkitError
from qualkit.ingest.csvrows import MalformedCSV, csv_rows, sniff_delimiter
from qualkit.ingest.limits import (
    DEFAULT_LIMITS,
    Limits,
    check_participants,
    check_text,
    describe_exception,
    over_limit,
)
from qualkit.ingest.speakers import label_key, name_key
from qualkit.model import Participant

ID_COLUMNS = ("participant_id", "participant id", "id", "participant", "pid", "respondent_id", "respondent",
              "subject_id", "code")
LABEL_COLUMNS = ("pseudonym", "label", "speaker", "speaker_label", "name", "display_name", "alias")
ALIAS_COLUMNS = ("aliases", "alias_list", "other_labels", "also_known_as")
SESSION_COLUMNS = ("session", "group", "focus_group", "transcript", "source", "file")
MODERATOR_VALUES = frozenset({"moderator", "interviewer", "facilitator", "co-moderator", "comoderator", "host",
                              "researcher", "note taker", "notetaker", "observer"})

ParticipantsLike = str | os.PathLike[str] | pd.DataFrame | Sequence[Participant]


def convert_cell(value: Any, *, text: bool = False) -> Any:
    """A cell as an attribute value: whole numbers as int, decimals as float, text stripped, empty as None.

    A number written with a leading zero (a ward code ``07``, an id ``007``) stays text, as it was
    written; so does every cell with ``text`` (a column :func:`keeps_text` found such a code in).

    Example:
        >>> convert_cell(" 12 "), convert_cell("3.5"), convert_cell(""), convert_cell("nurse"), convert_cell("07")
        (12, 3.5, None, 'nurse', '07')
        >>> convert_cell("12", text=True)
        '12'
    """
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        stripped = value.strip()
        if stripped == "":
            return None
        if text or LEADING_ZERO.fullmatch(stripped):
            return stripped
        if re.fullmatch(r"[+-]?\d{1,15}", stripped):
            return int(stripped)
        if re.fullmatch(r"[+-]?\d+\.\d+", stripped):
            return float(stripped)
        return stripped
    if hasattr(value, "item"):
        return value.item()
    return value


LEADING_ZERO = re.compile(r"[+-]?0\d+")


def keeps_text(values: Iterable[Any]) -> bool:
    """True when a column holds a number written with a leading zero: a code, so all its cells stay text.

    Example:
        >>> keeps_text(["07", "12"]), keeps_text(["7", "12", "0.5"])
        (True, False)
    """
    return any(isinstance(v, str) and LEADING_ZERO.fullmatch(v.strip()) for v in values)


def _refuse_misspelt_id(columns: dict[str, str], where: str | None) -> None:
    """Refuse a header that looks like a misspelt id column (``partcipant``), rather than take ids from the labels.

    Without an id column the labels serve as ids; a misspelt one would otherwise become an attribute, and
    every participant a new person with their label as id.
    """
    import difflib

    ids = list(dict.fromkeys(header_key(name) for name in ID_COLUMNS))
    others = {header_key(name) for name in LABEL_COLUMNS + ALIAS_COLUMNS}
    for name, column in columns.items():
        close = difflib.get_close_matches(name, ids, n=1, cutoff=0.8)
        if close and name not in others:
            raise InvalidInput(f"no participant id column: {column!r} looks like a misspelt {close[0]!r}", path=where,
                               line=1 if where else None,
                               fix=f"rename the column {column!r} to {close[0]!r}")


def header_key(column: object) -> str:
    """A participants header as it is compared: case-blind, with runs of spaces, ``_`` and ``-`` as one space.

    As the codebook reader compares its headers, so "Speaker label", "speaker_label" and "SPEAKER-LABEL" agree.

    Example:
        >>> header_key(" Speaker label "), header_key("speaker_label"), header_key("Participant-ID")
        ('speaker label', 'speaker label', 'participant id')
    """
    return re.sub(r"[\s_\-]+", " ", str(column if column is not None else "")).strip().casefold()


def _pick(columns: dict[str, str], names: Iterable[str]) -> str | None:
    for name in names:
        if header_key(name) in columns:
            return columns[header_key(name)]
    return None


def read_participants(path_or_frame: ParticipantsLike, *, limits: Limits | None = None) -> list[Participant]:
    """Read participants from a CSV/Excel file or a DataFrame (a list of Participants is checked and returned).

    Raises :class:`~qualkit.errors.InvalidInput` naming the file and line for a missing id column,
    duplicate ids, an unreadable file, more columns or attributes than ``limits`` allow, or values the
    store could not hold (NUL characters, ids and labels over 200 characters), before anything is stored.

    Example:
        >>> import pandas as pd
        >>> [p.pseudonym for p in read_participants(pd.DataFrame({"id": ["M1"], "pseudonym": ["Moderator"]}))]
        ['Moderator']
    """
    limits = limits or DEFAULT_LIMITS
    if isinstance(path_or_frame, list | tuple) and all(isinstance(p, Participant) for p in path_or_frame):
        check_participants(path_or_frame, limits)
        return list(path_or_frame)
    where: str | None = None
    if isinstance(path_or_frame, pd.DataFrame):
        frame = path_or_frame
    else:
        path = Path(path_or_frame)
        where = str(path)
        frame = _read_table(path, limits)
    if frame.shape[1] > limits.columns:
        raise over_limit("columns", frame.shape[1], limits.columns, where, line=1 if where else None,
                         error=InvalidInput)
    frame = frame.astype(object)
    columns = {header_key(c): c for c in frame.columns}
    id_column = _pick(columns, ID_COLUMNS)
    label_column = _pick(columns, LABEL_COLUMNS)
    if id_column is None and label_column is None:
        raise InvalidInput(f"no participant id column among {list(frame.columns)}", path=where, line=1 if where else None,
                           fix="name the id column participant_id (and the transcript label column pseudonym)")
    if id_column is None:
        _refuse_misspelt_id(columns, where)
    id_column = id_column or label_column
    alias_column = _pick(columns, ALIAS_COLUMNS)
    skip = {id_column, label_column, alias_column}
    as_text = {column for column in frame.columns if keeps_text(frame[column])}
    participants: list[Participant] = []
    seen: dict[str, int] = {}
    for row_number, record in enumerate(frame.to_dict("records"), start=2):
        pid = convert_cell(record.get(id_column))
        if pid is None:
            if all(convert_cell(v) is None for v in record.values()):
                continue
            raise InvalidInput("a participant has no id", path=where, line=row_number if where else None,
                               fix=f"fill in the {id_column!r} column")
        pid = str(pid)
        if pid in seen:
            raise InvalidInput(f"participant id {pid!r} appears twice (also on line {seen[pid]})", path=where,
                               line=row_number if where else None, fix="give every participant a unique id")
        seen[pid] = row_number
        label = convert_cell(record.get(label_column)) if label_column else None
        aliases_cell = convert_cell(record.get(alias_column)) if alias_column else None
        aliases = [a.strip() for a in re.split(r"[;|]", str(aliases_cell)) if a.strip()] if aliases_cell else []
        attributes = {attribute_name(k): v for k, v in ((k, convert_cell(v, text=k in as_text))
                                                        for k, v in record.items() if k not in skip)
                      if v is not None}
        participants.append(Participant(pid, pseudonym=None if label is None else str(label), aliases=aliases,
                                        attributes=attributes))
        try:
            check_participants(participants[-1:], limits)
        except InvalidInput as error:
            raise InvalidInput(error.message.replace("participant 1", f"participant {pid[:40]!r}"), path=where,
                               line=row_number if where else None, fix=error.fix) from None
    return participants


BUILT_IN_ATTRIBUTES = ("role", "group", "session")
"""Attributes qualkit reads by name (reports group by role, quotes name role and group, sessions link files)."""


def attribute_name(column: object) -> str:
    """The attribute a participants column gives: its header in lower case, spaces trimmed and single.

    Every attribute alike (``role`` and ``grade`` both), so ``--by grade`` finds a sheet's "Grade" column as
    it finds "Role"; the demo study's and qualkit's own names are lower case already.

    Example:
        >>> attribute_name(" Role "), attribute_name("GROUP"), attribute_name("Years  in role")
        ('role', 'group', 'years in role')
    """
    return " ".join(str(column).split()).lower()


def _read_table(path: Path, limits: Limits) -> pd.DataFrame:
    from qualkit.ingest.encoding import decode_bytes, read_bytes

    try:
        raw = read_bytes(path, max_bytes=limits.file_bytes)
    except QualkitError as error:
        raise InvalidInput(f"the participants file {error.message.removeprefix('the file ')}", path=path,
                           fix=error.fix) from None
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from qualkit.ingest.archive import check_archive

        try:
            raw = check_archive(raw, path, required="xl/workbook.xml", max_bytes=limits.file_bytes, kind="Excel")
            return pd.read_excel(io.BytesIO(raw), dtype=str, keep_default_na=False)
        except QualkitError as error:
            raise InvalidInput(error.message, path=path, fix=error.fix) from None
        except Exception as exc:
            raise InvalidInput(f"the participants file cannot be read ({describe_exception(exc)})", path=path,
                               fix="save it again from Excel as .xlsx, or as UTF-8 CSV") from None
    try:
        text = decode_bytes(raw, path).text
        check_text(text, path, error=InvalidInput)
    except QualkitError as error:
        raise InvalidInput(error.message, path=path, line=error.line, fix=error.fix) from None
    first = text.split("\n", 1)[0]
    width = 1 + max(first.count(sep) for sep in (",", ";", "\t", "|"))
    if width > limits.columns:  # refused before pandas builds a frame a million columns wide
        raise over_limit("columns", width, limits.columns, path, line=1, error=InvalidInput)
    sep = sniff_delimiter(text, path)
    try:  # read strictly first: pandas named no line for a quote never closed
        for _ in csv_rows(text, sep):
            pass
    except MalformedCSV as error:
        raise InvalidInput(f"the participants file is not a valid CSV: {error.reason}", path=path, line=error.line,
                           fix=error.fix or "check the quoting on that line; save it from Excel as CSV UTF-8") from None
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep, engine="python")
    except Exception as exc:
        raise InvalidInput(f"the participants file is not a valid CSV ({describe_exception(exc)})", path=path,
                           fix="check quoting and delimiters; save it from Excel as CSV UTF-8") from None


def session_matches(session_value: str, source_name: str | None, source_meta: dict[str, Any] | None) -> bool:
    """True when a participant's session (e.g. ``fg1``) names this source (``fg1_residents.txt``).

    The store links a speaker to a participant of another session by this rule only, and the import takes a
    participant's attributes only where it holds (``qualkit.store.participants.participant_lookup``).

    Example:
        >>> session_matches("fg1", "fg1_residents.txt", None), session_matches("fg1", "fg10.txt", None)
        (True, False)
    """
    if not session_value or not source_name:
        return False
    if source_meta and str(source_meta.get("session", "")) == session_value:
        return True
    stem = Path(source_name).stem.lower()
    return re.match(rf"{re.escape(session_value.lower())}(?![a-z0-9])", stem) is not None


def is_moderator(participant: Participant) -> bool:
    """True when the participant's ``role`` attribute says moderator/interviewer/facilitator.

    Example:
        >>> is_moderator(Participant("M1", attributes={"role": "Moderator"}))
        True
    """
    role = participant.attributes.get("role")
    return isinstance(role, str) and role.strip().casefold() in MODERATOR_VALUES


class ParticipantIndex:
    """Look up participants by label, id, pseudonym or alias, exactly and then loosely.

    Example:
        >>> index = ParticipantIndex([Participant("R01", pseudonym="Ana Ruiz")])
        >>> index.match("DR. ANA RUIZ", source_name="fg1.txt").id
        'R01'
    """

    def __init__(self, participants: Sequence[Participant]) -> None:
        self.participants = list(participants)
        self._exact: dict[str, list[Participant]] = {}
        self._loose: dict[str, list[Participant]] = {}
        for p in self.participants:
            names = [p.id, *([p.pseudonym] if p.pseudonym else []), *p.aliases]
            for name in names:
                self._add(self._exact, label_key(name), p)
                self._add(self._loose, name_key(name), p)

    @staticmethod
    def _add(table: dict[str, list[Participant]], key: str, p: Participant) -> None:
        if key and p not in table.setdefault(key, []):
            table[key].append(p)

    def known_keys(self) -> set[str]:
        """Label keys of every id, pseudonym and alias (to accept them as speaker labels)."""
        return set(self._exact)

    def match(self, label: str, *, source_name: str = "", extra: Iterable[str] = ()) -> Participant | None:
        """The participant a label (or, failing that, one of ``extra`` names such as a legend entry) names."""
        for name in (label, *extra):
            for table, key in ((self._exact, label_key(name)), (self._loose, name_key(name))):
                found = table.get(key, [])
                if len(found) == 1:
                    return found[0]
                if len(found) > 1:
                    chosen = _by_session(found, source_name)
                    if chosen is not None:
                        return chosen
        return None

    def ambiguous(self, label: str, source_name: str = "") -> list[Participant]:
        """Participants sharing this label when the file name does not decide between them."""
        found = self._exact.get(label_key(label)) or self._loose.get(name_key(label)) or []
        return found if len(found) > 1 and _by_session(found, source_name) is None else []


def _by_session(found: list[Participant], source_name: str) -> Participant | None:
    stem = Path(source_name).stem.casefold()
    tokens = set(re.split(r"[^\w]+|_", stem))
    hits = []
    for p in found:
        for column in SESSION_COLUMNS:
            value = p.attributes.get(column)
            if value is None:
                continue
            value_key = str(value).casefold()
            if value_key and (value_key in tokens or (len(value_key) > 2 and value_key in stem)):
                hits.append(p)
                break
    return hits[0] if len(hits) == 1 else None


def speaker_participants(segments: pd.DataFrame, participants: pd.DataFrame) -> list[Participant]:
    """Participant rows to create for the speakers no participant covers yet (one row each, to fill in).

    ``segments`` is ``Store.segments_df()`` (``source``, ``speaker``, ``speaker_role``, ``participant``);
    ``participants`` is ``Store.participants_df()``. Only participants' turns without a linked participant
    count (moderators are not participants). A speaker is named after their label, with ``session`` = the
    transcript's name, so the "A" of a Q/A interview imported later is not taken for this one (a stranger's
    group figures counted one nurse's talk as another's); when that label is already taken by someone else
    (the same first name in another session), the new row is called ``"Ana (fg2)"`` and keeps ``Ana`` as an
    alias, so each session's Ana links to her own row. Rename or alias them to join two rows into one person.

    Example:
        >>> import pandas as pd
        >>> segs = pd.DataFrame({"source": ["fg1.txt", "fg2.txt", "fg2.txt"], "speaker": ["Ana", "Ana", "Mod"],
        ...                      "speaker_role": ["participant", "participant", "moderator"],
        ...                      "participant": [None, None, None]})
        >>> [(p.id, p.aliases, p.attributes) for p in speaker_participants(segs, pd.DataFrame())]
        [('Ana', [], {'session': 'fg1'}), ('Ana (fg2)', ['Ana'], {'session': 'fg2'})]
    """
    if segments.empty:
        return []
    taken = set()
    if len(participants):
        for row in participants.to_dict("records"):
            taken.add(str(row.get("participant")))
            taken.update(str(a) for a in (row.get("aliases") or []))
            if isinstance(row.get("pseudonym"), str):
                taken.add(row["pseudonym"])
    linked = segments["participant"].notna() if "participant" in segments else False
    open_turns = segments[(segments["speaker_role"] == "participant") & segments["speaker"].notna() & ~linked]
    made: list[Participant] = []
    for (source, speaker), _ in open_turns.groupby(["source", "speaker"], sort=False):
        speaker = str(speaker).strip()
        if not speaker:
            continue
        session = Path(str(source)).stem
        if speaker not in taken:
            made.append(Participant(speaker, attributes={"session": session}))
            taken.add(speaker)
            continue
        label = f"{speaker} ({session})"
        if label not in taken:
            made.append(Participant(label, aliases=[speaker], attributes={"session": session}))
            taken.add(label)
    return made

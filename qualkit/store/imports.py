"""Whole-project imports (a ``.qdpx`` from another program): checked first, then written in ONE transaction.

An importer (e.g. :mod:`qualkit.export.refi.importer`) builds an :class:`ImportBatch` of plain objects:
the codebook to save, participants, sources with their segments, codings and memos tied to those
segment and source objects, and project settings. :func:`check_import` refuses, before anything is
written, a value the database cannot hold: a string longer than its column or a NUL character
anywhere (PostgreSQL refuses both, midway; SQLite would keep them), with one line that names the
place (source, segment, participant, code, ...) and quotes no transcript text.
:meth:`ImportsMixin.write_import` then writes the batch into an existing project in one transaction,
and :meth:`ImportsMixin.create_with_import` creates the project itself in that same transaction, so a
failure leaves the database exactly as it was and no half-made project behind.

Example:
    >>> from qualkit.model import Segment, Source
    >>> from qualkit.store.repository import Store
    >>> source = Source(name="g1.txt", text="Ann: tired.", format="txt")
    >>> source.segments = [Segment("g1.txt", 5, 11, "tired.", speaker="Ann")]
    >>> store = Store.create_with_import("sqlite://", "pilot", batch=ImportBatch(sources=[source]), user="ana")
    >>> store.sources_df()["name"].tolist()
    ['g1.txt']
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Self

from sqlalchemy import Engine, inspect, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from qualkit.errors import ConflictError, InvalidInput, StoreError
from qualkit.model import Codebook, Coding, Memo, Participant, Segment, Source
from qualkit.store.base import StaleVersion, StoreBase
from qualkit.store.engine import make_engine, migrate
from qualkit.store.event_types import event_row
from qualkit.store.schema import (
    CodebookRow,
    CodeRow,
    CodingRow,
    EventRow,
    MemoRow,
    ParticipantRow,
    ProjectRow,
    SegmentRow,
    SourceRow,
)

Target = Segment | Source | None
"""What a memo of a batch is about: a segment or a source of the batch, or nothing (a code or the project)."""


@dataclass
class ImportBatch:
    """Everything one import writes, as plain objects: all of it is stored, or none of it.

    ``codings`` pair each coding with a segment of ``sources`` (its id is known only once stored);
    a coding without ``codebook_version`` gets the version this batch saves. ``memos`` pair each memo
    with the segment or source of the batch it is about (``None``: its ``code_id``, or the project).
    ``expected_codebook_version`` is the version of the active codebook the batch was built from
    (0: none); if someone saved another meanwhile, nothing is stored.

    Example:
        >>> ImportBatch().sources
        []
    """

    codebook: Codebook | None = None
    codebook_note: str = ""
    expected_codebook_version: int | None = None
    participants: list[Participant] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    codings: list[tuple[Segment, Coding]] = field(default_factory=list)
    memos: list[tuple[Target, Memo]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    action: str = "import"


def _column(row_class: type, attribute: str) -> Any:
    return inspect(row_class).attrs[attribute].columns[0]


def _quoted(value: Any) -> str | None:
    """A short, printable name to show in a message, or None (then the place is given by number)."""
    if isinstance(value, str) and 0 < len(value) <= 60 and value.isprintable():
        return repr(value)
    return None


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple | set):
        return any(_has_nul(v) for v in value)
    return False


def check_values(row_class: type, values: Mapping[str, Any], where: str) -> None:
    """Refuse values a table cannot hold: a string longer than its column, or a NUL character anywhere.

    ``values`` maps the row class's attribute names to values; ``where`` names the place for the
    message (never the value itself, which may be transcript text).

    Example:
        >>> check_values(ParticipantRow, {"label": "P1", "attributes": {"role": "resident"}}, "participant 1")
        >>> check_values(ParticipantRow, {"label": "P" * 201}, "participant 2")
        Traceback (most recent call last):
        ...
        qualkit.errors.InvalidInput: participant 2: the label is 201 characters long; the database allows 200. Fix: shorten it in the file, then import again
    """
    for attribute, value in values.items():
        label = attribute.replace("_", " ")
        if _has_nul(value):
            raise InvalidInput(f"{where}: the {label} contains a NUL character (\\0), which the database cannot store",
                               fix="remove the NUL characters from the file, then import again")
        limit = getattr(_column(row_class, attribute).type, "length", None)
        if isinstance(value, str) and limit is not None and len(value) > limit:
            raise InvalidInput(f"{where}: the {label} is {len(value)} characters long; the database allows {limit}",
                               fix="shorten it in the file, then import again")


def check_import(batch: ImportBatch, *, user: str | None = None, project_name: str | None = None,
                 description: str | None = None) -> None:
    """Check every value of a batch against the columns it goes to, before anything is written.

    Raises :class:`~qualkit.errors.InvalidInput` with one line naming the place (project, source,
    segment, participant, code, coding, memo) and the limit; transcript text is never quoted.

    Example:
        >>> check_import(ImportBatch(), user="ana", project_name="pilot")
        >>> check_import(ImportBatch(), user="a" * 300)
        Traceback (most recent call last):
        ...
        qualkit.errors.InvalidInput: the importing user: the user is 300 characters long; the database allows 200. Fix: shorten it in the file, then import again
    """
    check_values(EventRow, {"user": user}, "the importing user")
    if project_name is not None or description is not None:
        check_values(ProjectRow, {"name": project_name, "description": description}, "the project")
    if batch.codebook is not None:
        codebook = batch.codebook
        check_values(CodebookRow, {"name": codebook.name, "description": codebook.description,
                                   "note": batch.codebook_note}, "the codebook")
        for n, code in enumerate(codebook.codes, 1):
            where = f"code {_quoted(code.id) or n}"
            check_values(CodeRow, {"code_id": code.id, "name": code.name, "parent": code.parent, "color": code.color,
                                   "guid": code.guid, "definition": code.definition}, where)
            extra = {k: v for k, v in dataclasses.asdict(code).items()
                     if k not in ("id", "name", "parent", "color", "guid", "codable", "definition")}
            check_values(CodeRow, {"data": extra}, where)
    for n, participant in enumerate(batch.participants, 1):
        check_values(ParticipantRow, {"label": participant.id, "pseudonym": participant.pseudonym,
                                      "aliases": list(participant.aliases), "attributes": participant.attributes,
                                      "guid": participant.guid}, f"participant {_quoted(participant.id) or n}")
    for n, source in enumerate(batch.sources, 1):
        where = f"source {_quoted(source.name) or n}"
        check_values(SourceRow, {"name": source.name, "format": source.format, "encoding": source.encoding,
                                 "guid": source.guid, "text": source.text, "meta": source.metadata}, where)
        for k, segment in enumerate(source.segments, 1):
            check_values(SegmentRow, {"speaker": segment.speaker, "role": segment.role, "kind": segment.kind,
                                      "attributes": segment.attributes}, f"{where}, segment {k}")
    for n, (_, coding) in enumerate(batch.codings, 1):
        check_values(CodingRow, {"code_id": coding.code_id, "coder": coding.coder, "decided_by": coding.decided_by,
                                 "guid": coding.guid, "rationale": coding.rationale}, f"coding {n}")
    for n, (_, memo) in enumerate(batch.memos, 1):
        check_values(MemoRow, {"text": memo.text, "author": memo.author, "code_id": memo.code_id, "guid": memo.guid},
                     f"memo {n}")
    check_values(ProjectRow, {"settings": batch.settings}, "the project settings")


@contextmanager
def _refused_as_one_line() -> Iterator[None]:
    """Turn what the database refuses into one line without SQL or values (nothing was stored)."""
    try:
        yield
    except StaleVersion as stale:
        raise ConflictError(f"someone changed the project while it was importing ({stale.message}); "
                            "nothing was imported") from None
    except IntegrityError as error:
        raise StoreError(f"the database refused the import ({type(error.orig).__name__}: a duplicate or a missing "
                         "reference); nothing was imported", fix="import into a new project") from None
    except SQLAlchemyError as error:
        reason = type(getattr(error, "orig", None) or error).__name__
        raise StoreError(f"the database refused the import ({reason}); nothing was imported",
                         fix="check the file's names and texts, or import into a new project") from None


class ImportsMixin(StoreBase):
    """Whole-project imports in one transaction (a part of :class:`~qualkit.store.repository.Store`)."""

    def write_import(self, batch: ImportBatch, *, user: str | None = None) -> int | None:
        """Check a batch, then store all of it in one transaction; returns the codebook version it saved.

        Example:
            >>> from qualkit.store.repository import Store
            >>> from qualkit.model import Code
            >>> store = Store.create("sqlite://")
            >>> store.write_import(ImportBatch(codebook=Codebook("cb", [Code("w", "Workload")])), user="ana")
            1
        """
        check_import(batch, user=user)
        with _refused_as_one_line(), self.transaction() as session:
            return self.write_import_in(session, batch, user=user)

    def write_import_in(self, session: Session, batch: ImportBatch, *, user: str | None = None) -> int | None:
        """:meth:`write_import` inside the caller's transaction (values checked by the caller).

        Example:
            >>> from qualkit.store.repository import Store
            >>> store = Store.create("sqlite://")
            >>> with store.transaction() as session:
            ...     store.write_import_in(session, ImportBatch(settings={"language": "en"}), user="ana") is None
            True
        """
        version = None
        if batch.codebook is not None:
            version = self.save_codebook_in(session, batch.codebook, user=user, note=batch.codebook_note,
                                            expected_version=batch.expected_codebook_version)
            batch.codebook.version = version
        if batch.participants:
            self.upsert_participants_in(session, batch.participants, user=user)
        for source in batch.sources:
            self.add_source_in(session, source, user=user)
        codings = []
        for segment, coding in batch.codings:
            if segment.id is None:
                raise StoreError(f"a coding of {coding.code_id!r} is tied to a segment that is not in the batch")
            coding.segment_id = segment.id
            if coding.codebook_version is None:
                coding.codebook_version = version
            codings.append(coding)
        if codings:
            self.insert_codings_in(session, codings, user=user, action=batch.action)
        for target, memo in batch.memos:
            if isinstance(target, Segment):
                memo.segment_id = target.id
            elif isinstance(target, Source):
                memo.source_id = target.id
            self.add_memo_in(session, memo, user=user)
        if batch.settings:
            self.update_settings_in(session, user, **batch.settings)
        return version

    @classmethod
    def create_with_import(cls, path_or_url: str | os.PathLike[str] | Engine | None, name: str, *,
                           batch: ImportBatch, description: str = "", user: str | None = None) -> Self:
        """Create a project and store a batch in it, in one transaction: both, or neither.

        A name already taken is refused before anything is written (the database schema itself may
        be created, as by :meth:`~qualkit.store.projects.ProjectsMixin.create`).

        Example:
            >>> from qualkit.store.repository import Store
            >>> store = Store.create_with_import("sqlite://", "p", batch=ImportBatch())
            >>> store.name
            'p'
        """
        check_import(batch, user=user, project_name=name, description=description)
        engine = path_or_url if isinstance(path_or_url, Engine) else make_engine(path_or_url)
        migrate(engine)
        with _refused_as_one_line(), Session(engine) as session, session.begin():
            if session.scalar(select(ProjectRow.id).where(ProjectRow.name == name)) is not None:
                raise StoreError(f"a project named {name!r} already exists in {engine.url.render_as_string()}",
                                 fix="choose another name")
            row = ProjectRow(name=name, description=description, settings={})
            session.add(row)
            session.flush()
            session.add(event_row(row.id, user, "create", "project", row.id, new={"name": name}))
            store = cls(engine, row.id, name)
            store.write_import_in(session, batch, user=user)
        return store


__all__ = ["ImportBatch", "ImportsMixin", "check_import", "check_values"]

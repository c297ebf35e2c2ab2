"""Codebooks: every saved version of a codebook, with who saved it, when and why; the project's active one.

Example:
    >>> from qualkit.model import Code, Codebook
    >>> from qualkit.store.repository import Store
    >>> store = Store.create("sqlite://")
    >>> store.save_codebook(Codebook("burnout", [Code("w", "Workload")]), user="ana", note="first")
    1
    >>> store.codebook().codes[0].name
    'Workload'
"""

from __future__ import annotations

import dataclasses

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from qualkit.errors import ConflictError, StoreError
from qualkit.model import Code, Codebook, new_guid
from qualkit.store.base import StoreBase
from qualkit.store.schema import CodebookRow, CodeRow, ProjectRow


class CodebooksMixin(StoreBase):
    """Codebook versions (a part of :class:`~qualkit.store.repository.Store`)."""

    def save_codebook(self, codebook: Codebook, *, user: str | None = None, note: str = "",
                      expected_version: int | None = None) -> int:
        """Store ``codebook`` as the next version of its name and make it the project's active codebook.

        Returns the new version number (also written to ``codebook.version``); earlier versions are kept.
        With ``expected_version`` (the version the editor started from) a version saved by someone else
        meanwhile raises :class:`ConflictError` naming it, and nothing is saved.
        """
        try:
            with self.transaction() as session:
                version = self.save_codebook_in(session, codebook, user=user, note=note,
                                                expected_version=expected_version)
        except IntegrityError as exc:  # another version was saved at the same moment
            raise ConflictError(f"someone else saved codebook {codebook.name!r} at the same moment; yours was not "
                                "saved", current={"version": self.codebook(codebook.name).version}) from exc
        codebook.version = version
        return version

    def save_codebook_in(self, session: Session, codebook: Codebook, *, user: str | None = None, note: str = "",
                         expected_version: int | None = None) -> int:
        """:meth:`save_codebook` inside the caller's transaction (for changes that also move codings)."""
        latest_row = session.scalars(select(CodebookRow).where(
            CodebookRow.project_id == self.project_id, CodebookRow.name == codebook.name)
            .order_by(CodebookRow.version.desc()).limit(1).with_for_update()).first()
        latest = latest_row.version if latest_row is not None else 0
        if expected_version is not None and latest != expected_version:
            current = {"version": latest, "saved_by": latest_row.created_by if latest_row else None,
                       "note": latest_row.note if latest_row else None}
            raise ConflictError(
                f"codebook {codebook.name!r} is now at version {latest} (saved by {current['saved_by'] or 'someone'}"
                f"{': ' + current['note'] if current['note'] else ''}); you edited version {expected_version}, "
                "so your change was not saved", current=current,
                fix="reload the Codebook page to see the current codes, then make your change again")
        version = latest + 1
        row = CodebookRow(project_id=self.project_id, name=codebook.name, version=version,
                          description=codebook.description, note=note, created_by=user)
        session.add(row)
        session.flush()
        for position, code in enumerate(codebook.codes):
            data = {k: v for k, v in dataclasses.asdict(code).items()
                    if k not in ("id", "name", "parent", "color", "guid", "codable", "definition")}
            session.add(CodeRow(codebook_id=row.id, code_id=code.id, name=code.name, parent=code.parent,
                                position=position, color=code.color, guid=code.guid or new_guid(),
                                codable=code.codable, definition=code.definition, data=data))
        project = session.get(ProjectRow, self.project_id)
        project.settings = {**(project.settings or {}), "codebook": codebook.name}
        self.log(session, user, "save", "codebook", f"{codebook.name}@{version}",
                 old={"version": latest} if latest else None,
                 new={"name": codebook.name, "version": version, "codes": len(codebook.codes), "note": note})
        return version

    def codebook(self, name: str | None = None, version: int | None = None) -> Codebook:
        """Load a codebook version (default: the project's active codebook, latest version)."""
        name = name or self.settings.get("codebook")
        with self.session() as session:
            query = select(CodebookRow).where(CodebookRow.project_id == self.project_id)
            if name is not None:
                query = query.where(CodebookRow.name == name)
            if version is not None:
                query = query.where(CodebookRow.version == version)
            row = session.scalars(query.order_by(CodebookRow.version.desc())).first()
            if row is None:
                raise StoreError(f"project {self.name!r} has no codebook{f' {name!r}' if name else ''}"
                                 f"{f' version {version}' if version else ''}",
                                 fix="add one with project.set_codebook(qk.Codebook.load('burnout'))")
            codes = session.scalars(select(CodeRow).where(CodeRow.codebook_id == row.id)
                                    .order_by(CodeRow.position)).all()
            return Codebook(
                name=row.name, version=row.version, description=row.description,
                codes=[Code(id=c.code_id, name=c.name, parent=c.parent, color=c.color, guid=c.guid,
                            codable=c.codable, definition=c.definition, **(c.data or {})) for c in codes],
            )

    def codebook_versions(self) -> pd.DataFrame:
        """Every stored codebook version with who saved it, when, and why."""
        with self.session() as session:
            rows = session.execute(
                select(CodebookRow.name, CodebookRow.version, CodebookRow.created_by, CodebookRow.created_at,
                       CodebookRow.note, func.count(CodeRow.id).label("codes"))
                .outerjoin(CodeRow, CodeRow.codebook_id == CodebookRow.id)
                .where(CodebookRow.project_id == self.project_id)
                .group_by(CodebookRow.id).order_by(CodebookRow.name, CodebookRow.version)).mappings().all()
        return pd.DataFrame(rows, columns=["name", "version", "created_by", "created_at", "note", "codes"])


__all__ = ["CodebooksMixin"]

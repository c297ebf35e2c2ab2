"""Projects in a database: create, open and list them, and each project's settings.

Example:
    >>> from qualkit.store.repository import Store
    >>> store = Store.create("sqlite://", name="pilot")
    >>> store.update_settings(user="ana", codebook="burnout")["codebook"]
    'burnout'
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any, Self

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from qualkit.errors import ProjectNotFound, StoreError
from qualkit.store.base import StoreBase
from qualkit.store.engine import HEAD_REVISION, make_engine, migrate, project_engine, schema_revision
from qualkit.store.event_types import event_row
from qualkit.store.events import engine_of
from qualkit.store.schema import ProjectRow


class ProjectsMixin(StoreBase):
    """Opening projects and their settings (a part of :class:`~qualkit.store.repository.Store`)."""

    @classmethod
    def create(
        cls,
        path_or_url: str | os.PathLike[str] | Engine | None = None,
        name: str = "default",
        *,
        description: str = "",
        exist_ok: bool = False,
    ) -> Self:
        """Create a project (and the database schema if needed); refuse to overwrite an existing one.

        Example:
            >>> from qualkit.store.repository import Store
            >>> Store.create("sqlite://", name="a").project_id
            1
        """
        engine = path_or_url if isinstance(path_or_url, Engine) else make_engine(path_or_url)
        migrate(engine)
        with Session(engine) as session, session.begin():
            existing = session.scalar(select(ProjectRow).where(ProjectRow.name == name))
            if existing is not None:
                if not exist_ok:
                    raise StoreError(
                        f"a project named {name!r} already exists in {engine.url.render_as_string()}",
                        fix="open it with Project.open(...) or choose another name",
                        cli_fix="use it with --project NAME, or choose another --name",
                    )
                return cls(engine, existing.id, existing.name)
            row = ProjectRow(name=name, description=description, settings={})
            session.add(row)
            session.flush()
            session.add(event_row(row.id, None, "create", "project", row.id, new={"name": name}))
            return cls(engine, row.id, name)

    @classmethod
    def open(cls, path_or_url: str | os.PathLike[str] | Engine | None = None, name: str | None = None) -> Self:
        """Open an existing project; with one project in the database ``name`` may be left out.

        Example:
            >>> from qualkit.store.repository import Store
            >>> engine = make_engine("sqlite://")
            >>> _ = Store.create(engine, name="a")
            >>> Store.open(engine).name
            'a'
        """
        engine = project_engine(path_or_url)
        if schema_revision(engine) != HEAD_REVISION:
            migrate(engine)
        with Session(engine) as session:
            rows = session.scalars(select(ProjectRow).order_by(ProjectRow.id)).all()
        if name is None:
            if len(rows) != 1:
                names = ", ".join(r.name for r in rows) or "none"
                raise ProjectNotFound(f"the database holds {len(rows)} projects ({names})",
                                      fix="pass name= to choose one", cli_fix="pass --project NAME to choose one")
            return cls(engine, rows[0].id, rows[0].name)
        for row in rows:
            if row.name == name:
                return cls(engine, row.id, row.name)
        raise ProjectNotFound(f"no project named {name!r}", fix="list projects with Store.list_projects(...)",
                              cli_fix="leave --project out to see the projects the database holds")

    @staticmethod
    def list_projects(path_or_url: str | os.PathLike[str] | Engine | None = None) -> list[str]:
        """Names of the projects in a database.

        Example:
            >>> from qualkit.store.repository import Store
            >>> engine = make_engine("sqlite://")
            >>> _ = Store.create(engine, name="b")
            >>> Store.list_projects(engine)
            ['b']
        """
        engine = path_or_url if isinstance(path_or_url, Engine) else make_engine(path_or_url)
        if schema_revision(engine) is None:
            return []
        with Session(engine) as session:
            return list(session.scalars(select(ProjectRow.name).order_by(ProjectRow.id)))

    @property
    def settings(self) -> dict[str, Any]:
        """The project's settings (JSON), e.g. the name of its active codebook."""
        with self.session() as session:
            return dict(session.get(ProjectRow, self.project_id).settings or {})

    def update_settings(self, user: str | None = None, **changes: Any) -> dict[str, Any]:
        """Merge ``changes`` into the project settings and log the change."""
        with self.transaction() as session:
            return self.update_settings_in(session, user, **changes)

    def update_settings_in(self, session: Session, user: str | None = None, **changes: Any) -> dict[str, Any]:
        """:meth:`update_settings` inside the caller's transaction (an import that also writes other tables).

        Example:
            >>> from qualkit.store.repository import Store
            >>> store = Store.create("sqlite://")
            >>> with store.transaction() as session:
            ...     store.update_settings_in(session, "ana", language="en")["language"]
            'en'
        """
        row = session.get(ProjectRow, self.project_id)
        old = dict(row.settings or {})
        row.settings = {**old, **changes}
        self.log(session, user, "update", "project", self.project_id, old={k: old.get(k) for k in changes},
                 new=changes)
        return dict(row.settings)

    @property
    def created_at(self) -> datetime | None:
        """When the project was created (None if its row is gone).

        Example:
            >>> from qualkit.store.repository import Store
            >>> Store.create("sqlite://").created_at is not None
            True
        """
        with self.session() as session:
            row = session.get(ProjectRow, self.project_id)
            return None if row is None else row.created_at

    @property
    def description(self) -> str:
        """The project's description (empty if it has none).

        Example:
            >>> from qualkit.store.repository import Store
            >>> Store.create("sqlite://", description="Burnout focus groups").description
            'Burnout focus groups'
        """
        with self.session() as session:
            row = session.get(ProjectRow, self.project_id)
            return "" if row is None else (row.description or "")


def demo_user_names(target: Engine | StoreBase) -> list[str]:
    """Names of demo accounts recorded in any project's settings (``settings["demo_users"]``).

    Example:
        >>> from qualkit.store.repository import Store
        >>> demo_user_names(Store.create("sqlite://", name="p").engine)
        []
    """
    with Session(engine_of(target)) as session:
        settings = session.scalars(select(ProjectRow.settings)).all()
    names: list[str] = []
    for value in settings:
        for name in (value or {}).get("demo_users", []):
            if name not in names:
                names.append(name)
    return names


__all__ = ["ProjectsMixin", "demo_user_names"]

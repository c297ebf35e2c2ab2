"""Options shared by several commands (the project to open, the acting user), and opening that project."""

from __future__ import annotations

from typing import Annotated, Any

import typer

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Project: an SQLite file path or a database URL. Default: $QUALKIT_DATABASE_URL.",
                 envvar="QUALKIT_DATABASE_URL"),
]
ProjectNameOption = Annotated[
    str | None, typer.Option("--project", help="Project name, when the database holds several.")
]
UserOption = Annotated[str | None, typer.Option(
    "--user", envvar="QUALKIT_USER",
    help="Act as this user: their role and blind-coding visibility apply (default: $QUALKIT_USER; without it a "
         "local SQLite file acts as its owner, and a shared database is read-only).")]


def open_project(db: str | None, name: str | None, user: str | None) -> Any:
    """The project named by ``--db``, ``--project`` and ``--user`` (imported only when a command runs).

    Example:
        >>> open_project("sqlite://", None, None)  # doctest: +SKIP
    """
    from qualkit.project import Project

    return Project.open(db, name, user=user)


def source_ref(project: Any, source: str | None) -> str | int | None:
    """A ``--source`` value as the library takes it: a transcript's name, or its id when no name is those digits.

    Example:
        >>> source_ref(project, "2")  # doctest: +SKIP
        2
    """
    if source is not None and source.isdigit() and source not in set(project.sources()["name"]):
        return int(source)
    return source

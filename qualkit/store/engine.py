"""Engines for the project store: a path means an SQLite file, anything with ``://`` is a SQLAlchemy URL.

SQLite runs in WAL mode with foreign keys on and a busy timeout, so a small team can share one file on
one server; PostgreSQL (``postgresql://...``) is the backend for larger teams. The schema is created and
upgraded only through Alembic migrations, never with ``create_all``.

Example:
    >>> engine = make_engine("sqlite://")
    >>> migrate(engine)
    >>> schema_revision(engine) == HEAD_REVISION
    True
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, exc, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from qualkit.errors import ProjectNotFound, StoreError

__all__ = ["DATABASE_URL_ENV", "HEAD_REVISION", "Engine", "database_url", "make_engine", "migrate", "project_engine",
           "schema_revision"]

DATABASE_URL_ENV = "QUALKIT_DATABASE_URL"
HEAD_REVISION = "0004"
_MIGRATIONS = Path(__file__).with_name("migrations")


def database_url(path_or_url: str | os.PathLike[str] | None = None) -> str:
    """Resolve a path, a URL, or (when ``None``) ``$QUALKIT_DATABASE_URL`` into a SQLAlchemy URL.

    Example:
        >>> database_url("study.qualkit.db").startswith("sqlite:///")
        True
        >>> database_url("postgresql://me@localhost/qda")
        'postgresql+psycopg://me@localhost/qda'
    """
    if path_or_url is None:
        path_or_url = os.environ.get(DATABASE_URL_ENV)
        if not path_or_url:
            raise StoreError(
                "no project given",
                fix=f"pass a path such as study.qualkit.db, or set {DATABASE_URL_ENV}",
            )
    text = str(path_or_url)
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    if text.startswith(("postgresql://", "postgres://")):
        text = "postgresql+psycopg://" + text.split("://", 1)[1]
    return text


def make_engine(path_or_url: str | os.PathLike[str] | None = None, *, echo: bool = False) -> Engine:
    """Create an engine for a path or URL with qualkit's connection settings.

    Example:
        >>> make_engine("sqlite://").dialect.name
        'sqlite'
    """
    url = make_url(database_url(path_or_url))
    if url.get_backend_name() == "sqlite":
        memory = url.database in (None, "", ":memory:")
        kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if memory:
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, echo=echo, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, echo=echo, pool_pre_ping=True)
    event.listen(engine, "before_cursor_execute", _plain_parameters, retval=True)
    return engine


def _plain(value: object) -> object:
    # NumPy scalars (an id taken from a DataFrame) would be stored by SQLite as a blob and refused by
    # psycopg; ``item()`` gives the equal Python int/float/bool.
    item = getattr(value, "item", None)
    if item is not None and type(value).__module__ == "numpy":
        return item()
    return value


def _plain_parameters(_conn, _cursor, statement, parameters, _context, executemany):
    # executemany passes a list of rows, except SQLAlchemy's insertmanyvalues batches (one mapping).
    if executemany and isinstance(parameters, list):
        return statement, [_plain_row(row) for row in parameters]
    return statement, _plain_row(parameters)


def _plain_row(row):
    if isinstance(row, Mapping):
        return {k: _plain(v) for k, v in row.items()}
    if isinstance(row, tuple | list):
        return type(row)(_plain(v) for v in row)
    return row


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _alembic_config(connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@contextmanager
def reporting_connection_errors(engine: Engine) -> Iterator[None]:
    """Turn a database that cannot be reached or read into one :class:`StoreError` naming it.

    Example:
        >>> with reporting_connection_errors(make_engine("sqlite://")):
        ...     pass
    """
    try:
        yield
    except (exc.OperationalError, exc.InterfaceError, exc.DatabaseError) as error:
        if not isinstance(error, exc.OperationalError | exc.InterfaceError) and "not a database" not in str(error):
            raise
        reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
        raise StoreError(
            f"cannot open the project database {engine.url.render_as_string()}: {reason}",
            fix="check the path or URL: an SQLite file made by qualkit, or a running PostgreSQL server",
        ) from error


def migrate(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema to ``revision`` through Alembic.

    Example:
        >>> migrate(make_engine("sqlite://"))
    """
    from alembic import command

    with reporting_connection_errors(engine), engine.begin() as connection:
        command.upgrade(_alembic_config(connection), revision)


def project_engine(path_or_url: str | os.PathLike[str] | Engine | None = None, *,
                   connect: Callable[[str], Engine] = make_engine) -> Engine:
    """An engine on a database that already holds qualkit's tables; never creates a file on a wrong path.

    Connecting to a mistyped SQLite path would leave an empty database file behind, so a missing file is
    refused before connecting. ``connect`` makes the engine from the URL (the app passes its shared one);
    an engine given is only checked.

    Example:
        >>> project_engine("no/such/study.qualkit.db")
        Traceback (most recent call last):
        qualkit.errors.ProjectNotFound: no qualkit project file at .../no/such/study.qualkit.db. Fix: ...
    """
    if isinstance(path_or_url, Engine):
        return _holding_a_project(path_or_url)
    url = database_url(path_or_url)
    if url.startswith("sqlite:///") and not os.path.exists(url[len("sqlite:///"):]):
        raise ProjectNotFound(f"no qualkit project file at {url[len('sqlite:///'):]}",
                              fix="check the path, or create it with `qualkit init PATH` or Project.create(PATH)",
                              cli_fix="check the path, or create it with `qualkit init PATH`",
                              app_fix=f"check the path in {DATABASE_URL_ENV}, or create the study with "
                                      "`qualkit init PATH` (or `qualkit demo`)")
    return _holding_a_project(connect(url))


def _holding_a_project(engine: Engine) -> Engine:
    if schema_revision(engine) is None:
        raise ProjectNotFound(f"{engine.url.render_as_string()} holds no qualkit project",
                              fix="create one with `qualkit init` or Project.create(...)", cli_fix="create one with `qualkit init`",
                              app_fix="create one with `qualkit init` or `qualkit demo`")
    return engine


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or ``None`` for an empty database."""
    with reporting_connection_errors(engine):
        if not inspect(engine).has_table("alembic_version"):
            return None
        with engine.connect() as connection:
            return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()

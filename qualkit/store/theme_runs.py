"""Theme runs in the project store: insert, read, list and overwrite (row-version checked) saved runs.

A run is one ``theme_runs`` row: settings and library versions as JSON, the themes and document
metadata as JSON (``payload``), assignments/similarities/2-D coordinates/embeddings as ``.npz`` bytes
(``arrays``, never a pickle). What a run means lives in :mod:`qualkit.themes.runs`; this module only
stores it. Edits update the row only if nobody changed it since it was read (``version``), like codings
do, and every write appends an event with the user and the old and new values.

Example:
    >>> from qualkit.store.repository import Store
    >>> store = Store.create("sqlite://")
    >>> run_id = insert_run(store, name="first", settings={}, versions={}, payload={"summary": {"themes": 2}},
    ...                     arrays=b"", user="ana")
    >>> runs_df(store)[["id", "name", "themes"]].values.tolist()
    [[1, 'first', 2]]
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from qualkit.errors import ConflictError, StoreError
from qualkit.store.repository import Store
from qualkit.store.schema import ThemeRunRow

RUN_COLUMNS = ["id", "name", "created_by", "created_at", "version", "engine", "embedder", "embedder_tier",
               "documents", "themes",
               "outlier_share", "unthemed_share", "candidates"]


def insert_run(store: Store, *, name: str, settings: dict[str, Any], versions: dict[str, str],
               payload: dict[str, Any], arrays: bytes, user: str | None) -> int:
    """Store a new run (version 1) and log it with its summary; returns the run id.

    Example:
        >>> insert_run(Store.create("sqlite://"), name="", settings={}, versions={}, payload={"summary": {}},
        ...            arrays=b"", user=None)
        1
    """
    with store.transaction() as session:
        row = ThemeRunRow(project_id=store.project_id, name=name, settings=settings, versions=dict(versions),
                          result=payload, arrays=arrays, created_by=user, version=1)
        session.add(row)
        session.flush()
        store.log(session, user, "create", "theme_run", row.id, new={"name": name, **payload["summary"]})
        return row.id


def run_record(store: Store, run_id: int | None = None) -> dict[str, Any]:
    """A saved run (the latest when ``run_id`` is None): ``id``, ``version``, ``settings``, ``versions``,
    ``payload`` and ``arrays``.

    Example:
        >>> run_record(Store.create("sqlite://"))  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        qualkit.errors.StoreError: project 'default' has no theme runs yet
    """
    with store.transaction() as session:
        query = select(ThemeRunRow).where(ThemeRunRow.project_id == store.project_id)
        if run_id is not None:
            query = query.where(ThemeRunRow.id == int(run_id))
        row = session.scalars(query.order_by(ThemeRunRow.id.desc())).first()
        if row is None:
            if run_id is None:
                raise StoreError(f"project {store.name!r} has no theme runs yet",
                                 fix="discover themes first (Themes page)")
            raise StoreError(f"no theme run {run_id} in project {store.name!r}",
                             fix="choose one of the saved theme runs")
        return {"id": row.id, "version": row.version, "settings": dict(row.settings or {}),
                "versions": dict(row.versions or {}), "payload": row.result or {}, "arrays": row.arrays or b""}


def runs_df(store: Store) -> pd.DataFrame:
    """Every saved run: id, name, who made it and when, version, and its summary counts.

    Example:
        >>> list(runs_df(Store.create("sqlite://")).columns)[:3]
        ['id', 'name', 'created_by']
    """
    with store.transaction() as session:
        rows = session.execute(select(ThemeRunRow.id, ThemeRunRow.name, ThemeRunRow.created_by,
                                      ThemeRunRow.created_at, ThemeRunRow.version, ThemeRunRow.settings,
                                      ThemeRunRow.result)
                               .where(ThemeRunRow.project_id == store.project_id).order_by(ThemeRunRow.id)).all()
    records = []
    for r in rows:
        summary = (r.result or {}).get("summary", {})
        records.append({"id": r.id, "name": r.name, "created_by": r.created_by, "created_at": r.created_at,
                        "version": r.version, "engine": (r.settings or {}).get("engine"),
                        "embedder": (r.settings or {}).get("embedder"),
                        "embedder_tier": (r.settings or {}).get("embedder_kind"),
                        **{k: summary.get(k) for k in RUN_COLUMNS[8:]}})
    return pd.DataFrame(records, columns=RUN_COLUMNS)


def write_run_in(store: Store, session: Session, run_id: int, *, payload: dict[str, Any], arrays: bytes,
                 version: int, user: str | None, action: str, edit: dict[str, Any]) -> bool:
    """Overwrite a run inside the caller's transaction if it is still at ``version``; False if not.

    Logs the change (old and new summary, the edit) and leaves the run at ``version + 1``.

    Example:
        >>> store = Store.create("sqlite://")
        >>> run = insert_run(store, name="", settings={}, versions={}, payload={"summary": {}}, arrays=b"", user=None)
        >>> with store.transaction() as session:
        ...     write_run_in(store, session, run, payload={"summary": {}}, arrays=b"", version=7, user="ana",
        ...                  action="rename", edit={"action": "rename"})
        False
    """
    row = session.get(ThemeRunRow, run_id)
    if row is None or row.project_id != store.project_id:
        raise StoreError(f"no theme run {run_id} in project {store.name!r}")
    old_summary = (row.result or {}).get("summary", {})
    done = session.execute(
        update(ThemeRunRow).where(ThemeRunRow.id == run_id, ThemeRunRow.version == version)
        .values(result=payload, arrays=arrays, version=version + 1)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        return False
    store.log(session, user, action, "theme_run", run_id,
              old={"version": version, **old_summary}, new={"version": version + 1, "edit": edit,
                                                           **payload["summary"]})
    return True


def run_conflict(store: Store, run_id: int, *, user: str | None, action: str, version: int,
                 edit: dict[str, Any]) -> ConflictError:
    """Log a refused change of a run (in its own transaction) and return the error to raise.

    Example:
        >>> store = Store.create("sqlite://")
        >>> run = insert_run(store, name="", settings={}, versions={}, payload={"summary": {}}, arrays=b"", user=None)
        >>> run_conflict(store, run, user="ana", action="merge", version=0, edit={}).current["version"]
        1
    """
    with store.transaction() as session:
        row = session.get(ThemeRunRow, run_id)
        current = {"version": row.version, "edits": (row.result or {}).get("edits", [])[-3:]}
        store.log(session, user, action, "theme_run", run_id, old={"expected_version": version},
                  new={"edit": edit}, outcome="conflict")
    return ConflictError(f"theme run {run_id} was changed by someone else (now version {current['version']}, "
                         f"you loaded version {version}); your {action} was not saved", current=current)


__all__ = ["RUN_COLUMNS", "insert_run", "run_conflict", "run_record", "runs_df", "write_run_in"]

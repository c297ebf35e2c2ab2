""".qdpx imports are all-or-nothing on SQLite and PostgreSQL (issue 16, finding 5).

A value too long for its column, a NUL in a source, a project name over the limit, two sources sharing
a GUID with different texts, and a failure midway through the writes each leave the database exactly as
it was (compared table by table) and no half-made project, with a one-line error quoting no transcript.
"""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parent))
from _build import build_project

from qualkit.errors import InvalidProjectFile, QualkitError
from qualkit.export.refi import export_qdpx, import_into_new_project, import_qdpx, read_qdpx
from qualkit.store.repository import Store
from qualkit.store.schema import Base

SECRET = "Honestly"  # a word of the transcript text: no error message may quote it


def _tables(store: Store) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order (the whole database, not just one project)."""
    snapshot = {}
    with store.session() as session:
        for table in Base.metadata.sorted_tables:
            rows = session.execute(select(table).order_by(*table.primary_key.columns)).all()
            snapshot[table.name] = [tuple(row) for row in rows]
    return snapshot


def _rewrite(source: Path, target: Path, change) -> Path:
    """Copy a .qdpx, passing every member's (name, bytes) through ``change``, which returns new members."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            for new_name, data in change(name, old.read(name)):
                new.writestr(new_name, data)
    return target


@pytest.fixture
def exported(tmp_path) -> Path:
    """A small coded project (sources, codebook, codings, memos, participants) as .qdpx."""
    origin = Store.create(tmp_path / "origin.qualkit.db", name="Burnout pilot")
    build_project(origin)
    out = export_qdpx(origin, tmp_path / "pilot.qdpx")
    origin.engine.dispose()
    assert SECRET in "".join(source.text for source in read_qdpx(out).sources)
    return out


@pytest.fixture
def target(db_url) -> Store:
    """A project with content of its own (so 'unchanged' means something), on SQLite and PostgreSQL."""
    store = Store.create(db_url, name="existing")
    build_project(store)
    yield store
    store.engine.dispose()


def _long_user(name: str, data: bytes) -> list[tuple[str, bytes]]:
    if name == "project.qde":
        data = data.replace(b'name="ana"', b'name="' + b"a" * 250 + b'"')
    return [(name, data)]


def _nul_in_text(name: str, data: bytes) -> list[tuple[str, bytes]]:
    if name.startswith("sources/") and SECRET.encode() in data:
        data = data.replace(b"Exhaustion", b"Exhau\x00tion")  # same length: every offset still fits
    return [(name, data)]


def _duplicate_guid(name: str, data: bytes) -> list[tuple[str, bytes]]:
    if name != "project.qde":
        return [(name, data)]
    text = data.decode("utf-8")
    first = re.search(r'<TextSource guid="([^"]+)" name="([^"]+)"', text)
    twin = (f'<TextSource guid="{first.group(1)}" name="twin.txt" plainTextPath="internal://twin.txt" />\n'
            "  </Sources>")
    return [(name, text.replace("</Sources>", twin, 1).encode("utf-8")), ("sources/twin.txt", b"Ann: other words.")]


def _one_line_without_transcript(error: BaseException) -> str:
    message = str(error)
    assert "\n" not in message and SECRET not in message and len(message) < 400, message
    return message


@pytest.mark.parametrize(("change", "expected"), [
    (_long_user, r"250 characters long; the database allows 200"),
    (_nul_in_text, r"NUL character"),
    (_duplicate_guid, r"two text sources share the GUID [0-9A-F-]{36}"),
])
def test_a_bad_file_leaves_the_database_exactly_as_it_was(target, exported, tmp_path, change, expected):
    bad = _rewrite(exported, tmp_path / "bad.qdpx", change)
    other = Store.create(target.engine, name="other")  # empty: the import would write every table
    before = _tables(target)
    with pytest.raises(InvalidProjectFile, match=expected) as caught:
        import_qdpx(bad, other, user="ben")
    assert str(bad) in _one_line_without_transcript(caught.value)
    assert _tables(target) == before
    # Into a new project in the same database: refused too, and no project is left behind.
    with pytest.raises(InvalidProjectFile, match=expected):
        import_into_new_project(bad, target.engine.url.render_as_string(hide_password=False), name="fresh")
    assert _tables(target) == before
    assert Store.list_projects(target.engine) == ["existing", "other"]


def test_a_project_name_over_the_limit_creates_nothing(target, exported):
    before = _tables(target)
    with pytest.raises(InvalidProjectFile, match=r"the project: the name is 250 characters long") as caught:
        import_into_new_project(exported, target.engine.url.render_as_string(hide_password=False), name="p" * 250)
    _one_line_without_transcript(caught.value)
    assert _tables(target) == before and Store.list_projects(target.engine) == ["existing"]


def test_a_failure_midway_through_the_writes_rolls_back_everything(target, exported, monkeypatch):
    """Sources, codebook and participants are written before the codings: a failure there undoes them all."""
    other = Store.create(target.engine, name="other")  # an empty project: the import would write every table
    before = _tables(target)

    def fail(*args, **kwargs):
        raise QualkitError("the disk is full")

    monkeypatch.setattr(Store, "insert_codings_in", fail)
    with pytest.raises(QualkitError, match="disk is full"):
        import_qdpx(exported, other, user="ben")
    assert _tables(target) == before
    with pytest.raises(QualkitError, match="disk is full"):
        import_into_new_project(exported, target.engine.url.render_as_string(hide_password=False), name="fresh")
    assert _tables(target) == before
    assert Store.list_projects(target.engine) == ["existing", "other"]


def test_a_good_import_still_writes_everything_in_one_go(target, exported):
    other = Store.create(target.engine, name="other")
    report = import_qdpx(exported, other, user="ben")
    assert report.sources == len(other.sources_df()) > 0
    assert report.codings == len(other.codings_df(status="accepted")) > 0
    assert report.memos == len(other.memos_df()) > 0
    # One import, one transaction: every event it logged carries the same user and comes in one block.
    events = other.events_df()
    assert set(events["action"]) >= {"import", "save", "create"}

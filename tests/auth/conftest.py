"""The mini study with group1.txt coded blind by ana and ben, on SQLite and on PostgreSQL (issue 16 findings 1, 2)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _mini_study import MiniStudy, build_study

SECRET = "BEN-SECRET-MEMO"


@pytest.fixture
def blind_study(db_url, monkeypatch) -> MiniStudy:
    """group1.txt assigned blind to ana and ben; ben accepted peer support and wrote a memo; ana rejected it.

    Users: admin, ana and ben (coders), vic (viewer). ``QUALKIT_USER`` is cleared so only what a test
    names acts.
    """
    from qualkit.review import decisions, double_coding
    from qualkit.users import Role, User

    monkeypatch.delenv("QUALKIT_USER", raising=False)
    project = build_study(db_url)
    store = project.store
    double_coding.assign(store, "group1.txt", ["ana", "ben"], actor=User("admin", Role.ADMIN))
    study = MiniStudy(db_url, project)
    peer = study.suggestion("group1.txt", 4, "peer_support")
    decisions.decide(store, int(peer.id), "accept", actor=User("ben"))
    decisions.decide(store, int(peer.id), "reject", actor=User("ana"))
    decisions.write_memo(store, SECRET, actor=User("ben"), segment_id=int(peer.segment_id))
    study.peer = peer
    yield study
    store.engine.dispose()


def _no_run(*args, **kwargs):
    from qualkit.errors import StoreError

    raise StoreError("no theme run yet")


@pytest.fixture
def stub_models(monkeypatch):
    """Replace the model work behind Project (coder training, theme discovery) by stubs: the table tests the
    authorisation rule in front of it, not the models (those have their own tests)."""
    import qualkit.coding.workflow as workflow
    import qualkit.themes.runs as runs

    done = SimpleNamespace(active=[], id="x", name="X")
    monkeypatch.setattr(workflow, "autocode_project", lambda *a, **k: [])
    monkeypatch.setattr(workflow, "train_project_coder", lambda *a, **k: ("coder", None))
    monkeypatch.setattr(workflow, "fine_tune_project", lambda *a, **k: {})
    monkeypatch.setattr(workflow, "review_order", lambda *a, **k: __import__("pandas").DataFrame())
    monkeypatch.setattr(workflow, "evaluate_project", lambda *a, **k: None)
    monkeypatch.setattr(runs, "discover_and_save", lambda *a, **k: done)
    monkeypatch.setattr(runs, "load_run", _no_run)
    monkeypatch.setattr(runs, "list_runs", lambda *a, **k: __import__("pandas").DataFrame())
    monkeypatch.setattr(runs, "promote_theme", lambda *a, **k: done)
    monkeypatch.setattr(runs, "edit_run", lambda *a, **k: done)
    return done

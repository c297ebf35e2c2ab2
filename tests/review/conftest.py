"""The mini study (``tests/_mini_study.py``) on SQLite and on the real PostgreSQL server, for the review package."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _mini_study import MiniStudy, build_study


@pytest.fixture
def study(db_url) -> MiniStudy:
    """The mini study with its four users (admin, ana, ben, vic the viewer) on each backend."""
    project = build_study(db_url)
    yield MiniStudy(db_url, project)
    project.store.engine.dispose()


@pytest.fixture
def blind(study) -> MiniStudy:
    """group1.txt assigned blind to ana and ben; ben accepted peer support and wrote a memo; ana rejected it."""
    from qualkit.review import decisions, double_coding
    from qualkit.users import Role, User

    store = study.store
    double_coding.assign(store, "group1.txt", ["ana", "ben"], actor=User("admin", Role.ADMIN))
    peer = study.suggestion("group1.txt", 4, "peer_support")
    decisions.decide(store, int(peer.id), "accept", actor=User("ben"))
    decisions.decide(store, int(peer.id), "reject", actor=User("ana"))
    decisions.write_memo(store, "BEN-SECRET-MEMO", actor=User("ben"), segment_id=int(peer.segment_id))
    study.peer = peer
    return study

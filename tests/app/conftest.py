"""Fixtures for the review app: a small study built by hand, the real demo study, users, AppTest helpers.

The mini study does not depend on the other areas (ingestion, coders): two transcripts with exact
offsets (CRLF and non-ASCII included), a five-code codebook, and machine suggestions inserted with
``store.add_codings``. ``demo_study`` is a copy of the real demo (``qualkit.demo.build_demo``, built
once per session), which has what hand-made data lacks (unattributed lines, .docx and .vtt sources).
The app runs with background retraining ON, as in real use; ``study.settle(at)`` waits for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
PASSWORDS = {"admin": "admin-password", "ana": "ana-password", "ben": "ben-password", "vic": "vic-password"}
PROJECT = "Mini burnout study"

TRANSCRIPTS = {
    "group1.txt": [
        ("Moderator", "moderator", "What wears you down most at work?"),
        ("Ana", "participant", "Honestly? The EHR. I spend two hours every night on documentation."),
        ("Béla", "participant", "We are short-staffed, so every shift is double the patients."),
        ("Ana", "participant", "I feel completely drained, running on empty by Thursday."),
        ("Chris", "participant", "My colleagues keep me going; we debrief after hard cases."),
        ("Béla", "participant", "The paperwork never ends, and nobody above us listens."),
    ],
    "group2.txt": [
        ("Moderator", "moderator", "How do you cope?"),
        ("Dee", "participant", "I go for a run, and I talk to a friend from residency."),
        ("Eli", "participant", "Too many patients, too little time. I am exhausted."),
        ("Dee", "participant", "The wellness app felt like a joke when we cannot even take lunch."),
    ],
}

# (source, turn index, code, score, evidence words)
SUGGESTIONS = [
    ("group1.txt", 1, "administrative_burden", 0.92, ["EHR", "documentation"]),
    ("group1.txt", 2, "workload", 0.88, ["short-staffed"]),
    ("group1.txt", 3, "emotional_exhaustion", 0.55, ["drained"]),
    ("group1.txt", 4, "peer_support", 0.61, ["debrief"]),
    ("group1.txt", 5, "administrative_burden", 0.45, ["paperwork"]),
    ("group2.txt", 2, "workload", 0.72, ["patients"]),
    ("group2.txt", 2, "emotional_exhaustion", 0.97, ["exhausted"]),
    ("group2.txt", 1, "peer_support", 0.3, ["friend"]),
]


def mini_codebook():
    """Five codes of the burnout taxonomy under two parents (parents are not codable)."""
    from qualkit.model import Code, Codebook

    return Codebook(name="burnout-mini", description="A few burnout codes for tests", codes=[
        Code("systemic_drivers", "Systemic drivers", codable=False),
        Code("workload", "Workload", parent="systemic_drivers", definition="Volume, hours, understaffing.",
             cues=["short-staffed", "too many patients"]),
        Code("administrative_burden", "Administrative burden", parent="systemic_drivers",
             definition="Paperwork, documentation, the EHR.", cues=["EHR", "paperwork"]),
        Code("burnout_dimensions", "Burnout dimensions", codable=False),
        Code("emotional_exhaustion", "Emotional exhaustion", parent="burnout_dimensions",
             definition="Feeling drained.", examples=["I am running on empty."]),
        Code("peer_support", "Peer support", definition="Colleagues supporting each other."),
        Code("individual_coping", "Individual coping", definition="Rest, exercise, hobbies."),
    ])


def build_source(name: str, turns):
    """A source whose segments are the text after each speaker label, offsets exact, CRLF line ends."""
    from qualkit.model import Segment, Source

    lines, segments, position = [], [], 0
    for turn, (speaker, role, body) in enumerate(turns):
        prefix = f"{speaker}: "
        start = position + len(prefix)
        segments.append((speaker, role, body, start, turn))
        line = prefix + body + "\r\n"
        lines.append(line)
        position += len(line)
    text = "".join(lines)
    source = Source(name=name, text=text, format="txt", raw=text.encode("utf-8"), encoding="utf-8")
    source.segments = [Segment(name, start, start + len(body), body, speaker=speaker, role=role, turn=turn)
                       for speaker, role, body, start, turn in segments]
    return source


def build_study(url: str, *, name: str = PROJECT, users: bool = True):
    """Create the mini study in ``url``: codebook, two transcripts, eight suggestions, four users."""
    from qualkit.model import Coding
    from qualkit.project import Project
    from qualkit.users import add_user

    project = Project.create(url, name, codebook=None, user="setup")
    project.set_codebook(mini_codebook(), note="test codebook")
    segment_ids = {}
    for source_name, turns in TRANSCRIPTS.items():
        source = build_source(source_name, turns)
        project.store.add_source(source, user="setup")
        for seg in source.segments:
            segment_ids[(source_name, seg.turn)] = seg
    codings = []
    for source_name, turn, code, score, words in SUGGESTIONS:
        seg = segment_ids[(source_name, turn)]
        evidence = [(seg.start + seg.text.index(w), seg.start + seg.text.index(w) + len(w)) for w in words]
        codings.append(Coding(segment_id=seg.id, code_id=code, origin="rules", status="suggested", score=score,
                              coder="auto", evidence=evidence, rationale=f"cue words: {', '.join(words)}",
                              codebook_version=1))
    project.store.add_codings(codings, user="auto", action="suggest")
    if users:
        for user, role in (("admin", "admin"), ("ana", "coder"), ("ben", "coder"), ("vic", "viewer")):
            add_user(project.store, user, PASSWORDS[user], role, actor="setup", rounds=4)
    return project


@dataclass
class Study:
    """A built study: its URL, project, and the segments by (source, turn)."""

    url: str
    project: object

    @property
    def store(self):
        return self.project.store

    def segment(self, source: str, turn: int):
        frame = self.store.segments_df(source=source, attributes=False)
        row = frame[frame["turn"] == turn].iloc[0]
        return row

    def suggestion(self, source: str, turn: int, code: str):
        """The machine suggestion of ``code`` on a turn (its origin may change when retraining rescores it)."""
        frame = self.store.codings_df(source=source, code_id=code)
        return frame[(frame["turn"] == turn) & (frame["origin"] != "human")].iloc[0]

    def settle(self, at=None):
        """Wait for the app's background retraining, then rerun ``at`` (what the queue's auto-refresh does)."""
        settle_app(self.url, self.project.name)
        if at is not None:
            at.run()
        return at


def settle_app(url: str, project: str, timeout: float = 180) -> None:
    """Wait until the app's background model work for the project is idle."""
    from qualkit.app import resources

    assert resources.retrainer_for(url, project).wait(timeout), "background retraining did not finish"


def _serve(monkeypatch, url: str) -> None:
    """Serve ``url`` to the app with background retraining ON (LSA: fast and offline), as in real use."""
    monkeypatch.setenv("QUALKIT_DATABASE_URL", url)
    monkeypatch.setenv("QUALKIT_APP_RETRAIN", "1")
    monkeypatch.setenv("QUALKIT_EMBEDDER", "lsa")


@pytest.fixture
def study(tmp_path, monkeypatch) -> Study:
    """The mini study in an SQLite file, served to the app through ``QUALKIT_DATABASE_URL``."""
    url = f"sqlite:///{tmp_path / 'study.qualkit.db'}"
    project = build_study(url)
    _serve(monkeypatch, url)
    yield Study(url, project)
    _release_app(url, project.name)
    project.store.engine.dispose()


@pytest.fixture
def quiet_study(tmp_path, monkeypatch) -> Study:
    """The mini study with background retraining off: for tests that count exact suggestions."""
    url = f"sqlite:///{tmp_path / 'study.qualkit.db'}"
    project = build_study(url)
    _serve(monkeypatch, url)
    monkeypatch.setenv("QUALKIT_APP_RETRAIN", "0")
    yield Study(url, project)
    _release_app(url, project.name)
    project.store.engine.dispose()


@pytest.fixture
def study_on(db_url, monkeypatch) -> Study:
    """The mini study on SQLite and on PostgreSQL (for the concurrency tests)."""
    project = build_study(db_url)
    _serve(monkeypatch, db_url)
    yield Study(db_url, project)
    _release_app(db_url, project.name)
    project.store.engine.dispose()


def build_demo_copy(tmp_path_factory) -> Path:
    """The demo study as ``qualkit demo`` builds it (with the LSA embedder, for speed), built once per session."""
    from qualkit.demo import build_demo

    path = tmp_path_factory.mktemp("app-demo") / "demo.qualkit.db"
    previous = os.environ.get("QUALKIT_EMBEDDER")
    os.environ["QUALKIT_EMBEDDER"] = "lsa"
    try:
        build_demo(path, echo=lambda *_: None)
    finally:
        if previous is None:
            os.environ.pop("QUALKIT_EMBEDDER", None)
        else:
            os.environ["QUALKIT_EMBEDDER"] = previous
    return path


@pytest.fixture(scope="session")
def app_demo_db(tmp_path_factory) -> Path:
    """The real demo study (``qualkit.demo.build_demo``), built once per test session; tests use copies."""
    return build_demo_copy(tmp_path_factory)


@pytest.fixture
def demo_study(app_demo_db, tmp_path, monkeypatch) -> Study:
    """A copy of the real demo study served to the app, retraining on."""
    import shutil

    from qualkit.demo import DEMO_NAME
    from qualkit.project import Project

    path = tmp_path / "demo.qualkit.db"
    shutil.copy(app_demo_db, path)
    url = f"sqlite:///{path}"
    _serve(monkeypatch, url)
    project = Project.open(url, DEMO_NAME, user="setup")
    yield Study(url, project)
    _release_app(url, DEMO_NAME)
    project.store.engine.dispose()


def _release_app(url: str, project: str) -> None:
    """Let the background work finish, then drop the app's caches and engines (so schemas can be dropped)."""
    import streamlit as st

    settle_app(url, project)
    st.cache_resource.clear()
    st.cache_data.clear()


def app_test(user: str | None = None, page: str | None = None, *, timeout: float = 30):
    """An AppTest of ``app.py``, logged in as ``user`` (set in session state) and on ``page``, already run."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=timeout)
    if user is not None:
        at.session_state["qk_user"] = user
    at.run()
    if page is not None:
        at.switch_page(f"qualkit/app/pages/{page}.py").run()
    return at


def assert_ok(at) -> None:
    """The run raised no exception."""
    assert not at.exception, [e.value for e in at.exception]


def texts(at) -> str:
    """Every markdown, caption, info, success, warning and error text of the last run, joined."""
    parts = []
    for kind in ("markdown", "caption", "info", "success", "warning", "error", "title", "header", "subheader"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def login_env(url: str) -> dict[str, str]:
    """Environment for a subprocess app server on ``url``: background retraining on, LSA embedder."""
    env = dict(os.environ)
    env.update(QUALKIT_DATABASE_URL=url, QUALKIT_APP_RETRAIN="1", QUALKIT_EMBEDDER="lsa")
    return env


@pytest.fixture
def apptest():
    """The :func:`app_test` helper (test modules cannot import conftest under importlib mode)."""
    return app_test


@pytest.fixture
def helpers():
    """Helper functions for the app tests: ``assert_ok``, ``texts``, ``build_study``, ``PASSWORDS``."""
    from types import SimpleNamespace

    return SimpleNamespace(assert_ok=assert_ok, texts=texts, build_study=build_study, build_source=build_source,
                           PASSWORDS=PASSWORDS, PROJECT=PROJECT, ROOT=ROOT, APP=APP, login_env=login_env,
                           settle_app=settle_app)

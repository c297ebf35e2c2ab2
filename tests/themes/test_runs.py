"""Theme runs in the project: saved as JSON + npz, loaded without refitting, edited with version checks,
promoted to codes whose codings attach to the stored turns. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pytest

import qualkit as qk
from qualkit.embeddings import LsaEmbedder
from qualkit.errors import ConflictError, InvalidInput, StoreError
from qualkit.store.schema import ThemeRunRow
from qualkit.themes.synthetic import planted_corpus

OPTIONS = {"engine": "sklearn", "reduction": "pca", "embedder": LsaEmbedder(n_components=64)}


@pytest.fixture
def project(db_url, planted_codebook):
    corpus = planted_corpus(120, kind="turn", sentences_per_turn=2, moderator=True, seed=3)
    project = qk.Project.create(db_url, codebook=None, user="ana")
    project.store.add_sources(corpus.sources, user="ana")
    project.set_codebook(planted_codebook)
    yield project
    project.store.engine.dispose()


def test_a_run_is_saved_loaded_edited_and_promoted(project):
    with pytest.raises(StoreError, match="no theme runs"):
        project.themes()
    result = project.discover_themes(name="first", **OPTIONS)
    turns = project.segments()
    moderator_ids = set(turns.loc[turns["speaker_role"] == "moderator", "id"])
    assert result.run_id is not None and result.version == 1
    assert moderator_ids.isdisjoint(result.documents["segment_id"])
    assert len(result.documents) > len(turns) - len(moderator_ids)  # turns were split into sentences

    loaded = project.themes()
    assert np.array_equal(loaded.documents["theme"], result.documents["theme"])
    assert [t.label for t in loaded.themes] == [t.label for t in result.themes]
    assert np.allclose(loaded.embeddings, result.embeddings, atol=1e-2)
    assert loaded.settings["codebook"] == {"name": "planted", "version": 1} and "scikit-learn" in loaded.versions
    runs = project.theme_runs()
    assert runs[["name", "created_by", "themes"]].values.tolist() == [["first", "ana", len(result.active)]]
    with project.store.transaction() as session:
        assert session.get(ThemeRunRow, result.run_id).arrays[:2] == b"PK"  # an .npz zip, not a pickle

    # promote a candidate: a new codebook version and suggested codings on the stored turns
    theme = loaded.candidates[0]
    code = project.promote_theme(theme.id, name="Emergent theme")
    assert project.codebook.version == 2 and code.id in project.codebook and code.name == "Emergent theme"
    assert code.id == "emergent_theme"  # a name given makes the id: the draft id had to be typed everywhere
    assert project.codebook[code.id].examples == [q["text"] for q in theme.quotes]
    codings = project.codings(origin="topic")
    assert len(codings) == theme.size
    assert set(codings["coder"]) == {"themes"} and set(codings["status"]) == {"suggested"}
    assert set(codings["codebook_version"]) == {2}
    assert ((codings["segment_start"] <= codings["start"]) & (codings["end"] <= codings["segment_end"])).all()
    docs = loaded.theme_documents(theme.id)
    assert sorted(zip(codings["start"], codings["end"], strict=True)) == sorted(
        zip(docs["start"], docs["end"], strict=True))
    promoted = project.themes()
    assert promoted.theme(theme.id).promoted_to == code.id and promoted.version == 2
    assert promoted.theme(theme.id).matched_code == code.id and promoted.theme(theme.id).candidate is None

    # edits are saved as new versions of the row; a stale version is refused and logged
    merged = project.merge_themes([promoted.active[0].id, promoted.active[1].id])
    assert merged.version == 3 and project.themes().edits[-1]["action"] == "merge"
    renamed = project.rename_theme(merged.active[0].id, "Our label")
    assert project.themes().theme(renamed.active[0].id).label == "Our label"
    with pytest.raises(ConflictError, match="changed by someone else"):
        project.discard_theme(renamed.active[-1].id, expected_version=3)
    events = project.history(entity="theme_run")
    assert events["action"].tolist()[:5] == ["discard", "rename", "merge", "promote", "create"]
    assert events["outcome"].tolist()[0] == "conflict" and set(events["user"]) == {"ana"}


def test_promoting_into_an_existing_code_adds_no_codebook_version(project):
    result = project.discover_themes(**OPTIONS)
    project.promote_theme(result.active[0].id, code_id="admin")
    assert project.codebook.version == 1
    assert set(project.codings(origin="topic")["code_id"]) == {"admin"}


def test_a_theme_is_promoted_once_and_new_code_ids_never_collide(project):
    first_run = project.discover_themes(name="a", **OPTIONS)
    second_run = project.discover_themes(name="b", **OPTIONS)  # same data, same settings: same candidates
    theme = first_run.candidates[0]
    assert second_run.theme(theme.id).candidate["id"] == theme.candidate["id"]
    code = project.promote_theme(theme.id, run_id=first_run.run_id)
    assert code.id == theme.candidate["id"]
    codings = len(project.codings(origin="topic"))
    with pytest.raises(InvalidInput, match=f"already promoted to code '{code.id}'"):
        project.promote_theme(theme.id, run_id=first_run.run_id)
    assert len(project.codings(origin="topic")) == codings and project.codebook.version == 2

    # the other run's draft of the same theme now names an existing code: it gets an id of its own
    other = project.promote_theme(theme.id, run_id=second_run.run_id)
    assert other.id != code.id and other.id.startswith(code.id) and project.codebook.version == 3
    assert (project.codings(origin="topic")["code_id"] == other.id).sum() == theme.size
    # and candidates described from now on avoid both ids
    later = project.discover_themes(name="c", **OPTIONS)
    assert {code.id, other.id}.isdisjoint(t.candidate["id"] for t in later.candidates)
    reloaded = project.themes(first_run.run_id)
    assert code.id not in [t.candidate["id"] for t in reloaded.candidates]


def test_promotions_racing_on_one_run_add_the_code_once(project, monkeypatch):
    import qualkit.themes.runs as runs

    run = project.discover_themes(name="race", **OPTIONS)
    stale = runs.load_run(project.store, run.run_id)  # what a second researcher loaded at the same time
    theme = run.candidates[0]
    project.promote_theme(theme.id, run_id=run.run_id)
    codings, version = len(project.codings(origin="topic")), project.codebook.version
    monkeypatch.setattr(runs, "load_run", lambda store, run_id=None: stale)
    with pytest.raises(ConflictError, match="changed by someone else"):
        project.promote_theme(theme.id, run_id=run.run_id)
    # nothing of the second promotion stayed: no codebook version, no codings
    assert project.codebook.version == version and len(project.codings(origin="topic")) == codings
    conflicts = project.history(entity="theme_run")
    assert (conflicts["outcome"] == "conflict").sum() == 1

"""Fine-tuning the encoder: pairs, content-addressed storage, reproducibility, fallback, the project path."""

from __future__ import annotations

import json

import numpy as np
import pytest

import qualkit as qk
from qualkit.coding.finetune import (
    TunedEmbedder,
    classification_rows,
    encoder_key,
    fine_tune,
    load_encoder,
    material,
    training_pairs,
)

TEXTS = ["I chart until midnight", "Prior auth forms all day", "Nobody to talk to on nights", "I eat lunch alone",
         "The coffee machine broke"]
LABELS = [["paperwork"], ["paperwork"], ["isolation"], ["isolation"], []]


def test_pairs_join_texts_that_share_a_code_and_part_those_that_do_not():
    pairs = training_pairs(TEXTS, LABELS, seed=0, per_text=4)
    for a, b, label in pairs:
        same = bool(set(LABELS[TEXTS.index(a)]) & set(LABELS[TEXTS.index(b)]))
        assert same == (label == 1.0)
    assert training_pairs(TEXTS, LABELS, seed=0, per_text=4) == pairs  # seeded
    assert len(training_pairs(TEXTS, LABELS, seed=0, per_text=4, max_pairs=3)) == 3


def test_codebook_material_adds_examples_and_near_miss_negatives(mini_codebook):
    texts, codes, negatives = material(mini_codebook, ["so tired"], [["exhaustion"]])
    assert texts[0] == "so tired" and codes[0] == ["exhaustion"]
    assert "I am completely drained after nights" in texts
    assert ("I was a bit tired after the conference", "I am completely drained after nights") in negatives


def test_the_content_address_changes_with_the_material_and_the_settings():
    pairs = training_pairs(TEXTS, LABELS, seed=0, per_text=2)
    assert encoder_key("m", pairs, {"seed": 0}) == encoder_key("m", list(pairs), {"seed": 0})
    assert encoder_key("m", pairs, {"seed": 0}) != encoder_key("m", pairs, {"seed": 1})
    assert encoder_key("m", pairs, {"seed": 0}) != encoder_key("m", pairs[1:], {"seed": 0})


def test_a_missing_encoder_falls_back_to_none(tmp_path):
    assert load_encoder(tmp_path / "nothing") is None
    assert load_encoder(None) is None


def test_classification_rows_mark_near_misses_negative_for_their_example_codes_only():
    rows, targets, codes = classification_rows(TEXTS, LABELS, [("Paper cuts hurt", "I chart until midnight"),
                                                               ("unknown miss", "not a training text")])
    assert codes == ["isolation", "paperwork"] and rows[-1] == "Paper cuts hurt" and len(rows) == len(TEXTS) + 1
    assert targets[0].tolist() == [0, 1] and targets[4].tolist() == [0, 0] and targets[-1].tolist() == [-1, 0]


def test_an_unknown_objective_and_nothing_to_learn_are_clear_errors(tmp_path):
    with pytest.raises(qk.InvalidInput, match="objective"):
        fine_tune(TEXTS, LABELS, tmp_path, objective="magic")


@pytest.mark.embeddings
@pytest.mark.parametrize("objective", ["classify", "pairs"])
def test_fine_tuning_is_reproducible_stored_and_reused(tmp_path, minilm, objective, capfd):
    calls = []
    options = {"objective": objective, "per_text": 2, "max_pairs": 8, "batch_size": 4, "epochs": 1}
    first = fine_tune(TEXTS, LABELS, tmp_path / "a", seed=3, **options,
                      progress=lambda done, total, message: calls.append((done, total)))
    assert calls[-1] == (2, 2) and (first.path / "info.json").exists() and first.path.name == first.key
    assert first.info["objective"] == objective
    again = fine_tune(TEXTS, LABELS, tmp_path / "b", seed=3, **options)
    assert again.key == first.key
    a, b = TunedEmbedder(first.path, key=first.key), TunedEmbedder(again.path, key=again.key)
    vectors = a.encode(TEXTS)
    assert vectors.dtype == np.float32 and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert np.allclose(vectors, b.encode(TEXTS), atol=1e-5)  # same data, same seed: same weights
    assert not np.allclose(vectors, minilm.encode(TEXTS), atol=1e-3)  # and they did move
    shown = capfd.readouterr().err  # the caller's progress callback only: no bars of transformers' own
    assert "Writing model shards" not in shown and "Loading weights" not in shown
    reused = fine_tune(TEXTS, LABELS, tmp_path / "a", seed=3, **options, progress=lambda *args: calls.append("again"))
    assert reused.path == first.path and "again" not in calls  # nothing trained twice


@pytest.mark.embeddings
def test_two_tuning_runs_are_averaged_weight_by_weight_and_each_run_is_reused(tmp_path, minilm):
    options = {"batch_size": 4, "epochs": 1}
    single = fine_tune(TEXTS, LABELS, tmp_path, seed=3, runs=1, **options)
    second = fine_tune(TEXTS, LABELS, tmp_path, seed=4, runs=1, **options)
    calls = []
    soup = fine_tune(TEXTS, LABELS, tmp_path, seed=3, runs=2, **options, progress=lambda done, total, message: calls.append(
        (done, total, message)))
    assert not calls  # both runs were already tuned: nothing trained again
    assert soup.info["averaged"] == [single.key, second.key] and soup.key not in (single.key, second.key)
    a, b, mean = (TunedEmbedder(t.path, key=t.key).model.state_dict() for t in (single, second, soup))
    name = next(n for n, w in mean.items() if w.is_floating_point() and not np.allclose(a[n], b[n]))
    assert np.allclose(mean[name], (a[name] + b[name]) / 2, atol=1e-6)
    three = fine_tune(TEXTS, LABELS, tmp_path, seed=3, runs=3, **options,  # runs 1 and 2 are reused
                      progress=lambda done, total, message: calls.append((done, total, message)))
    assert len(three.info["averaged"]) == 3 and calls[-1][:2] == (6, 6) and "tuning run 3 of 3" in calls[-1][2]
    with pytest.raises(qk.InvalidInput, match="runs"):
        fine_tune(TEXTS, LABELS, tmp_path, runs=0)


@pytest.mark.embeddings
def test_a_project_fine_tunes_for_its_codebook_version_and_autocode_uses_it(tmp_path, minilm, monkeypatch):
    from qualkit.coding.workflow import finetune_job, model_folder

    project = qk.Project.create(tmp_path / "study.qualkit.db", codebook="burnout", user="ana")
    source = tmp_path / "g1.txt"
    source.write_text("Ana: I chart every night until midnight.\n\nBen: Nobody talks to me on nights.\n", encoding="utf-8")
    project.import_transcripts([source], progress=False)
    messages = []
    record = finetune_job(project, {"seed": 0, "max_examples": 8, "runs": 2}, lambda d, t, m: messages.append(m))
    assert messages and record["codebook_version"] == project.codebook.version and record["runs"] == 2
    assert model_folder(project) == tmp_path / "study.qualkit.db.models"
    info = json.loads((model_folder(project) / record["key"] / "info.json").read_text())
    assert info["seed"] == 0 and len(info["averaged"]) == 2 and "tuning run 2 of 2" in messages[-1]
    reopened = qk.Project.open(tmp_path / "study.qualkit.db", user="ana")  # survives a restart
    assert reopened.train_coder().embedder_.name.endswith(record["key"][:12])
    reopened.store.update_settings(user="ana", encoder={**record, "codebook_version": record["codebook_version"] - 1})
    assert reopened.train_coder().embedder_.name == "all-MiniLM-L6-v2"  # tuned for an older codebook: not used


@pytest.mark.embeddings
@pytest.mark.parametrize("objective", ["classify", "pairs"])
def test_texts_without_any_code_are_a_clear_error(tmp_path, objective):
    with pytest.raises(qk.InvalidInput, match="nothing to fine-tune on"):
        fine_tune(["a", "b"], [[], []], tmp_path, objective=objective)


def test_the_encoder_tunes_itself_from_100_judged_segments_and_again_when_they_grow_by_half(monkeypatch):
    import qualkit.embeddings
    from qualkit.coding.finetune import auto_tune_due

    monkeypatch.setattr(qualkit.embeddings, "minilm_available", lambda: True)
    monkeypatch.setenv("QUALKIT_AUTO_FINE_TUNE", "1")
    assert not auto_tune_due(99) and auto_tune_due(100)
    tuned_on_100 = {"judged": 100, "codebook_version": 2}
    assert not auto_tune_due(149, tuned_on_100, 2) and auto_tune_due(150, tuned_on_100, 2)
    assert auto_tune_due(100, tuned_on_100, 3)  # a new codebook version starts from the packaged encoder
    monkeypatch.setenv("QUALKIT_AUTO_FINE_TUNE", "off")
    assert not auto_tune_due(10_000)
    monkeypatch.setenv("QUALKIT_AUTO_FINE_TUNE", "1")
    monkeypatch.setattr(qualkit.embeddings, "minilm_available", lambda: False)  # no torch: the frozen encoder
    assert not auto_tune_due(10_000)


def test_only_minilm_is_tuned_whether_named_chosen_by_default_or_given(monkeypatch):
    import qualkit.embeddings
    from qualkit.coding.finetune import tuning_applies
    from qualkit.embeddings import LsaEmbedder, MiniLMEmbedder

    monkeypatch.setattr(qualkit.embeddings, "minilm_available", lambda: True)
    monkeypatch.setenv("QUALKIT_AUTO_FINE_TUNE", "1")
    monkeypatch.delenv("QUALKIT_EMBEDDER", raising=False)
    assert tuning_applies("minilm") and tuning_applies("auto") and tuning_applies(MiniLMEmbedder())
    assert not tuning_applies("lsa") and not tuning_applies(LsaEmbedder()) and not tuning_applies(None)
    monkeypatch.setenv("QUALKIT_EMBEDDER", "lsa")  # the default tier is LSA here: nothing to tune
    assert not tuning_applies("auto") and tuning_applies("minilm")
    monkeypatch.setenv("QUALKIT_AUTO_FINE_TUNE", "off")
    assert not tuning_applies("minilm")


@pytest.mark.embeddings
def test_cli_autocode_fine_tunes_on_the_training_rows_when_asked(tmp_path, minilm, monkeypatch):
    import json

    from typer.testing import CliRunner

    import qualkit.coding.finetune as finetune
    from qualkit.cli import app

    monkeypatch.setenv("QUALKIT_MODEL_DIR", str(tmp_path / "models"))
    real = finetune.fine_tune
    monkeypatch.setattr(finetune, "fine_tune", lambda *a, **kw: real(*a, **{**kw, "max_examples": 8}))  # seconds
    rows = [("Forms and notes until late", ["administrative_burden"]), ("Nobody talks to me on nights", ["isolation"]),
            ("We went bowling", [])] * 3
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps({"id": f"t{i}", "text": t, "codes": c}) + "\n" for i, (t, c) in enumerate(rows)),
                     encoding="utf-8")
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "a", "text": "Charting all evening"}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["autocode", "--codebook", "burnout", "--input", str(source), "--output",
                                      str(out), "--train", str(train), "--fine-tune"])
    assert result.exit_code == 0, result.output
    [folder] = [p for p in (tmp_path / "models" / "cli").iterdir() if (p / "info.json").exists()]
    assert "fine-tuned encoder " + folder.name[:12] in result.output
    assert json.loads(out.read_text())["id"] == "a"
    again = CliRunner().invoke(app, ["autocode", "--codebook", "burnout", "--input", str(source), "--output",
                                     str(tmp_path / "two.jsonl"), "--train", str(train), "--fine-tune",
                                     "--tuning-runs", "2"])
    assert again.exit_code == 0, again.output
    infos = {p.name: json.loads((p / "info.json").read_text()) for p in (tmp_path / "models" / "cli").iterdir()
             if (p / "info.json").exists()}
    [soup] = [key for key, info in infos.items() if "averaged" in info]
    assert folder.name in infos[soup]["averaged"] and len(infos[soup]["averaged"]) == 2  # the first run is reused
    assert f"fine-tuned encoder {soup[:12]} (classify, 2 runs averaged" in again.output


@pytest.mark.embeddings
def test_autocode_tunes_the_encoder_once_enough_is_judged_and_the_worker_queues_it(tmp_path, minilm, monkeypatch):
    import qualkit.coding.finetune as finetune
    from qualkit import worker
    from qualkit.coding import workflow
    from qualkit.store import jobs

    monkeypatch.setenv("QUALKIT_AUTO_FINE_TUNE", "1")
    monkeypatch.setattr(finetune, "AUTO_TUNE_FROM", 2)
    tunings = []
    real = workflow.fine_tune_project
    monkeypatch.setattr(workflow, "fine_tune_project",
                        lambda project, **kw: tunings.append(kw) or real(project, max_examples=8, **kw))
    project = qk.Project.create(tmp_path / "study.qualkit.db", codebook="burnout", user="ana")
    source = tmp_path / "g1.txt"
    source.write_text("Ana: I chart every night until midnight.\n\nBen: Nobody talks to me on nights.\n\n"
                      "Cy: The forms never end.\n", encoding="utf-8")
    project.import_transcripts([source], progress=False)
    ids = list(project.ids(project.segments(participants_only=True)))
    project.code(ids[0], "administrative_burden")
    assert not workflow.tuning_due(project)  # one judged segment: below the (lowered) bar
    project.autocode(progress=False)
    assert tunings == []
    project.code(ids[1], "isolation")
    assert workflow.tuning_due(project)
    retrained = worker.retrain_job(project, {}, lambda *a: None)  # the worker queues it as its own job
    assert tunings == [] and jobs.job(project.store, retrained["finetune_job"]).kind == "finetune"
    project.autocode(progress=False)  # a notebook's autocode tunes first
    record = project.store.settings["encoder"]
    assert len(tunings) == 1 and record["judged"] == 2 and record["codebook_version"] == project.codebook.version
    assert project.train_coder().embedder_.name.endswith(record["key"][:12])
    project.autocode(progress=False)  # nothing new judged: no second tuning
    skipped = worker.finetune_then_retrain_job(project, {"auto": True}, lambda *a: None)
    assert len(tunings) == 1 and "skipped" in skipped
    project.autocode(progress=False, fine_tune=False)
    monkeypatch.setenv("QUALKIT_AUTO_FINE_TUNE", "0")
    project.code(ids[2], "workload")
    assert not workflow.tuning_due(project) and len(tunings) == 1
    with pytest.raises(qk.InvalidInput, match="fine_tune"):
        project.autocode(progress=False, fine_tune="sometimes")

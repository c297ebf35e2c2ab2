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
def test_fine_tuning_is_reproducible_stored_and_reused(tmp_path, minilm, objective):
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
    reused = fine_tune(TEXTS, LABELS, tmp_path / "a", seed=3, **options, progress=lambda *args: calls.append("again"))
    assert reused.path == first.path and "again" not in calls  # nothing trained twice


@pytest.mark.embeddings
def test_a_project_fine_tunes_for_its_codebook_version_and_autocode_uses_it(tmp_path, minilm, monkeypatch):
    from qualkit.coding.workflow import finetune_job, model_folder

    project = qk.Project.create(tmp_path / "study.qualkit.db", codebook="burnout", user="ana")
    source = tmp_path / "g1.txt"
    source.write_text("Ana: I chart every night until midnight.\n\nBen: Nobody talks to me on nights.\n", encoding="utf-8")
    project.import_transcripts([source], progress=False)
    messages = []
    record = finetune_job(project, {"seed": 0, "max_examples": 8}, lambda d, t, m: messages.append(m))
    assert messages and record["codebook_version"] == project.codebook.version
    assert model_folder(project) == tmp_path / "study.qualkit.db.models"
    assert json.loads((model_folder(project) / record["key"] / "info.json").read_text())["seed"] == 0
    reopened = qk.Project.open(tmp_path / "study.qualkit.db", user="ana")  # survives a restart
    assert reopened.train_coder().embedder_.name.endswith(record["key"][:12])


@pytest.mark.embeddings
@pytest.mark.parametrize("objective", ["classify", "pairs"])
def test_texts_without_any_code_are_a_clear_error(tmp_path, objective):
    with pytest.raises(qk.InvalidInput, match="nothing to fine-tune on"):
        fine_tune(["a", "b"], [[], []], tmp_path, objective=objective)

"""Theme discovery: planted themes found, defaults, reproducibility, fallback, codebook matching."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from qualkit.embeddings import LsaEmbedder
from qualkit.errors import InvalidInput, MissingDependency
from qualkit.themes.fit import ThemeClusterer, by_size, default_settings, reassign_outliers
from qualkit.topics import discover_themes


def _ari(corpus, result):
    planted = corpus.labels[result.documents["segment_index"].to_numpy()]
    return adjusted_rand_score(planted, result.documents["theme"])


def test_planted_themes_are_found_with_at_most_15_percent_unassigned(planted, lsa_result):
    assert lsa_result.settings["engine"] == "sklearn"
    assert 4 <= len(lsa_result.active) <= 30
    assert lsa_result.outlier_share <= 0.15
    assert _ari(planted, lsa_result) > 0.3


def test_each_theme_is_fully_described(lsa_result):
    theme = lsa_result.active[0]
    assert theme.size == (lsa_result.documents["theme"] == theme.id).sum() and theme.size > 0
    assert theme.words and theme.label.startswith(theme.words[0])
    assert {"um", "like", "yeah", "know"}.isdisjoint(theme.words)
    quote = theme.quotes[0]
    assert quote["speaker"] and quote["group"] in {"FG1", "FG2", "FG3", "FG4"}
    assert set(theme.prevalence) >= {"group", "role", "session", "source"}
    assert all(0 <= v <= 1 for v in theme.prevalence["role"].values())
    # no codebook: every theme is a candidate new code with a draft definition and examples
    assert theme.candidate["definition"] and theme.candidate["examples"] and theme.codes == []


def test_themes_are_numbered_by_size(lsa_result):
    sizes = [t.size for t in lsa_result.active]
    assert sizes == sorted(sizes, reverse=True)
    assert [t.id for t in lsa_result.active][:3] == [0, 1, 2]


def test_same_input_and_settings_give_the_same_themes(planted):
    runs = [discover_themes(planted.segments, engine="sklearn", reduction="pca", embedder=LsaEmbedder(n_components=64))
            for _ in range(2)]
    assert np.array_equal(runs[0].documents["theme"], runs[1].documents["theme"])
    assert [t.words for t in runs[0].themes] == [t.words for t in runs[1].themes]


def test_bertopic_path_is_reproducible_too(planted, planted_codebook):
    pytest.importorskip("bertopic")
    filters = list(warnings.filters)
    runs = [discover_themes(planted.segments, planted_codebook, engine="bertopic", reduction="pca",
                            embedder=LsaEmbedder(n_components=64)) for _ in range(2)]
    assert warnings.filters == filters  # BERTopic's import-time warning filters do not leak
    assert runs[0].settings["engine"] == "bertopic"
    assert np.array_equal(runs[0].documents["theme"], runs[1].documents["theme"])
    assert [t.label for t in runs[0].themes] == [t.label for t in runs[1].themes]
    assert runs[0].settings["seed_words"] and runs[0].versions["bertopic"]


def test_without_bertopic_the_scikit_learn_path_answers(planted, monkeypatch):
    monkeypatch.setitem(sys.modules, "bertopic", None)
    result = discover_themes(planted.segments, reduction="pca", embedder=LsaEmbedder(n_components=64))
    assert result.settings["engine"] == "sklearn" and len(result.active) >= 4
    with pytest.raises(MissingDependency, match="bertopic"):
        discover_themes(planted.segments, engine="bertopic", reduction="pca", embedder=LsaEmbedder(n_components=64))


def test_codebook_codes_are_matched_and_the_rest_become_candidates(planted, planted_codebook):
    result = discover_themes(planted.segments, planted_codebook, engine="sklearn", reduction="pca",
                             embedder=LsaEmbedder(n_components=64), match_threshold=0.2)
    matched = {t.matched_code for t in result.active} - {None}
    assert {"admin", "sleep"} <= matched
    for theme in result.active:
        assert [c["similarity"] for c in theme.codes] == sorted((c["similarity"] for c in theme.codes), reverse=True)
        assert (theme.candidate is None) == (theme.matched_code is not None)
    candidate = result.candidates[0].candidate
    assert candidate["id"] not in planted_codebook and candidate["name"] and candidate["examples"]
    assert result.code_ids == ["admin", "staffing", "sleep", "family"]


def test_importing_the_api_loads_no_heavy_package():
    code = ("import sys, qualkit as qk; qk.discover_themes; import qualkit.figures.themes; "
            "print(sorted(m for m in ('bertopic', 'umap', 'hdbscan', 'torch', 'sentence_transformers') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]" and done.stderr == ""


def test_n_themes_fixes_the_number(planted):
    result = discover_themes(planted.segments, engine="sklearn", n_themes=5, reduction="pca",
                             embedder=LsaEmbedder(n_components=64))
    assert len(result.active) == 5 and result.settings["clustering"] == "kmeans"


def test_too_little_talk_is_a_clear_error(planted):
    with pytest.raises(InvalidInput, match="at least"):
        discover_themes(planted.segments[:5], engine="sklearn", embedder=LsaEmbedder(n_components=64))


def test_defaults_scale_with_corpus_size():
    small, large = default_settings(150, umap_available=True), default_settings(50_000, umap_available=True)
    assert small["min_cluster_size"] == 5 and large["min_cluster_size"] == 500
    assert default_settings(10_000)["min_cluster_size"] == 100
    assert default_settings(80, umap_available=True)["reduction"] == "pca"
    assert default_settings(5_000, umap_available=True)["reduction"] == "umap"
    assert large["reduction"] == "pca" and default_settings(5_000, umap_available=False)["reduction"] == "pca"


def test_outlier_reduction_caps_the_unassigned_share():
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(100, 8)).astype(np.float32)
    labels = np.where(np.arange(100) < 40, np.arange(100) % 2, -1)
    reduced = reassign_outliers(embeddings, labels, max_share=0.15)
    assert (reduced == -1).mean() <= 0.15 and np.array_equal(reduced[:40], labels[:40])


def test_clusterer_falls_back_to_kmeans_on_one_blob():
    grid = np.array([[i, j] for i in range(15) for j in range(15)], dtype=float)  # even density: no clusters
    clusterer = ThemeClusterer(min_cluster_size=5, min_samples=2, prefer_hdbscan_package=False).fit(grid)
    assert clusterer.method_ == "kmeans" and len(set(clusterer.labels_)) == 8  # round(sqrt(225) / 2)


def test_by_size_renumbers_largest_first():
    labels, mapping = by_size(np.array([3, 3, 1, -1, 1, 1]))
    assert labels.tolist() == [1, 1, 0, -1, 0, 0] and mapping == {1: 0, 3: 1}


@pytest.mark.embeddings
def test_minilm_finds_the_planted_themes(planted, minilm, planted_codebook):
    result = discover_themes(planted.segments, planted_codebook, engine="auto", reduction="pca", embedder=minilm)
    assert result.settings["embedder_kind"] == "minilm"
    assert _ari(planted, result) > 0.4
    assert {"admin", "sleep", "family"} <= {t.matched_code for t in result.active}

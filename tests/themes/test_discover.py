"""Theme discovery: planted themes found, defaults, reproducibility, fallback, codebook matching."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from qualkit.embeddings import LsaEmbedder
from qualkit.errors import InvalidInput, MissingDependency
from qualkit.themes.describe import describe_themes
from qualkit.themes.discover import discover_themes
from qualkit.themes.fit import (
    ThemeClusterer,
    Unsupervised,
    bertopic_available,
    by_size,
    default_settings,
    reassign_outliers,
)


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


@pytest.mark.bertopic
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


def test_the_default_path_is_reproducible(planted, planted_codebook):
    """BERTopic (when installed) with the default reduction and codebook guidance, run twice."""
    runs = [discover_themes(planted.segments, planted_codebook, embedder=LsaEmbedder(n_components=64))
            for _ in range(2)]
    settings = runs[0].settings
    assert settings["reduction"] == default_settings(len(runs[0].documents))["reduction"]
    assert settings["engine"] == ("bertopic" if bertopic_available() else "sklearn")
    assert np.array_equal(runs[0].documents["theme"], runs[1].documents["theme"])
    assert np.allclose(runs[0].documents[["x", "y"]], runs[1].documents[["x", "y"]])
    assert [(t.label, t.matched_code, t.guided_by) for t in runs[0].themes] == [
        (t.label, t.matched_code, t.guided_by) for t in runs[1].themes]


@pytest.mark.parametrize("engine", ["sklearn", pytest.param("bertopic", marks=pytest.mark.bertopic)])
def test_code_definitions_become_themes_of_their_own(planted, planted_codebook, engine):
    if engine == "bertopic":
        pytest.importorskip("bertopic")
    runs = [discover_themes(planted.segments, planted_codebook, engine=engine, reduction="pca",
                            embedder=LsaEmbedder(n_components=64)) for _ in range(2)]
    result = runs[0]
    assert result.settings["guided"] == runs[1].settings["guided"]
    assert np.array_equal(result.documents["theme"], runs[1].documents["theme"])
    guided = {int(theme): code for theme, code in result.settings["guided"].items()}
    assert {"staffing", "family"} <= set(guided.values())  # zero-shot themes survived min_cluster_size
    planted_theme = {"admin": "documentation", "staffing": "staffing", "sleep": "sleep", "family": "family"}
    for theme_id, code in guided.items():
        theme = result.theme(theme_id)
        assert theme.guided_by == code and theme.matched_code == code and theme.candidate is None
        assert theme.size >= result.settings["min_cluster_size"]
        members = planted.labels[theme_documents_index(result, theme_id)]
        assert np.mean(members == planted.theme_names.index(planted_theme[code])) >= 0.8
    unguided = discover_themes(planted.segments, planted_codebook, engine=engine, reduction="pca", guided=False,
                               embedder=LsaEmbedder(n_components=64))
    assert unguided.settings["guided"] == {} and all(t.guided_by is None for t in unguided.themes)


def theme_documents_index(result, theme_id):
    return result.documents.loc[result.documents["theme"] == theme_id, "segment_index"].to_numpy()


def test_when_every_document_matches_a_code_the_codes_are_still_reported(planted, planted_codebook):
    result = discover_themes(planted.segments, planted_codebook, engine="sklearn", reduction="pca",
                             zeroshot_min_similarity=-1.0, embedder=LsaEmbedder(n_components=64))
    assert result.settings["clustering"] == "zero-shot" and result.outlier_share == 0.0
    assert sorted(result.settings["guided"].values()) == ["admin", "family", "sleep", "staffing"]
    assert all(t.matched_code == t.guided_by is not None for t in result.active)


def test_a_zero_shot_theme_is_reported_against_its_own_code():
    """Even when the theme's centroid lies nearer another code, the code it was built from wins."""
    docs = pd.DataFrame({"text": ["night shift fatigue", "night shift again", "tired after call"],
                         "speaker": ["A", "B", "C"], "source": "g1", "start": [0, 20, 40], "end": [19, 37, 56],
                         "segment_id": [1, 2, 3]})
    embeddings = np.array([[1, 0.2], [1, 0.1], [1, 0.3]], dtype=np.float32)
    codes = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.float32)  # "sleep" lies far, "workload" near
    themes, _ = describe_themes(docs, embeddings, np.zeros(3, dtype=int), settings={"guided": {"0": "sleep"}},
                                code_ids=["sleep", "workload"], code_matrix=codes,
                                codebook_names={"sleep": "Sleep", "workload": "Workload"})
    assert themes[0]["codes"][0]["code_id"] == "workload"
    assert themes[0]["matched_code"] == "sleep" and themes[0]["guided_by"] == "sleep"


def test_prevalence_by_a_number_attribute_and_a_clear_error_for_an_unknown_one(planted):
    segments = [dataclasses.replace(s, attributes={**s.attributes, "session": int(s.attributes["session"][1:]),
                                                   "years": k % 17}) for k, s in enumerate(planted.segments)]
    result = discover_themes(segments, engine="sklearn", reduction="pca", embedder=LsaEmbedder(n_components=64))
    assert "session" in result.settings["by"] and "years" not in result.settings["by"]
    theme = result.active[0]
    documents = result.documents
    in_theme = documents["theme"] == theme.id
    expected = {str(v): round(float(in_theme[documents["session"] == v].mean()), 4) for v in (1, 2)}
    assert theme.prevalence["session"] == expected
    chosen = discover_themes(segments, by=["years", "session"], engine="sklearn", reduction="pca",
                             embedder=LsaEmbedder(n_components=64))
    assert list(chosen.active[0].prevalence) == ["years", "session"]
    assert list(chosen.active[0].prevalence["years"])[:3] == ["0", "1", "2"]  # numbers in number order
    with pytest.raises(InvalidInput, match="'shoe_size'") as error:
        discover_themes(segments, by=["session", "shoe_size"], engine="sklearn", embedder=LsaEmbedder(n_components=64))
    assert "session" in error.value.fix


def test_short_sentences_count_as_having_no_theme(planted):
    source_segments = list(planted.segments)
    backchannels = [dataclasses.replace(s, text="Yeah, exactly.", end=s.start + 14) for s in source_segments[:30]]
    result = discover_themes([*source_segments, *backchannels], engine="sklearn", reduction="pca",
                             embedder=LsaEmbedder(n_components=64), max_outlier_share=0.05)
    summary = result.summary()
    outliers = int((result.documents["theme"] == -1).sum())
    assert summary["short_dropped"] == 30 and summary["documents"] == len(source_segments)
    assert summary["fitted_share"] == round(len(source_segments) / (len(source_segments) + 30), 4)
    assert summary["unthemed_share"] == round((outliers + 30) / (len(source_segments) + 30), 4)
    assert summary["unthemed_share"] > summary["outlier_share"]
    assert "too short" in repr(result)


@pytest.mark.bertopic
def test_warnings_of_the_fitting_parts_reach_the_caller(planted, monkeypatch):
    pytest.importorskip("bertopic")
    from qualkit.themes import fit

    class Noisy(ThemeClusterer):
        def fit(self, x, y=None):
            warnings.warn("the clusterer has something to say", UserWarning, stacklevel=2)
            return super().fit(x, y)

    monkeypatch.setattr(fit, "make_clusterer", lambda settings, n, seed, **_: Noisy(
        min_cluster_size=settings["min_cluster_size"], min_samples=settings["min_samples"]))
    with pytest.warns(UserWarning, match="something to say"):
        discover_themes(planted.segments, engine="bertopic", reduction="pca", embedder=LsaEmbedder(n_components=64))


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
    small, large = default_settings(150), default_settings(50_000)
    assert small["min_cluster_size"] == 5 and large["min_cluster_size"] == 500
    assert default_settings(10_000)["min_cluster_size"] == 100
    # PCA at every size (bench/topics.py: it beat UMAP on the planted corpora); UMAP on request
    assert {default_settings(n)["reduction"] for n in (80, 150, 5_000, 50_000)} == {"pca"}
    assert (default_settings(5_000, reduction="umap")["reduction"], default_settings(5_000, reduction="umap")[
        "n_components"]) == ("umap", 5)
    with pytest.raises(InvalidInput, match="reduction"):
        default_settings(100, reduction="tsne")


def test_the_fitting_parts_are_scikit_learn_estimators():
    from sklearn.base import clone
    from sklearn.decomposition import PCA

    clusterer = ThemeClusterer(min_cluster_size=7, n_themes=3, random_state=4)
    assert clone(clusterer).get_params() == clusterer.get_params()
    assert clusterer.get_params()["min_cluster_size"] == 7
    x = np.random.default_rng(0).normal(size=(30, 4))
    assert len(set(clusterer.fit_predict(x).tolist())) == 3 and clusterer.method_ == "kmeans"
    reducer = Unsupervised(PCA(2, random_state=0))
    copy = clone(reducer)
    assert copy.get_params()["reducer"].get_params() == PCA(2, random_state=0).get_params()
    reduced = reducer.fit_transform(x, y=np.zeros(30))
    assert reduced.shape == (30, 2) and not hasattr(reducer.reducer, "components_")  # the parameter stays unfitted
    assert np.allclose(reducer.transform(x[:5]), reduced[:5])


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


@pytest.mark.parametrize("package", [True, False])
def test_clusterer_on_a_sample_labels_every_row_like_the_full_fit(package):
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 10, (4, 3))
    x = np.vstack([c + rng.normal(0, 0.5, (300, 3)) for c in centres])
    truth = np.repeat(np.arange(4), 300)
    full = ThemeClusterer(min_cluster_size=60, min_samples=15, prefer_hdbscan_package=package).fit(x)
    sampled = ThemeClusterer(min_cluster_size=60, min_samples=15, prefer_hdbscan_package=package,
                             max_fit_size=300).fit(x)
    again = ThemeClusterer(min_cluster_size=60, min_samples=15, prefer_hdbscan_package=package,
                           max_fit_size=300).fit(x)
    assert len(sampled.labels_) == len(x) and sampled.method_ == full.method_ == "hdbscan"
    assert adjusted_rand_score(truth, sampled.labels_) > 0.95 and adjusted_rand_score(truth, full.labels_) > 0.95
    assert sampled.labels_.tolist() == again.labels_.tolist()  # the sample is seeded


def test_large_corpora_cluster_a_sample_and_static_keeps_more_dimensions():
    assert default_settings(20_000)["max_fit_size"] is None
    assert default_settings(20_001)["max_fit_size"] == 20_000
    assert default_settings(5_000, kind="static")["n_components"] > default_settings(5_000)["n_components"]
    assert default_settings(5_000, kind="static", reduction="umap")["n_components"] == 5


def test_by_size_renumbers_largest_first():
    labels, mapping = by_size(np.array([3, 3, 1, -1, 1, 1]))
    assert labels.tolist() == [1, 1, 0, -1, 0, 0] and mapping == {1: 0, 3: 1}


@pytest.mark.embeddings
def test_minilm_finds_the_planted_themes(planted, minilm, planted_codebook):
    result = discover_themes(planted.segments, planted_codebook, engine="auto", reduction="pca", embedder=minilm)
    assert result.settings["embedder_kind"] == "minilm"
    assert _ari(planted, result) > 0.4
    assert {"admin", "sleep", "family"} <= {t.matched_code for t in result.active}

"""Fixtures for theme discovery: generated corpora with planted themes, fast LSA/PCA results, MiniLM once."""

from __future__ import annotations

import pytest

from qualkit.model import Code, Codebook


@pytest.fixture(scope="session")
def planted():
    """240 participant sentences over 4 focus groups, 8 planted themes and ~10% chatter."""
    from qualkit.themes.synthetic import planted_corpus

    return planted_corpus(240, seed=7)


@pytest.fixture(scope="session")
def lsa_result(planted):
    """Themes of the planted corpus on the fast path: TF-IDF/LSA embeddings, PCA, scikit-learn clustering."""
    from qualkit.embeddings import LsaEmbedder
    from qualkit.themes.discover import discover_themes

    return discover_themes(planted.segments, engine="sklearn", reduction="pca", embedder=LsaEmbedder(n_components=64))


@pytest.fixture(scope="session")
def minilm():
    """The packaged MiniLM embedder, loaded once per session (tests using it are marked ``embeddings``)."""
    from qualkit.embeddings import MiniLMEmbedder, minilm_available

    if not minilm_available():
        pytest.skip("the embeddings extra (MiniLM) is not installed")
    return MiniLMEmbedder()


@pytest.fixture
def planted_codebook():
    """Codes for four of the planted themes (documentation, staffing, sleep, family); the rest are new."""
    return Codebook(name="planted", codes=[
        Code("admin", "Administrative burden", definition="Charting, the inbox, the EHR and notes take the evenings.",
             examples=["The inbox follows me home at night.", "My notes keep me at the computer until midnight."],
             cues=["inbox", "charting", "ehr"]),
        Code("staffing", "Short staffing", definition="Nurses call out, no float pool, unsafe ratios, skipped breaks.",
             examples=["We are short-staffed again and nobody backfills the shift."], cues=["short-staffed"]),
        Code("sleep", "Sleep and fatigue", definition="Night shifts and call leave people unable to sleep or recover.",
             examples=["After a string of night shifts I can barely keep my eyes open."], cues=["night shift"]),
        Code("family", "Family life", definition="Kids, partners and friends get whatever is left.",
             examples=["My kids barely see me awake."], cues=["my kids"]),
    ])

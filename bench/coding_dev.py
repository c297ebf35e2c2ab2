"""Development of the learned coder on NHS without looking at the reported test parts.

Each variant is scored on a *development* split carved out of a seed's training part (75 % to fit, 25 % to
score); the 20 % test part that ``bench.coding`` reports is never read here. What wins here is then run by
``python -m bench.coding`` on the reported splits, beside the default and the baselines.

    python -m bench.coding_dev --cache bench/results/minilm.npz --seeds 0 --train all 20
    python -m bench.coding_dev --cache bench/results/minilm.npz --seeds 0 --train all 20 --variants auto "auto tuned"

``auto`` is the default coder (``AutoCoder``) on frozen MiniLM, ``auto tuned`` the same on MiniLM fine-tuned on
the fit part (``fine_tune``'s default objective). Measured 2026-12-04, seed 0, dev macro-F1: auto 0.488, auto
tuned 0.506 with the SetFit pairs objective (1,923 s on a loaded machine) and 0.547 with the classify objective
(260 s idle); with 20 per theme 0.397 -> 0.475 (classify, 137 s).

``--case demo|annomi-client|annomi-therapist`` runs the ``auto`` variants on development splits carved from
those cases' training parts (:func:`dev_splits`). Variants: ``auto`` (frozen), ``auto tuned``, ``auto concat``
(frozen and tuned vectors side by side) and ``auto gated`` (:func:`tune_and_check`). Measured 2026-12-05,
seed 0 (kappa for AnnoMI client, per-code kappa for the demo, macro-F1 for NHS all / 20 per theme):

    variant       annomi-client  demo   nhs all  nhs 20
    auto          0.380          0.481  0.488    0.397
    auto tuned    0.357          0.483  0.530    0.451
    auto concat   0.357          0.500  0.520    0.432
    auto gated    0.326          0.485  0.497    0.397

A softmax objective for one-code-per-unit codebooks (the codes plus "uncoded", instead of per-code
binary cross-entropy; tried in a working copy, not kept) gave AnnoMI client 0.324: worse than both.

Neither concat nor the gate is in the default: concat sits between frozen and tuned on NHS and does not
help AnnoMI client; the gate chose wrong where it mattered (kept the tuned encoder for AnnoMI client on a
0.005 held-out margin, the frozen one for NHS 20 per theme, where tuning gains 0.054), and its tuning on
80 % of the data lost to tuning on all of it (NHS 0.497 vs 0.530).

    python -m bench.coding_dev --case annomi-client --seeds 0 --variants auto "auto tuned" "auto concat" "auto gated"

Measured 2026-12-06 (seed 0, idle machine unless noted), each against ``auto tuned`` (NHS all 0.530, NHS 20 per
theme 0.451, demo 0.483, AnnoMI client 0.357; the frozen ``auto``: 0.488 / 0.397 / 0.481 / 0.380):

    variant (options after the mode go to fine-tuning with ft., to the learned coder with learned.)
                                             nhs all  nhs 20  demo   annomi-client
    ft.runs=2 (two seeds averaged)           0.555    0.462   0.488  0.328
    ft.seed=1 (the second run alone)         0.540    0.449   0.474  0.320
    ft.runs=2 ft.epochs=2 (same cost as one) 0.523    0.435
    ft.schedule=linear (10 % warm-up, decay) 0.524    0.425
    ft.epochs=8                                       0.452
    ft.learning_rate=0.0001 / 2.5e-05 (5e-05) 0.537 / 0.527   0.439 / 0.435
    WiSE-FT: 0.5 x tuned + 0.5 x frozen      0.503    0.453          0.332
             0.7 x tuned + 0.3 x frozen      0.524    0.448          0.344
    C=16 / C=1                               0.539 / 0.526   0.458 / 0.452
    learned.embedding_weight=2 / 3           0.526 / 0.522   0.417 / 0.405
    learned.char_ngrams=False                0.527    0.448
    learned.class_weight=None                0.519    0.433
    similarity=False, rules=False, prior_strength=2, learned.threshold_shrinkage=1: unchanged (0.530 / 0.451)

So on NHS the coder's settings hardly matter once the encoder is tuned (the theme-name-only codebook gives the
prior nothing to add), and of the tuning variants only averaging two runs gained, on three of the four cases,
for twice the time: it is ``fine_tune(runs=2)`` / ``Project.fine_tune(runs=2)``, not the default (see the
note on issue 13 for its figures on the reported splits). The schedule and WiSE-FT options were removed again.

    python -m bench.coding_dev --cache bench/results/minilm.npz --seeds 0 --train all 20 \
        --variants "auto tuned ft.runs=2" "auto tuned ft.seed=1" "auto tuned C=16" "auto tuned learned.char_ngrams=False"

Self-training the encoder (``auto pseudo``, 2026-12-06): at 20 per theme the seed's other 666 fit-part texts are
the study's unlabelled segments; the tuned coder's suggestions for them (585-591 get at least one code) join the
labelled texts and the encoder is tuned again on the ~1,300 texts, then the coder learns from the labelled ones.
Dev macro-F1, seeds 0 / 1 / 2: tuned 0.451 / 0.465 / 0.428, pseudo 0.451 / 0.460 / 0.451 (+0.006 on the mean,
one seed of three gains) for a second, larger tuning run (189-214 s on top of ~80 s). Not kept; the suggestions
were the exact gold set for only 36-38 % of the texts. The study's question as context (an "FFT question"
column: "What was good?" / "What could we do better?") did not help either, seed 0: the frozen coder with "Good: " / "Could be
better: " before each text 0.488 -> 0.489 (all), 0.397 -> 0.388 (20 per theme); MiniLM + logistic regression
with the question as one more feature 0.400 -> 0.408, 0.388 -> 0.377 (a throwaway script, not kept).

    python -m bench.coding_dev --cache bench/results/minilm.npz --seeds 0 1 2 --train 20 \
        --variants auto "auto tuned" "auto pseudo"

The learned coder's C on three development seeds (2026-12-06; C=16 had looked better on seed 0 alone):

    seeds 0 / 1 / 2          nhs all               nhs 20                demo (kappa per code)
    auto tuned (C=4)         0.530 / 0.531 / 0.508  0.451 / 0.465 / 0.428  0.483 / 0.393 / 0.393
    auto tuned C=8           0.539 / 0.529 / 0.532  0.456 / 0.465 / 0.430  0.502 / 0.392 / 0.410
    auto tuned C=16          0.539 / 0.531 / 0.530  0.458 / 0.459 / 0.427  0.497 / 0.392 / 0.403
    auto (frozen), C=4 / 8   0.488 / 0.516 / 0.501 -> 0.480 / 0.520 / 0.498;  20: 0.397 / 0.445 / 0.435 -> 0.397 / 0.447 / 0.433

C=8 on the tuned encoder: +0.010 (NHS all), +0.002 (NHS 20), +0.012 (demo) on the mean; on the frozen one
nothing. On the reported NHS splits it did not carry over (``python -m bench.coding --cases nhs --curve 20
--candidates "C 8"``, 1,540 s): random 80/20 0.568 ± 0.015 against the default's 0.565 (paired +0.003 ± 0.004),
20 per theme 0.462 against 0.463 (-0.001 ± 0.004). The default stays at 4.

    python -m bench.coding_dev --cache bench/results/minilm.npz --seeds 0 1 2 --train all 20 \
        --variants "auto tuned" "auto tuned C=8" "auto tuned C=16"
    python -m bench.coding_dev --case demo --seeds 0 1 2 --variants "auto tuned" "auto tuned C=8" "auto tuned C=16"

A neighbour coder beside the learned one (:class:`~qualkit.coding.neighbours.NeighbourCoder`, k nearest decided
texts vote; 2026-12-06, evening; runs without its later ``min_decided`` gate, so always on). NHS dev macro-F1,
seeds 0 / 1 / 2:

    variant                       nhs all (1,386 texts)     nhs 20 per theme (720)
    auto (frozen)                 0.488 / 0.516 / 0.501     0.397 / 0.445 / 0.435
    auto knn.k=15 (frozen)        0.486 / 0.476 / 0.481     0.374 / 0.389 / 0.398
    auto tuned                    0.530 / 0.531 / 0.508     0.451 / 0.465 / 0.428
    auto tuned knn.k=15           0.557 / 0.547 / 0.530     0.417 / 0.465 / 0.404
    auto tuned knn.k=30           0.549 / 0.543 / 0.501     0.432 / 0.444 / 0.406

and on the tuned encoder, the demo (seed 0, 241 fit texts) 0.483 -> 0.446 per-code kappa, AnnoMI client (seed 0,
2,642 fit texts, gated on) 0.357 -> 0.352 kappa. So neighbours help only on a tuned encoder with many decided texts,
and there only on NHS: hence ``min_decided=1000``, and not in the default (``AutoCoder(neighbours=True)`` adds it).

    python -m bench.coding_dev --cache /work/tuned/minilm.npz --tuned-dir /work/tuned --seeds 0 1 2 --train all 20 \
        --variants "auto tuned" "auto tuned knn.k=15" "auto tuned knn.k=30"
    python -m bench.coding_dev --case annomi-client --seeds 0 --variants "auto tuned" "auto tuned neighbours=True"

The best sentence (2026-12-06, night; ``AutoCoder(sentence_weight=w)``): each sentence of a text of several is
scored as a text of its own and a code's score is ``(1 - w) x whole + w x max(whole, best sentence)``, at the
coder's own thresholds. 27 % of NHS comments carry two or more themes and 35 % have two or more sentences; a
theme one sentence names was averaged away by the rest. NHS dev macro-F1 with w = 0.5, seeds 0 / 1 / 2 (measured
with a throwaway script that split sentences at . ! ? and scored them with the default coder; the library splits
with spaCy's sentencizer):

    variant                        nhs all                   nhs 20 per theme          demo (frozen, kappa per code)
    auto (frozen)                  0.488 / 0.516 / 0.501     0.397 / 0.445 / 0.435     0.481 / 0.444 / 0.404
    auto, best sentence w=0.5      0.514 / 0.532 / 0.527     0.419 / 0.467 / 0.453     0.493 / 0.431 / 0.391
    auto tuned                     0.530 / 0.531 / 0.508     0.451 / 0.465 / 0.428
    auto tuned, best sentence      0.552 / 0.551 / 0.523     0.483 / 0.471 / 0.463

(w = 1, the plain maximum: 0.550 / 0.548 / 0.522 and 0.466 / 0.471 / 0.466 tuned.) On NHS every seed gains, frozen
and tuned; on the demo's development splits (81-85 texts each, turns of 2-5 sentences) the frozen coder gains on
one seed of three and loses 0.013 on the others (mean -0.005). The tuned demo run was stopped to free the machine
for the reported NHS run (``python -m bench.coding --cases nhs --seeds 3 --curve 20 --candidates "best sentence"``),
which did not finish either. The tuned demo, run later on an idle machine: 0.483 / 0.393 / 0.393 -> 0.488 / 0.400 /
0.367 (mean -0.005). One reported NHS seed, on an idle machine: random 80/20, seed 0, default 0.568, best
sentence 0.595, MiniLM + LR 0.401 (``--seeds 1 --curve --settings random``; 453 s). Not the default until the
three seeds and the 20-per-theme point are in.

    python -m bench.coding_dev --case demo --seeds 0 1 2 --variants auto "auto sentence_weight=0.5"
    python -m bench.coding_dev --cache C --tuned-dir D --seeds 0 1 2 --train all 20 \
        --variants "auto tuned" "auto tuned sentence_weight=0.5"

With the library's own sentence split (spaCy) the frozen figures are the throwaway script's within 0.002: auto,
best sentence w=0.5 0.514 / 0.531 / 0.527 and 0.419 / 0.468 / 0.453 (2026-12-06, late night;
``--cache C --seeds 0 1 2 --train all 20 --variants "auto sentence_weight=0.5"``).

Tried and dropped the same night: tuning each code's threshold on the pooled scores predict uses (the learned
coder's fold models also scored the held-out texts' sentences; thresholds chosen on ``(1 - w) x whole + w x
max(whole, best sentence)``, both out of fold) instead of on whole texts. Frozen, w = 0.5: 0.519 / 0.515 / 0.528
and 0.416 / 0.466 / 0.456, against 0.514 / 0.531 / 0.527 and 0.419 / 0.468 / 0.453 with whole-text thresholds
(means 0.521 vs 0.524, 0.446 vs 0.447): no gain, for an extra encoding of every training sentence.

On the reported splits (``python -m bench.coding --cases nhs demo --seeds 3 --curve 20 --candidates "best
sentence"``, 3,855 s) the best sentence gained on every NHS seed (random 80/20 0.568 / 0.552 / 0.575 -> 0.595 /
0.563 / 0.609; 20 per theme 0.490 / 0.457 / 0.443 -> 0.503 / 0.467 / 0.482) and on the demo's held-out sessions
(kappa per code 0.437 / 0.454 / 0.485 / 0.378 -> 0.414 / 0.546 / 0.494 / 0.368, mean 0.439 -> 0.456); zero-shot on
the demo 0.373 -> 0.377. So ``AutoCoder`` now defaults to ``sentence_weight=0.5``: above, and in runs from then
on, ``auto`` includes it and ``auto sentence_weight=0`` is the earlier default.

A code's name as a training row (2026-12-07, fifth session). The NHS codebook is names only (36 themes, no
definitions or examples), and in 720 random comments ("20 per theme") 11 themes have 2-8 positives: the learned
coder predicted none of 4 of them on seed 0 (per-theme F1 0). The learned coder and fine-tuning left a code's
name out of their training rows, although the similarity coder already reads it where a code has nothing else.
With the name as one more positive row for such a code (measured in a working copy; now the library's behaviour,
so "before" is the commit before it), dev macro-F1, seeds 0 / 1 / 2:

    variant                              nhs all                   nhs 20 per theme
    auto (frozen), before                0.514 / 0.531 / 0.527     0.419 / 0.468 / 0.453
    auto (frozen), name rows             0.543 / 0.532 / 0.528     0.468 / 0.485 / 0.476
    auto tuned, before                                             0.483 / 0.471 / 0.463
    auto tuned, name rows                                          0.520 / 0.480 / 0.484

Every seed gains, frozen and tuned (mean +0.010 all, +0.030 / +0.022 at 20 per theme); codebooks whose codes
have definitions or examples (the demo, AnnoMI) are unchanged, since there the name is not a training row.
Reported afterwards (2026-12-07, sixth session; ``python -m bench.coding --cases nhs --seeds 3 --curve 20``):
random 80/20 0.589 -> 0.612 / 0.580 / 0.628 (mean 0.607, MiniLM + LR 0.392); 20 per theme 0.484 -> 0.523 /
0.472 / 0.511 (mean 0.502, MiniLM + LR 0.365).
Tried the same day and dropped, frozen, seeds 0 / 1 / 2 at 20 per theme unless noted:
- the name as a *prior* (the ensemble counting a name-only code as informative, so similarity to the name is
  mixed in): 0.437 / 0.507 / 0.442 (one seed loses 0.011); with the name rows as well 0.440 / 0.504 / 0.478,
  no better than the rows alone.
- sentences as extra training rows (``augment=N``: each sentence of a text with at most N codes, with the
  text's codes; :func:`with_sentences`), seed 0: augment=1 all 0.514 -> 0.506, 20 per theme 0.419 -> 0.397;
  augment=9 0.418 / 0.372.
- thresholds: shrinking each code's held-out threshold with strength 1 instead of 5: 0.424 / 0.467 / 0.446
  (mean -0.001); towards half the code's best held-out F1 (the F1-optimal threshold of a calibrated score,
  Lipton et al. 2014) instead of 0.5: 0.413 / 0.467 / 0.439. The oracle threshold per code on the dev part
  would gain (rare themes' positives rank high at low scores), but held-out folds with 2-8 positives do not
  find it.

    python -m bench.coding_dev --cache C --seeds 0 1 2 --train all 20 --variants auto
    python -m bench.coding_dev --cache C --tuned-dir D --seeds 0 1 2 --train 20 --variants "auto tuned"
    python -m bench.coding_dev --cache C --seeds 0 --train all 20 --variants auto "auto augment=1" "auto augment=9"

Rare themes at 20 per theme (2026-12-07, seventh session), frozen, dev macro-F1 seeds 0 / 1 / 2 against ``auto``
0.468 / 0.485 / 0.476. (``learned.X`` variants had run without the AutoCoder's ``sentence_weight`` until this
session, 0.419 / 0.466 / 0.456 for ``auto learned.lexical_min_positives=0``; :func:`dev_coder` now carries it over
and that variant equals ``auto``. The ``learned.X`` rows above were measured before ``sentence_weight`` was the
default, so they stand.) All dropped:
- a code with fewer than N positives learning from the embedding alone (its word and character weights 0, tried
  as ``LearnedCoder(lexical_min_positives=N)`` in a working copy; the 2-8-positive themes' n-gram weights looked
  like what suggests "leaving" for a self-introduction): N=10 0.421 / 0.472 / 0.452, N=5 0.464 / 0.485 / 0.480.
- ``learned.min_calibration=8`` (raw sigmoid at 0.5 below 8 positives): 0.415 / 0.463 / 0.451.
- one threshold for every code: ``thresholds=0.4`` 0.452 / 0.459 / 0.477, ``thresholds=0.3`` 0.447 / 0.472 / 0.474.
- ``min_tuning=3`` or ``5``, ``learned.threshold=0.4`` or ``0.6``, ``learned.threshold_shrinkage=10``: identical to
  ``auto`` to the third decimal (the ensemble's thresholds decide, and they are tuned only on calibrated codes).
- the parts of a name-only code's name as more training rows ("Cleanliness, tidiness & infection control" ->
  "Cleanliness", "tidiness", "infection control"; split at & , ; and "and", in a working copy): frozen 0.475 /
  0.488 / 0.486 (+0.007), all 0.540 / 0.535 / 0.529 (+0.000); but tuned 0.520 / 0.480 / 0.484 -> 0.513 / 0.475 /
  0.477, a loss on every seed where the default tunes.
The NHS trust's own framework (the QDC website, ``The-Strategy-Unit/PatientExperience-QDC``) defines each theme
with a paragraph and examples; it was not used: its site carries no licence, its theme names are an earlier
version's (``Staffing levels & responsiveness`` for two of the data's themes), and its examples are comments from
the same trust, so they may be test comments.

    python -m bench.coding_dev --cache C --seeds 0 1 2 --train 20 --variants auto \
        "auto learned.lexical_min_positives=10" "auto learned.min_calibration=8" "auto thresholds=0.4" "auto min_tuning=3"
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from bench.coding import THREADS, DiskCachedEmbedder, _limit_threads, _split, load_nhs


def macro_f1(Y: np.ndarray, P: np.ndarray) -> float:
    """Macro-F1 over the columns of two boolean matrices (a column with no gold and no prediction scores 0)."""
    tp = (Y & P).sum(axis=0)
    denominator = Y.sum(axis=0) + P.sum(axis=0)
    return float(np.mean(np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)))


def tuned_embedder(codebook: object, texts: list[str], labels: list[list[str]], seed: int,
                   folder: Path | None = None, **options: object) -> object:
    """MiniLM fine-tuned on the fit part (as ``Project.fine_tune`` does on decisions); prints its cost.

    ``folder`` keeps tuned encoders between variants and runs (content-addressed: the same material and
    options are tuned once); ``options`` go to ``fine_tune`` (e.g. ``epochs``).
    """
    import tempfile

    from bench._util import peak_rss
    from qualkit.coding.finetune import tune_on

    folder = folder or Path(tempfile.mkdtemp(prefix="qualkit-dev-tuned-"))
    started = time.perf_counter()
    with peak_rss() as memory:
        tuned = tune_on(codebook, texts, labels, folder, seed=seed, threads=THREADS, **options)
    print(f"  fine-tuned on {tuned.info.get('texts')} texts ({tuned.info['objective']}, {options or 'defaults'}): "
          f"{time.perf_counter() - started:.0f} s, +{memory['added_mb']:.0f} MB", flush=True)
    return DiskCachedEmbedder(tuned.embedder())


class ConcatEmbedder:
    """Two embedders side by side (each unit vector scaled by 1/sqrt(2), so the cosine is their mean)."""

    kind = "local"

    def __init__(self, first: object, second: object) -> None:
        self.first, self.second = first, second
        self.name = f"{first.name}+{second.name}"
        self.version = ""

    @property
    def dim(self) -> int:
        return int(self.first.dim) + int(self.second.dim)

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        return np.hstack([self.first.encode(texts), self.second.encode(texts)]) / np.sqrt(2.0)


def _options(words: list[str]) -> tuple[dict[str, object], dict[str, object]]:
    """``C=1 ft.epochs=6 ft.objective=exclusive`` -> AutoCoder parameters and fine-tuning options (``ft.``)."""
    coder: dict[str, object] = {}
    tuning: dict[str, object] = {}
    for word in words:
        key, value = word.split("=")
        target, name = (tuning, key.removeprefix("ft.")) if key.startswith("ft.") else (coder, key)
        if value in ("True", "False", "None"):  # a switch, e.g. learned.tfidf=False
            target[name] = {"True": True, "False": False, "None": None}[value]
            continue
        try:
            number = float(value)
        except ValueError:  # a name, e.g. the objective
            target[name] = value
            continue
        target[name] = int(number) if number.is_integer() and not key.endswith("C") else number
    return coder, tuning


def dev_coder(codebook: object, embedder: object, params: dict[str, object], nlp: object = None) -> object:
    """The default coder with a variant's parameters; ``learned.X`` options go to its learned coder.

    ``AutoCoder`` exposes only ``C`` and ``cv`` of its learned coder; a variant that sets another learned
    parameter (``learned.embedding_weight=2``) runs the equivalent :class:`~qualkit.Ensemble` instead.
    """
    import qualkit as qk

    learned = {k.removeprefix("learned."): v for k, v in params.items() if k.startswith("learned.")}
    knn = {k.removeprefix("knn."): v for k, v in params.items() if k.startswith("knn.")}
    own = {k: v for k, v in params.items() if not k.startswith(("learned.", "knn."))}
    if not learned and not knn:
        return qk.AutoCoder(codebook, embedder=embedder, nlp=nlp, **own)
    default = qk.AutoCoder(codebook, **own)
    parts = dict(default.estimators)
    parts["learned"] = qk.LearnedCoder(C=default.C, cv=default.cv, **learned)
    if knn:
        parts["neighbours"] = qk.NeighbourCoder(**knn)
    # The AutoCoder's own settings carry over (its sentence_weight differs from Ensemble's default: left out,
    # ``learned.X`` variants once ran without it and lost 0.02-0.05 to ``auto`` for that alone).
    shared = set(qk.Ensemble().get_params(deep=False)) - {"codebook", "estimators", "weights", "embedder", "nlp"}
    ensemble = {k: v for k, v in default.get_params(deep=False).items() if k in shared}
    return qk.Ensemble(codebook, list(parts.items()), weights=default.weights, embedder=embedder, nlp=nlp,
                       **ensemble)


def _variant(name: str) -> tuple[str, dict[str, object], dict[str, object]]:
    """``auto tuned C=1 ft.epochs=6`` -> the mode (``""`` for frozen), AutoCoder parameters, tuning options."""
    words = name.split()
    mode = words[1] if len(words) > 1 and "=" not in words[1] else ""
    return (mode, *_options(words[2:] if mode else words[1:]))


def _carve(rows: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seed's development carve of a training part: 75 % to fit, 25 % to score."""
    order = np.random.RandomState(1000 + seed).permutation(rows)
    cut = int(0.75 * len(order))
    return order[:cut], order[cut:]


def tune_and_check(codebook: object, texts: list[str], labels: list[list[str]], folder: object, *, frozen: object,
                   make_coder: object, seed: int = 0, hold_out: float = 0.2, **options: object) -> tuple[str, dict]:
    """Tried and dropped (2026-12-05): tune on 80 % of the fit part, keep the tuned encoder only if the coder
    beats ``frozen`` on the other 20 % (macro-F1). Returns ``("tuned"|"frozen", scores)`` and the embedder.

    On the AnnoMI client development split it kept the tuned encoder on a 0.005 margin and lost 0.054 kappa
    to the frozen one; the 80 % tuning itself cost accuracy against tuning on everything.
    """
    from qualkit.coding.evaluate import evaluate_codes
    from qualkit.coding.finetune import tune_on

    order = np.random.default_rng(seed).permutation(len(texts))
    held = sorted(int(i) for i in order[:max(1, round(hold_out * len(texts)))])
    kept_back = set(held)
    fit = [i for i in range(len(texts)) if i not in kept_back]
    tuned = tune_on(codebook, [texts[i] for i in fit], [labels[i] for i in fit], folder, seed=seed, **options)
    tuned_embedder = DiskCachedEmbedder(tuned.embedder())
    codes = [c.id for c in codebook.codable_codes]
    gold = {i: labels[i] for i in held}
    scores = {}
    for name, embedder in (("frozen", frozen), ("tuned", tuned_embedder)):
        coder = make_coder(embedder).fit([texts[i] for i in fit], [labels[i] for i in fit])
        predicted = dict(zip(held, coder.predict([texts[i] for i in held]), strict=True))
        scores[name] = round(float(evaluate_codes(gold, predicted, codes=codes).set_index("code").loc["macro", "f1"]), 4)
    kept = "tuned" if scores["tuned"] > scores["frozen"] else "frozen"
    return kept, {**scores, "held_out": len(held), "embedder": tuned_embedder if kept == "tuned" else frozen}


def with_suggestions(codebook: object, texts: list[str], labels: list[list[str]], unlabelled: list[str],
                     embedder: object, params: dict, nlp: object = None) -> tuple[list[str], list[list[str]]]:
    """Tried and dropped (2026-12-06): the labelled texts plus every unlabelled one the coder suggests codes for,
    with its suggestions as labels (self-training material for a second tuning run)."""
    suggested = dev_coder(codebook, embedder, params, nlp).fit(texts, labels).predict(unlabelled)
    kept = [(text, codes) for text, codes in zip(unlabelled, suggested, strict=True) if codes]
    print(f"  suggestions for {len(kept)} of {len(unlabelled)} unlabelled texts join the tuning material", flush=True)
    return texts + [text for text, _ in kept], labels + [codes for _, codes in kept]


def with_sentences(texts: list[str], labels: list[list[str]], most: int = 1) -> tuple[list[str], list[list[str]]]:
    """The labelled texts plus, for each text with at most ``most`` codes and two or more sentences, each of
    its sentences as a text of its own with the text's codes (``augment=N``)."""
    import re

    more_texts, more_labels = list(texts), list(labels)
    for text, codes in zip(texts, labels, strict=True):
        if not codes or len(codes) > most:
            continue
        sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.strip()) > 3]
        if len(sentences) >= 2:
            more_texts += sentences
            more_labels += [list(codes)] * len(sentences)
    print(f"  {len(more_texts) - len(texts)} sentences join {len(texts)} texts", flush=True)
    return more_texts, more_labels


def variant_embedder(mode: str, codebook: object, texts: list[str], labels: list[list[str]], seed: int,
                     frozen: object, tuned_dir: Path | None, tuning: dict, params: dict, nlp: object = None,
                     unlabelled: list[str] | None = None) -> object:
    """The encoder of an ``auto`` variant: frozen (``""``), ``tuned``, ``concat`` (both), ``gated``
    (``tune_and_check``: tuned on 80 % of the fit part, kept only if the coder beats frozen on the rest) or
    ``pseudo`` (tuned, then tuned again with the tuned coder's suggestions for ``unlabelled``)."""
    import tempfile

    if mode == "pseudo":
        seed = int(tuning.pop("seed", seed))
        first = tuned_embedder(codebook, texts, labels, seed, tuned_dir, **tuning)
        more_texts, more_labels = with_suggestions(codebook, texts, labels, unlabelled or [], first, params, nlp)
        return tuned_embedder(codebook, more_texts, more_labels, seed, tuned_dir, **tuning)
    if mode in ("tuned", "concat"):
        tuned = tuned_embedder(codebook, texts, labels, int(tuning.pop("seed", seed)), tuned_dir, **tuning)
        return ConcatEmbedder(frozen, tuned) if mode == "concat" else tuned
    if mode == "gated":
        started = time.perf_counter()
        kept, check = tune_and_check(codebook, texts, labels, tuned_dir or tempfile.mkdtemp(), frozen=frozen,
                                     make_coder=lambda e: dev_coder(codebook, e, params, nlp),
                                     seed=seed, threads=THREADS, **tuning)
        chosen = check.pop("embedder")
        print(f"  checked tuning: kept {kept} {check} ({time.perf_counter() - started:.0f} s)", flush=True)
        return chosen
    return frozen


def dev_splits(case: str, seeds: list[int]) -> list[object]:
    """Development splits of another case: each reported split's *training* part, 75 % fit / 25 % dev.

    ``case`` is ``demo`` (the "3 sessions -> 1" splits), ``annomi-client`` or ``annomi-therapist`` (the
    "all training" splits of those seeds); the reported test parts are not read.
    """
    from dataclasses import replace

    from bench.coding import annomi_splits, demo_splits

    if case == "demo":
        reported = demo_splits()["3 sessions -> 1"]
        reported = [reported[i % len(reported)] for i in seeds]
    else:
        reported = annomi_splits(seeds, who=case.removeprefix("annomi-"))["all training"]
    out = []
    for seed, split in zip(seeds, reported, strict=True):
        fit, dev = _carve(np.arange(len(split.train_texts)), seed)
        out.append(replace(split, name=f"{case} dev {seed}", train_texts=[split.train_texts[i] for i in fit],
                           train_labels=[split.train_labels[i] for i in fit],
                           test_texts=[split.train_texts[i] for i in dev],
                           test_labels=[split.train_labels[i] for i in dev], unlabelled=[], extra={}))
    return out


def run_other_case(case: str, seeds: list[int], names: list[str], embedder: object, tuned_dir: Path | None) -> None:
    """The ``auto`` variants on :func:`dev_splits` of ``case``: kappa (exclusive codebooks) or per-code kappa."""
    from bench.coding import _nlp, score

    for seed, split in zip(seeds, dev_splits(case, seeds), strict=True):
        for name in names:
            started = time.perf_counter()
            mode, params, tuning = _variant(name)
            chosen = variant_embedder(mode, split.codebook, split.train_texts, split.train_labels, seed, embedder,
                                      tuned_dir, tuning, params, _nlp())
            coder = dev_coder(split.codebook, chosen, params, _nlp())
            coder.fit(split.train_texts, split.train_labels)
            figures = score(split, coder.predict(split.test_texts))
            metric = "kappa" if split.exclusive else "kappa_per_code"
            print(f"{split.name} ({len(split.train_texts)} fit, {len(split.test_texts)} dev) {name}: {metric} "
                  f"{figures[metric]:.3f} macro-F1 {figures['macro_f1']:.3f} ({time.perf_counter() - started:.0f} s)",
                  flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.coding_dev")
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--seeds", type=int, nargs="*", default=[0])
    parser.add_argument("--train", nargs="*", default=["all", "20"], help="'all' (the whole 75 %) or k per theme")
    parser.add_argument("--variants", nargs="*", default=None,
                        help="e.g. auto, 'auto C=1', 'auto tuned', 'auto tuned ft.epochs=6 similarity_weight=0.5'")
    parser.add_argument("--tuned-dir", type=Path, default=None, help="keep tuned encoders here between variants")
    parser.add_argument("--case", default="nhs", choices=["nhs", "demo", "annomi-client", "annomi-therapist"],
                        help="nhs (macro-F1), or development splits of another case's training parts")
    args = parser.parse_args(argv)
    _limit_threads()
    if args.case != "nhs":
        from qualkit.embeddings import MiniLMEmbedder

        embedder = DiskCachedEmbedder(MiniLMEmbedder(), args.cache)
        run_other_case(args.case, args.seeds, args.variants or ["auto", "auto tuned"], embedder, args.tuned_dir)
        embedder.save()
        return
    import qualkit as qk
    from bench.coding_variants import COMBINATIONS, blocks, combine
    from qualkit.embeddings import MiniLMEmbedder
    from qualkit.model import Code, Codebook

    texts, Y, themes = load_nhs()
    codebook = Codebook("nhs_fft", [Code(t, t) for t in themes])
    embedder = DiskCachedEmbedder(MiniLMEmbedder(), args.cache)
    names = args.variants or [*COMBINATIONS, "current"]
    for seed in args.seeds:
        train, _test = _split(len(texts), seed)  # the test part is not used
        fit_rows, dev_rows = _carve(train, seed)
        for amount in args.train:
            rows = fit_rows if amount == "all" else fit_rows[:int(amount) * len(themes)]
            fit_texts0 = fit_texts = [texts[i] for i in rows]
            fit_labels0 = fit_labels = [[themes[j] for j in np.nonzero(Y[i])[0]] for i in rows]
            dev_texts = [texts[i] for i in dev_rows]
            dev_Y = Y[dev_rows]
            parts = None
            for name in names:
                started = time.perf_counter()
                if name.startswith("auto"):  # "auto" / "auto tuned": the default coder, frozen or tuned encoder
                    mode, params, tuning = _variant(name)
                    augment = float(params.pop("augment", 0))
                    fit_texts, fit_labels = fit_texts0, fit_labels0
                    if augment:
                        fit_texts, fit_labels = with_sentences(fit_texts0, fit_labels0, int(augment))
                    chosen = variant_embedder(mode, codebook, fit_texts, fit_labels, seed, embedder, args.tuned_dir,
                                              tuning, params, unlabelled=[texts[i] for i in fit_rows[len(rows):]])
                    coder = dev_coder(codebook, chosen, params).fit(fit_texts, fit_labels)
                    predicted = coder.predict(dev_texts)
                elif name.startswith("current"):  # "current C=16 embedding_weight=2": LearnedCoder parameters
                    params = _options(name.split()[1:])[0]
                    coder = qk.LearnedCoder(codebook, embedder=embedder, **params).fit(fit_texts, fit_labels)
                    predicted = coder.predict(dev_texts)
                else:
                    if parts is None:
                        parts = blocks(codebook, embedder, fit_texts, fit_labels, dev_texts)
                    predicted = combine(parts, **COMBINATIONS[name])
                P = np.array([[t in set(p) for t in themes] for p in predicted])
                print(f"seed {seed} train {amount} ({len(rows)}) {name}: macro-F1 {macro_f1(dev_Y, P):.3f}"
                      f" ({time.perf_counter() - started:.0f} s)", flush=True)
        embedder.save()


if __name__ == "__main__":
    assert THREADS
    main()

"""Auto-coding a project: train on the team's decisions, suggest codes, rank the review queue, evaluate.

These functions do the work behind ``Project.autocode``, ``Project.train_coder``, ``Project.review_queue``,
``Project.fine_tune`` and ``Project.evaluate``. Loaded models (spaCy, MiniLM) and the fitted coder are kept
in the project's :class:`CodingResources` (``project.coding``) between calls, and embeddings are cached in
the project store, so re-running ``autocode`` after each review decision only refits the small classifiers.
When the project has a fine-tuned encoder for its current codebook version (``Project.fine_tune``), the
coders use it instead of the frozen one.

Training labels come from decisions: a segment with any accepted or rejected coding is *judged*; its
accepted codes are positives, its rejected codes and every other code negatives, except codes that
still have an undecided suggestion on it (unknown, left out).

Example:
    >>> import qualkit as qk
    >>> project = qk.Project.create("sqlite://", codebook="burnout", user="ana")
    >>> project.autocode(progress=False)
    []
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qualkit.errors import InvalidInput
from qualkit.model import Coding, Segment, withdrawn_by_author
from qualkit.progress import Progress, reporter

MACHINE_CODER = "auto"
CHUNK = 256  # segments coded (and reported) at a time


@dataclass
class CodingResources:
    """What a project keeps between coding calls: loaded models and the last fitted coder with its key.

    Example:
        >>> CodingResources().coder is None
        True
    """

    nlp: Any = None
    embedder: Any = None
    coder: Any = None
    coder_key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _state(project: Any) -> CodingResources:
    """The project's coding resources (created on first use; never module-level)."""
    if getattr(project, "coding", None) is None:
        project.coding = CodingResources()
    return project.coding


def attach_resources(project: Any, *, nlp: Any = None, embedder: Any = None) -> None:
    """Give a project object models loaded elsewhere (the app keeps them in ``st.cache_resource``).

    ``embedder`` may be an embedder object (e.g. ``CachedEmbedder(MiniLMEmbedder(), store=project.store)``)
    or ``"lsa"``. Models attached this way are shared, never copied.

    Example:
        >>> import qualkit as qk
        >>> project = qk.Project.create("sqlite://", codebook=None)
        >>> attach_resources(project, embedder="lsa")
        >>> project_resources(project)[1]
        'lsa'
    """
    state = _state(project)
    if nlp is not None:
        state.nlp = nlp
    if embedder is not None:
        state.embedder = embedder
        state.extra["attached"] = True


def project_resources(project: Any) -> tuple[Any, Any]:
    """The spaCy pipeline and the embedder the project's coders share (loaded once per project object).

    The embedder comes from :func:`qualkit.embeddings.resolve_embedder` (``QUALKIT_EMBEDDER`` or the coding
    default, MiniLM when installed) and caches vectors in the project store; for the LSA tier it is ``"lsa"``
    (refitted with each coder, since an LSA space belongs to the corpus it was fitted on). A fine-tuned
    encoder recorded for the current codebook version takes MiniLM's place (loaded lazily).
    """
    state = _state(project)
    if state.nlp is None:
        from qualkit.nlp import load_nlp

        state.nlp = load_nlp()
    tuned = tuned_encoder(project)
    if tuned is None and state.extra.get("tuned_key") and not state.extra.get("attached"):
        # The tuned encoder no longer applies (the codebook has a new version): back to the packaged one.
        state.embedder = None
        state.extra.pop("tuned_key")
    if tuned is not None and not state.extra.get("attached") and state.extra.get("tuned_key") != tuned.key:
        from qualkit.embeddings import CachedEmbedder

        state.embedder = CachedEmbedder(tuned, store=project.store)
        state.extra["tuned_key"] = tuned.key
    if state.embedder is None:
        from qualkit.embeddings import default_tier, resolve_embedder

        # The one resolver decides (QUALKIT_EMBEDDER or the coding default); an LSA space belongs to the corpus
        # it was fitted on, so "lsa" stays a name and each coder fits its own.
        tier = default_tier("coding")
        state.embedder = "lsa" if tier == "lsa" else resolve_embedder(tier, job="coding", store=project.store)
    return state.nlp, state.embedder


def judged_labels(store: Any, segment_ids: Sequence[int], codes: Sequence[str]) -> list[dict[str, bool] | None]:
    """Training labels per segment from the decisions in the store (``None`` for segments nobody judged).

    Example:
        >>> from qualkit.store.repository import Store
        >>> judged_labels(Store.create("sqlite://", name="x"), [1], ["a"])
        [None]
    """
    codable = set(codes)
    every = store.codings_df()
    # A passage its own author took back (undo, or remove) says nothing about the segment: kept as a
    # judgement, it made the segment a training example on which no code applies. (Read from every row:
    # a blind coder's rejection is told apart from a withdrawal by the suggestion it judges.)
    every = every.loc[~withdrawn_by_author(every) & ~every["source_id"].isin(blind_in_progress(store))]
    decided = every.loc[every["status"].isin(["accepted", "rejected"])]
    pending = every.loc[every["status"] == "suggested"]
    accepted: dict[int, set[str]] = {}
    rejected: dict[int, set[str]] = {}
    for seg, code, status in zip(decided["segment_id"], decided["code_id"], decided["status"], strict=True):
        (accepted if status == "accepted" else rejected).setdefault(int(seg), set()).add(code)
    undecided: dict[int, set[str]] = {}
    for seg, code in zip(pending["segment_id"], pending["code_id"], strict=True):
        undecided.setdefault(int(seg), set()).add(code)
    labels: list[dict[str, bool] | None] = []
    for seg in segment_ids:
        if seg not in accepted and seg not in rejected:
            labels.append(None)
            continue
        positive = accepted.get(seg, set()) & codable
        negative_explicit = rejected.get(seg, set()) - positive
        unknown = undecided.get(seg, set()) - positive - negative_explicit
        labels.append({code: code in positive for code in codes if code not in unknown})
    return labels


def _fingerprint(codebook: Any, labels: Sequence[Any], segment_ids: Sequence[int]) -> str:
    digest = hashlib.sha1(f"{codebook.name}@{codebook.version}".encode())
    for seg, label in zip(segment_ids, labels, strict=True):
        if label is not None:
            digest.update(f"{seg}:{sorted(label.items())}".encode())
    digest.update(str(len(segment_ids)).encode())
    return digest.hexdigest()


def train_project_coder(project: Any) -> tuple[Any, list[Segment]]:
    """Fit the AutoCoder on the project's participant segments and decisions (cached until they change)."""
    from qualkit.coding._base import Batch
    from qualkit.coding.ensemble import AutoCoder

    codebook = project.codebook
    segments = [s for s in project.store.segments() if s.is_participant]
    codes = [c.id for c in codebook.codable_codes]
    ids = [int(s.id) for s in segments]
    labels = judged_labels(project.store, ids, codes)
    state = _state(project)
    nlp, embedder = project_resources(project)
    key = _fingerprint(codebook, labels, ids) + f":{getattr(embedder, 'name', embedder)}"
    if state.coder_key == key:
        return state.coder, segments
    coder = AutoCoder(codebook, embedder=embedder, nlp=nlp)
    batch = Batch.build(segments, nlp=nlp)
    coder.fit(batch if segments else None, labels if segments and any(lab is not None for lab in labels) else None)
    state.coder, state.coder_key = coder, key
    return coder, segments


def blind_in_progress(store: Any) -> set[int]:
    """Transcripts being coded blind by coders not all done yet (their ids).

    Until every coder is done, the suggestions there stay as they are (each coder judges the same ones)
    and the coders' decisions there teach the learned coder nothing (the model would otherwise carry
    one coder's judgements into the other's suggestions).

    Example:
        >>> from qualkit.store.repository import Store
        >>> blind_in_progress(Store.create("sqlite://", name="b"))
        set()
    """
    from qualkit.store.assignments import assignments_df

    assigned = assignments_df(store)
    blind = assigned.loc[assigned["blind"]]
    return {int(source) for source, rows in blind.groupby("source_id") if not rows["done"].all()}


def untouched_segments(store: Any) -> set[int]:
    """Segments whose suggestions auto-coding leaves as they are.

    Those on transcripts coded blind where a coder has begun (both coders judge the same suggestions;
    before anyone begins, suggesting there is fine) or that every coder finished (nobody decides
    suggestions there any more), and those whose suggestions blind double-coders' own rows refer to.

    Example:
        >>> from qualkit.store.repository import Store
        >>> untouched_segments(Store.create("sqlite://", name="u"))
        set()
    """
    from qualkit.store.assignments import assignments_df

    everything = store.codings_df()
    if everything.empty:
        return set()
    blind = blind_in_progress(store)
    begun = set(everything.loc[(everything["origin"] == "human") & everything["source_id"].isin(blind), "source_id"])
    # A finished blind transcript is settled on the Double coding page, and nobody may decide a suggestion
    # there: new ones were orphans, counted as awaiting review with no card anywhere.
    assigned = assignments_df(store)
    assigned = assigned.loc[assigned["blind"].astype(bool)]
    begun |= {int(s) for s, rows in assigned.groupby("source_id") if rows["done"].astype(bool).all()}
    protected: set[int] = set()
    if begun:
        segments = store.segments_df()
        protected = set(segments.loc[segments["source_id"].isin(begun), "id"].astype(int))
    children = everything[everything["parent_id"].notna()]
    parents = everything[everything["id"].isin(children["parent_id"].astype(int))]
    return protected | set(int(s) for s in parents.loc[parents["status"] == "suggested", "segment_id"])


def autocode_project(project: Any, *, segment_ids: Iterable[int] | None = None,
                     progress: bool | Progress | None = True, fine_tune: bool | str = "auto") -> list[Coding]:
    """Suggest codes for the project's participant segments and store them (see ``Project.autocode``).

    ``progress`` is ``True`` (a progress bar), ``False``, or a callback ``(done, total, message)`` called
    after training and after every chunk of :data:`CHUNK` segments. Only undecided machine suggestions are
    refreshed; a (segment, code) that someone decided is never suggested again. A pending suggestion is
    rescored in place, even when its new score is below the threshold, and stays until a person decides it
    (one whose code is no longer coded is withdrawn); new ones above the threshold are added. ``fine_tune="auto"`` first
    tunes the encoder when :func:`tuning_due` (``True``: always, ``False``: never).
    """
    if fine_tune not in (True, False, "auto"):
        raise InvalidInput(f"fine_tune={fine_tune!r}", fix="use True, False or 'auto'")
    if fine_tune is True or (fine_tune == "auto" and tuning_due(project)):
        fine_tune_project(project, progress=progress)
    skipped = tuning_skipped(project) if fine_tune == "auto" else None
    report, close = reporter(progress, "auto-coding")
    try:
        if skipped:
            report(0, 0, skipped)
            if "switched off" not in skipped:  # not the user's choice: a warning too (a progress bar shows no messages)
                warnings.warn(skipped, UserWarning, stacklevel=4)
        return _autocode(project, segment_ids, report)
    finally:
        close()


def judged_count(project: Any) -> int:
    """How many participant segments carry at least one human decision under the current codebook.

    Example:
        >>> import qualkit as qk
        >>> judged_count(qk.Project.create("sqlite://", codebook=None))
        0
    """
    if project.store.settings.get("codebook") is None:
        return 0
    ids = [int(s.id) for s in project.store.segments() if s.is_participant]
    codes = [c.id for c in project.codebook.codable_codes]
    return sum(label is not None for label in judged_labels(project.store, ids, codes))


def tuning_due(project: Any) -> bool:
    """Whether autocode should fine-tune the encoder first (:func:`~qualkit.coding.finetune.auto_tune_due`).

    Only when coding uses MiniLM (not a tier or encoder someone chose instead) and enough segments are judged.

    Example:
        >>> import qualkit as qk
        >>> tuning_due(qk.Project.create("sqlite://", codebook=None))
        False
    """
    from qualkit.coding.finetune import auto_tune_due, tuning_applies

    # Counting the judged segments reads the decisions: only when tuning could happen at all.
    if _state(project).extra.get("attached") or not tuning_applies():
        return False
    judged = judged_count(project)
    if judged == 0:
        return False
    return auto_tune_due(judged, project.store.settings.get("encoder"), project.codebook.version)


def tuning_skipped(project: Any) -> str | None:
    """Why the encoder was not tuned although enough segments are judged (``None``: nothing was skipped).

    Example:
        >>> import qualkit as qk
        >>> tuning_skipped(qk.Project.create("sqlite://", codebook=None)) is None
        True
    """
    from qualkit.coding.finetune import AUTO_TUNE_FROM, AUTO_TUNE_OFF, auto_tuning_on

    if auto_tuning_on():
        return None
    judged = judged_count(project)
    if judged < AUTO_TUNE_FROM:
        return None
    if os.environ.get("QUALKIT_AUTO_FINE_TUNE", "").strip().lower() in AUTO_TUNE_OFF:
        why = "it is switched off (QUALKIT_AUTO_FINE_TUNE)"
    else:
        why = "torch, sentence-transformers or the packaged MiniLM is not installed (the embeddings extra)"
    embedder = project_resources(project)[1]
    return (f"{judged} segments are judged, but the encoder is not fine-tuned on them: {why}; "
            f"coding with the {getattr(embedder, 'name', embedder)} embeddings as they are")


def _autocode(project: Any, segment_ids: Iterable[int] | None, report: Progress) -> list[Coding]:
    report(0, 0, "training the coder on the decisions so far")
    coder, segments = train_project_coder(project)
    if not segments:
        return []
    if segment_ids is not None:
        wanted = {int(i) for i in segment_ids}
        unknown = wanted - {int(s.id) for s in project.store.segments(ids=sorted(wanted))}
        if unknown:
            raise InvalidInput(f"segments {sorted(unknown)[:5]} are not in project {project.name!r}",
                               fix="pass ids from project.segments()")
        segments = [s for s in segments if int(s.id) in wanted]
    protected = untouched_segments(project.store)
    segments = [s for s in segments if int(s.id) not in protected]
    if not segments:
        return []
    store = project.store
    decided = store.codings_df(segment_ids=[int(s.id) for s in segments]) if len(segments) < 5000 else store.codings_df()
    decided = decided.loc[~withdrawn_by_author(decided)]  # a hand code taken back by its coder decided nothing
    # A pending suggestion is rescored in place, even below its code's threshold: a retrain never withdraws one
    # only because its score fell (a reviewer's rejection of the same code elsewhere lowers it); the queue's
    # order sinks it until a person decides it. One whose code left the codebook is not scored, so it goes.
    taken: set[tuple[int, str]] = set()
    pending: set[tuple[int, str]] = set()
    for seg, code, status, origin in zip(decided["segment_id"], decided["code_id"], decided["status"],
                                         decided["origin"], strict=True):
        (pending if status == "suggested" and origin != "human" else taken).add((int(seg), code))
    pending -= taken
    version = project.codebook.version
    codings: list[Coding] = []
    total = len(segments)
    report(0, total, f"coding {total} segments")
    for start in range(0, total, CHUNK):
        part = segments[start:start + CHUNK]
        for coding in coder.predict_codings(part, coder=MACHINE_CODER, codebook_version=version, include=pending):
            if (coding.segment_id, coding.code_id) not in taken:
                codings.append(coding)
        report(min(start + CHUNK, total), total, f"coded {min(start + CHUNK, total)} of {total} segments")
    store.replace_suggestions(codings, segment_ids=[int(s.id) for s in segments], user=project.user,
                              details={"coder_settings": coder_settings(coder)})
    return codings


def coder_settings(coder: Any) -> dict[str, Any]:
    """What a study report needs to describe a fitted AutoCoder: embedder, parameters, versions, thresholds.

    Example:
        >>> import qualkit as qk
        >>> coder_settings(qk.AutoCoder("burnout", embedder="lsa").fit())["embedder"]
        'tfidf-lsa'
    """
    from qualkit.version import __version__

    params = {k: v for k, v in coder.get_params(deep=False).items() if k not in ("codebook", "nlp", "embedder")}
    fitted = getattr(coder, "embedder_", None)
    embedder = getattr(fitted, "name", None) or getattr(coder.embedder, "name", None) or str(coder.embedder)
    from qualkit.embeddings import describe_embedder

    described = describe_embedder(fitted if fitted is not None else coder.embedder)
    thresholds = np.asarray(getattr(coder, "thresholds_", []), dtype=float)
    return {
        "coder": MACHINE_CODER, "embedder": embedder, "embedder_kind": described["kind"],
        "embedder_version": described["version"], "params": params,
        "codebook": getattr(coder.codebook, "name", str(coder.codebook)),
        "codebook_version": getattr(coder, "codebook_version_", None), "qualkit_version": __version__,
        "thresholds": ({"min": round(float(thresholds.min()), 3), "max": round(float(thresholds.max()), 3),
                        "codes": int(thresholds.size)} if thresholds.size else None),
    }


# A user's whole queue, ranked here rather than page by page.
QUEUE_ALL = 10**9


def review_order(project: Any, n: int = 20, *, source: str | int | None = None,
                 code_id: str | None = None) -> pd.DataFrame:
    """The acting user's pending suggestions in active-learning order, with a ``priority`` column (1 = review first).

    The candidates are the user's own queue (:func:`qualkit.review.decisions.review_queue`, as in the app):
    on a transcript they code blind, only the suggestions they have not judged yet.
    """
    from qualkit.coding.active import rank_for_review
    from qualkit.review.decisions import review_queue

    source_id = None if source is None else int(project.store.source(source, with_raw=False).id)
    frame, _ = review_queue(project.store, actor=project.actor(), limit=QUEUE_ALL, source_id=source_id,
                            code_id=code_id)
    frame = frame.drop(columns="priority")
    frame = frame[frame["origin"] != "human"]
    if frame.empty:
        return frame.assign(priority=pd.Series(dtype=float)).reset_index(drop=True)
    coder, _ = train_project_coder(project)
    segment_ids = sorted({int(s) for s in frame["segment_id"]})
    segments = project.store.segments(ids=segment_ids)
    order, _ = rank_for_review(coder, segments, len(segments))
    ranked = [int(segments[i].id) for i in order]
    ranked += [int(s.id) for s in segments if int(s.id) not in set(ranked)]
    rank = {seg: position for position, seg in enumerate(ranked)}
    total = max(len(ranked), 1)
    frame = frame.assign(priority=[1.0 - rank.get(int(s), total) / total for s in frame["segment_id"]])
    frame = frame.assign(_score=frame["score"].fillna(0.0))
    frame = frame.sort_values(["priority", "_score", "id"], ascending=[False, False, True], kind="stable")
    return frame.drop(columns="_score").head(n).reset_index(drop=True)


def evaluate_project(project: Any, gold: Any, *, coder: str = "machine") -> pd.DataFrame:
    """Compare one coder's codings in the project with gold records (``source`` + ``start``/``end`` or ``turn``, ``codes``).

    ``coder="machine"`` (the default) takes what the auto-coder suggested, whatever a person decided about
    it since: a suggestion someone rejected still counts as the machine's, and a code a person added by hand
    does not. A user name (``"ana"``) takes the codings that person accepted or added; ``"machine:auto"`` or
    ``"origin:rules"`` a machine coder by name or origin (as in :func:`qualkit.analysis.reliability.reliability`).
    A stranger got perfect machine figures because the gold coder's own accepted codings counted as predictions.
    """
    from qualkit.analysis.reliability import judgements, resolve_coder
    from qualkit.coding.evaluate import evaluate_codes
    from qualkit.coding.records import match_records, read_coding_records

    records = read_coding_records(gold)
    gold_map, missing = match_records(project.store.segments_df(), records)
    if not gold_map:
        raise InvalidInput(f"none of the {len(records)} gold records matches a segment of the project",
                           fix="give records the project's source names with start/end offsets or turn numbers")
    codings = project.store.codings_df(segment_ids=sorted(gold_map))
    if coder == "machine":
        chosen = codings.loc[codings["origin"] != "human"]
        if chosen.empty and (project.store.codings_df()["origin"] == "human").all():
            raise InvalidInput("the study has no machine suggestions to evaluate",
                               fix="run autocode first, or pass coder='NAME' to evaluate a person's coding")
    else:
        chosen = judgements(codings, resolve_coder(project.store.codings_df(), coder))[0]
    pred: dict[int, list[str]] = {}
    for seg, code in zip(chosen["segment_id"], chosen["code_id"], strict=True):
        pred.setdefault(int(seg), []).append(code)
    table = evaluate_codes(gold_map, pred, codes=[c.id for c in project.codebook.codable_codes])
    table.attrs["unmatched_gold_records"] = missing
    table.attrs["coder"] = coder
    return table


def coder_summary(coder: Any) -> pd.DataFrame:
    """Per-code weights, thresholds and decision counts of a fitted AutoCoder (for notebooks and the app).

    Example:
        >>> import qualkit as qk
        >>> coder_summary(qk.AutoCoder("burnout", embedder="lsa").fit()).shape[0]
        24
    """
    return pd.DataFrame({
        "code": list(coder.codes_), "positives": np.asarray(coder.n_positive_),
        "negatives": np.asarray(coder.n_negative_), "learned_weight": np.round(coder.weights_, 3),
        "threshold": np.round(coder.thresholds_, 3),
    })


# ------------------------------------------------------------------ fine-tuned encoder
def model_folder(project: Any) -> Path:
    """Where a project's fine-tuned encoders live: beside an SQLite file (``<file>.models/``), else under
    ``$QUALKIT_MODEL_DIR`` (default ``~/.cache/qualkit/models``) in a folder named after the project.

    Example:
        >>> import qualkit as qk
        >>> model_folder(qk.Project.create("sqlite://", codebook=None)).name
        'default'
    """
    url = project.store.engine.url
    database = url.database if url.get_backend_name() == "sqlite" else None
    if database and database != ":memory:":
        return Path(database).with_name(Path(database).name + ".models")
    root = Path(os.environ.get("QUALKIT_MODEL_DIR", Path.home() / ".cache" / "qualkit" / "models"))
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in project.name) or "project"
    return root / safe


def tuned_encoder(project: Any) -> Any:
    """The project's fine-tuned encoder for its current codebook version, or ``None`` (then MiniLM is used).

    Example:
        >>> import qualkit as qk
        >>> tuned_encoder(qk.Project.create("sqlite://", codebook=None)) is None
        True
    """
    from qualkit.coding.finetune import load_encoder

    record = project.store.settings.get("encoder") or {}
    codebook = project.store.settings.get("codebook")
    if not record or codebook is None or record.get("codebook_version") != project.codebook.version:
        return None
    return load_encoder(record.get("path"))


def fine_tune_project(project: Any, *, seed: int = 0, max_pairs: int = 5000, per_text: int = 10,
                      max_examples: int = 8000, runs: int = 1,
                      progress: bool | Progress | None = True) -> dict[str, Any]:
    """Fine-tune the encoder on the project's decisions and codebook; record it for the codebook version.

    Returns what was recorded (key, folder, pairs, seconds, codebook version). The next ``autocode`` uses the
    tuned encoder; a new codebook version goes back to MiniLM until the encoder is tuned again.
    """
    from qualkit.coding.finetune import tune_on

    report, close = reporter(progress, "fine-tuning")
    try:
        codebook = project.codebook
        segments = [s for s in project.store.segments() if s.is_participant]
        codes = [c.id for c in codebook.codable_codes]
        labels = judged_labels(project.store, [int(s.id) for s in segments], codes)
        positives = [None if lab is None else [c for c, v in lab.items() if v] for lab in labels]
        report(0, 0, f"fine-tuning on {sum(p is not None for p in positives)} judged segments and the codebook")
        tuned = tune_on(codebook, [s.clean_text for s in segments], positives, model_folder(project), seed=seed,
                        max_pairs=max_pairs, per_text=per_text, max_examples=max_examples, runs=runs,
                        progress=report)
    finally:
        close()
    judged = sum(label is not None for label in labels)
    record = {"key": tuned.key, "path": str(tuned.path), "codebook": codebook.name, "judged": judged,
              "codebook_version": codebook.version, "pairs": tuned.info.get("pairs"),
              "objective": tuned.info.get("objective", "pairs"), "examples": tuned.info.get("examples"),
              "seconds": tuned.info.get("seconds"), "seed": seed, "runs": runs}
    project.store.update_settings(user=project.user, encoder=record)
    state = _state(project)
    state.coder = state.coder_key = None
    return record


def finetune_job(project: Any, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """The background job kind ``"finetune"``: ``fn(project, params, progress) -> dict`` for the worker.

    ``params`` may hold ``seed``, ``runs``, ``max_examples`` (classify objective), ``max_pairs`` and ``per_text``;
    ``auto`` (queued by the worker itself) skips the job when tuning is no longer due.

    Example:
        >>> finetune_job(project, {"seed": 0}, print)  # doctest: +SKIP
        {'key': '3f0c...', 'pairs': 2210, 'seconds': 61.2, ...}
    """
    if params.get("auto") and not tuning_due(project):  # queued automatically, done meanwhile
        return {"skipped": "tuning is no longer due (tuned on these decisions already, or switched off)"}
    options = {k: params[k] for k in ("seed", "runs", "max_pairs", "per_text", "max_examples") if k in params}
    return fine_tune_project(project, progress=progress, **options)

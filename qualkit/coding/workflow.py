"""Auto-coding a project: train on the team's decisions, suggest codes, rank the review queue, evaluate.

These functions do the work behind ``Project.autocode``, ``Project.train_coder``, ``Project.review_queue``
and ``Project.evaluate``. Loaded models (spaCy, MiniLM) and the fitted coder are kept on the project
object between calls, and embeddings are cached in the project store, so re-running ``autocode`` after
each review decision only refits the small per-code classifiers.

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
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from qualkit.errors import InvalidInput
from qualkit.model import Coding, Segment

MACHINE_CODER = "auto"
_STATE = "_coding_state"


def _state(project: Any) -> dict[str, Any]:
    """Per-project cache of loaded models and the last fitted coder (never module-level)."""
    state = project.__dict__.get(_STATE)
    if state is None:
        state = {}
        project.__dict__[_STATE] = state
    return state


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
        state["nlp"] = nlp
    if embedder is not None:
        state["embedder"] = embedder


def project_resources(project: Any) -> tuple[Any, Any]:
    """The spaCy pipeline and the embedder the project's coders share (loaded once per project object).

    With MiniLM installed the embedder caches vectors in the project store; otherwise it is ``"lsa"``
    (refitted with each coder, since an LSA space belongs to the corpus it was fitted on).
    """
    state = _state(project)
    if "nlp" not in state:
        from qualkit.nlp import load_nlp

        state["nlp"] = load_nlp()
    if "embedder" not in state:
        from qualkit.embeddings import CachedEmbedder, MiniLMEmbedder, minilm_available

        prefer = os.environ.get("QUALKIT_EMBEDDER", "auto").lower()
        if prefer != "lsa" and minilm_available():
            state["embedder"] = CachedEmbedder(MiniLMEmbedder(), store=project.store)
        else:
            state["embedder"] = "lsa"
    return state["nlp"], state["embedder"]


def judged_labels(store: Any, segment_ids: Sequence[int], codes: Sequence[str]) -> list[dict[str, bool] | None]:
    """Training labels per segment from the decisions in the store (``None`` for segments nobody judged).

    Example:
        >>> from qualkit.store.repository import Store
        >>> judged_labels(Store.create("sqlite://", name="x"), [1], ["a"])
        [None]
    """
    codable = set(codes)
    decided = store.codings_df(status=["accepted", "rejected"])
    pending = store.codings_df(status="suggested")
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
    key = _fingerprint(codebook, labels, ids)
    if state.get("coder_key") == key:
        return state["coder"], segments
    nlp, embedder = project_resources(project)
    coder = AutoCoder(codebook, embedder=embedder, nlp=nlp)
    batch = Batch.build(segments, nlp=nlp)
    coder.fit(batch if segments else None, labels if segments and any(lab is not None for lab in labels) else None)
    state.update(coder=coder, coder_key=key)
    return coder, segments


def _protected_segments(store: Any) -> set[int]:
    """Segments whose suggestions are referenced by blind double-coders' own rows: left untouched."""
    everything = store.codings_df()
    if everything.empty:
        return set()
    children = everything[everything["parent_id"].notna()]
    parents = everything[everything["id"].isin(children["parent_id"].astype(int))]
    return set(int(s) for s in parents.loc[parents["status"] == "suggested", "segment_id"])


def autocode_project(project: Any, *, segment_ids: Iterable[int] | None = None, progress: bool = True) -> list[Coding]:
    """Suggest codes for the project's participant segments and store them (see ``Project.autocode``)."""
    from tqdm.auto import tqdm

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
    protected = _protected_segments(project.store)
    segments = [s for s in segments if int(s.id) not in protected]
    if not segments:
        return []
    store = project.store
    decided = store.codings_df(segment_ids=[int(s.id) for s in segments]) if len(segments) < 5000 else store.codings_df()
    taken = {(int(seg), code) for seg, code, status, origin in zip(
        decided["segment_id"], decided["code_id"], decided["status"], decided["origin"], strict=True)
        if status != "suggested" or origin == "human"}
    version = project.codebook.version
    codings: list[Coding] = []
    chunk = 256
    with tqdm(total=len(segments), desc="auto-coding", unit="seg", disable=not progress, leave=False) as bar:
        for start in range(0, len(segments), chunk):
            part = segments[start:start + chunk]
            for coding in coder.predict_codings(part, coder=MACHINE_CODER, codebook_version=version):
                if (coding.segment_id, coding.code_id) not in taken:
                    codings.append(coding)
            bar.update(len(part))
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
    from qualkit import __version__

    params = {k: v for k, v in coder.get_params(deep=False).items() if k not in ("codebook", "nlp", "embedder")}
    fitted = getattr(coder, "embedder_", None)
    embedder = getattr(fitted, "name", None) or getattr(coder.embedder, "name", None) or str(coder.embedder)
    thresholds = np.asarray(getattr(coder, "thresholds_", []), dtype=float)
    return {
        "coder": MACHINE_CODER, "embedder": embedder, "params": params,
        "codebook": getattr(coder.codebook, "name", str(coder.codebook)),
        "codebook_version": getattr(coder, "codebook_version_", None), "qualkit_version": __version__,
        "thresholds": ({"min": round(float(thresholds.min()), 3), "max": round(float(thresholds.max()), 3),
                        "codes": int(thresholds.size)} if thresholds.size else None),
    }


def review_order(project: Any, n: int = 20, *, source: str | int | None = None,
                 code_id: str | None = None) -> pd.DataFrame:
    """Pending machine suggestions in active-learning order, with a ``priority`` column (1 = review first)."""
    from qualkit.coding.active import rank_for_review

    frame = project.store.codings_df(status="suggested", source=source, code_id=code_id)
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


def evaluate_project(project: Any, gold: Any, *, statuses: Sequence[str] = ("suggested", "accepted")) -> pd.DataFrame:
    """Compare the project's codings with gold records (``source`` + ``start``/``end`` or ``turn``, ``codes``).

    The project's codes for a segment are its codings with a status in ``statuses`` (by default the
    pending suggestions and the accepted codings; rejected ones never count).
    """
    from qualkit.coding.evaluate import evaluate_codes
    from qualkit.coding.records import match_records, read_coding_records

    records = read_coding_records(gold)
    gold_map, missing = match_records(project.store.segments_df(), records)
    if not gold_map:
        raise InvalidInput(f"none of the {len(records)} gold records matches a segment of the project",
                           fix="give records the project's source names with start/end offsets or turn numbers")
    codings = project.store.codings_df(status=list(statuses), segment_ids=sorted(gold_map))
    pred: dict[int, list[str]] = {}
    for seg, code in zip(codings["segment_id"], codings["code_id"], strict=True):
        pred.setdefault(int(seg), []).append(code)
    table = evaluate_codes(gold_map, pred, codes=[c.id for c in project.codebook.codable_codes])
    table.attrs["unmatched_gold_records"] = missing
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

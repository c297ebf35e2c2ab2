"""What every coder shares: the input batch (texts or segments), labels, scores and explanations.

Coders accept plain strings (offsets are then relative to each string) or :class:`~qualkit.model.Segment`
objects (offsets are absolute into the source text, and moderator turns are skipped unless
``code_moderators=True``). A :class:`Batch` is built once per call and shared by the components of an
ensemble, so the text is tokenised once and each sentence is embedded once.

Example:
    >>> batch = Batch.build(["I am exhausted. Truly.", "Paperwork."])
    >>> [len(s) for s in batch.sentence_spans]
    [2, 1]
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from qualkit.coding.params import check_is_fitted, validate_params
from qualkit.errors import InvalidCodebook, InvalidInput, did_you_mean
from qualkit.model import Codebook, Coding, Segment

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

Item = str | Segment
_WS = re.compile(r"\S")
# Turns longer than this are embedded sentence by sentence (best sentence, no truncation); shorter ones whole,
# which costs the same as the model's own encode of the turn.
LONG_TURN_CHARS = 300


def lemma_table(nlp: Language) -> Mapping[str, str]:
    """The lookup lemma table of a pipeline built by :func:`qualkit.nlp.load_nlp` (empty if it has none).

    Example:
        >>> from qualkit.nlp import load_nlp
        >>> lemma_table(load_nlp()).get("drained")
        'drain'
    """
    try:
        return nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
    except (KeyError, ValueError):
        return {}


def normalise_doc(doc: Doc, table: Mapping[str, str]) -> Doc:
    """Set each token's ``norm_`` to the lemma of its lower-cased form ("Exhausted" -> "exhaust").

    Matching on ``NORM`` then finds any inflection in any case, which spaCy's lookup lemmatizer alone
    does not (it looks up the text as written).

    Example:
        >>> from qualkit.nlp import load_nlp
        >>> nlp = load_nlp()
        >>> [t.norm_ for t in normalise_doc(nlp.make_doc("Exhausted nurses"), lemma_table(nlp))]
        ['exhaust', 'nurse']
    """
    get = table.get
    for token in doc:
        lower = token.lower_
        token.norm_ = get(lower, lower)
    return doc


@dataclass
class Batch:
    """The texts a coder reads, with their absolute offsets, which of them to code, and shared NLP results.

    ``texts`` hold each segment's ``clean_text`` (non-speech marks blanked), so character offsets inside a
    text plus ``offsets[i]`` are absolute offsets into the source. Docs, sentences and embeddings are
    computed on first use and reused by every coder of an ensemble.

    Example:
        >>> Batch.build(["So tired."]).offsets
        [0]
    """

    texts: list[str]
    offsets: list[int]
    active: np.ndarray
    index: list[Any]
    items: list[Any]
    nlp: Any = None
    _docs: list[Any] | None = None
    _sentences: list[list[tuple[int, int]]] | None = None
    _units: list[list[tuple[int, int]]] | None = None
    _vectors: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def build(cls, X: Iterable[Item] | Batch, *, code_moderators: bool = False, nlp: Language | None = None) -> Batch:
        """Turn strings or segments into a batch (a batch is passed through unchanged)."""
        if isinstance(X, Batch):
            return X
        if isinstance(X, str):
            raise InvalidInput("coders take a list of texts or segments, not one string",
                               fix="wrap the text in a list: coder.predict([text])")
        if isinstance(X, pd.Series):
            X = X.tolist()
        items = list(X)
        texts, offsets, active, index = [], [], [], []
        all_ids = bool(items)
        for position, item in enumerate(items):
            if isinstance(item, Segment):
                texts.append(item.clean_text)
                offsets.append(item.start)
                active.append(code_moderators or item.is_participant)
                index.append(item.id)
                all_ids = all_ids and item.id is not None
            elif isinstance(item, str):
                texts.append(item)
                offsets.append(0)
                active.append(True)
                index.append(position)
                all_ids = False
            elif item is None or (isinstance(item, float) and np.isnan(item)):
                texts.append("")
                offsets.append(0)
                active.append(False)
                index.append(position)
                all_ids = False
            else:
                raise InvalidInput(f"item {position} is a {type(item).__name__}, not a text or a Segment",
                                   fix="pass a list of strings or qualkit Segments")
        if not all_ids:
            index = list(range(len(items)))
        mask = np.array([a and bool(_WS.search(t)) for a, t in zip(active, texts, strict=True)], dtype=bool)
        return cls(texts=texts, offsets=offsets, active=mask, index=index, items=items, nlp=nlp)

    def __len__(self) -> int:
        return len(self.texts)

    def ensure_nlp(self) -> Language:
        """The spaCy pipeline (built on first use when none was given)."""
        if self.nlp is None:
            from qualkit.nlp import load_nlp

            self.nlp = load_nlp()
        return self.nlp

    @property
    def docs(self) -> list[Doc]:
        """Tokenised texts (inactive ones empty) whose token ``norm_`` is the lower-cased lemma."""
        if self._docs is None:
            nlp = self.ensure_nlp()
            table = lemma_table(nlp)
            disable = [name for name in nlp.pipe_names if name != "sentencizer"]
            texts = [t if a else "" for t, a in zip(self.texts, self.active, strict=True)]
            self._docs = [normalise_doc(doc, table) for doc in nlp.pipe(texts, batch_size=512, disable=disable)]
        return self._docs

    @property
    def sentence_spans(self) -> list[list[tuple[int, int]]]:
        """Character spans of each text's sentences (stripped), relative to the text."""
        if self._sentences is None:
            spans = []
            for doc in self.docs:
                sentences = []
                for sent in doc.sents if len(doc) else ():
                    start, end = sent.start_char, sent.end_char
                    chunk = doc.text[start:end]
                    stripped = chunk.strip()
                    if not stripped or not any(ch.isalnum() for ch in stripped):
                        continue
                    start += len(chunk) - len(chunk.lstrip())
                    sentences.append((start, start + len(stripped)))
                spans.append(sentences)
            self._sentences = spans
        return self._sentences

    @property
    def unit_spans(self) -> list[list[tuple[int, int]]]:
        """What gets embedded, per text: a short text whole, a long one (> ``LONG_TURN_CHARS``) by sentence."""
        if self._units is not None:
            return self._units
        units = []
        for text, active, sentences in zip(self.texts, self.active, self.sentence_spans, strict=True):
            if not active or not sentences:
                units.append([])
            elif len(sentences) == 1 or len(text.strip()) <= LONG_TURN_CHARS:
                units.append([(sentences[0][0], sentences[-1][1])])
            else:
                units.append(sentences)
        self._units = units
        return units

    def unit_vectors(self, embedder: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Embed every unit (see :attr:`unit_spans`) once; return (unit vectors, owner row of each, text vectors).

        A long text's vector is the length-weighted mean of its sentence vectors (normalised), so it is not
        truncated by the model's input limit and its best sentence can be found; nothing is encoded twice.
        """
        key = id(embedder)
        if key not in self._vectors:
            units, owners, weights = [], [], []
            for row, spans in enumerate(self.unit_spans):
                if not self.active[row]:
                    continue
                for start, end in spans:
                    units.append(self.texts[row][start:end])
                    owners.append(row)
                    weights.append(np.sqrt(end - start))
            owner = np.asarray(owners, dtype=np.int64)
            if units:
                vectors = np.asarray(embedder.encode(units), dtype=np.float32)
            else:  # nothing to embed: one throw-away text tells the width
                vectors = np.asarray(embedder.encode(["."]), dtype=np.float32)[:0]
            docs = np.zeros((len(self), vectors.shape[1]), dtype=np.float32)
            if len(units):
                np.add.at(docs, owner, vectors * np.asarray(weights, dtype=np.float32)[:, None])
                norms = np.linalg.norm(docs, axis=1, keepdims=True)
                norms[norms == 0] = 1.0
                docs /= norms
            self._vectors[key] = (vectors, owner, docs)
        return self._vectors[key]


@dataclass
class Explanation:
    """Why one code was scored for one text: evidence spans (relative to the text) and rationale phrases.

    Example:
        >>> Explanation([(0, 9)], ['cue "paperwork"']).rationale
        'cue "paperwork"'
    """

    evidence: list[tuple[int, int]] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)

    @property
    def rationale(self) -> str:
        """The phrases joined into one line."""
        return "; ".join(self.phrases)


@dataclass
class Scored:
    """The scores of a batch (rows x codable codes) and a way to explain any one of them."""

    scores: np.ndarray
    explain: Any  # Callable[[int, int], Explanation]
    origin: str = "ensemble"
    origin_of: Any = None  # Callable[[int, int], str] when the origin differs per score
    details: Any = None  # coder-specific evidence (rule hits, raw similarities) for an ensemble to use
    near_miss: np.ndarray | None = None  # (texts x codes) rule scores lowered because a cue reads like a near-miss


def label_matrix(y: Any, codes: Sequence[str], n: int | None = None) -> np.ndarray:
    """Labels as an int8 matrix (rows x codes): 1 = has the code, 0 = does not, -1 = not judged.

    ``y`` is a list with one entry per text: a list of code ids (the text has those and none of the
    others), a mapping ``{code_id: True/False}`` (only those codes were judged), or ``None`` (not judged);
    or a 0/1 array with one column per code.

    Example:
        >>> label_matrix([["a"], {"b": False}, None], ["a", "b"]).tolist()
        [[1, 0], [-1, 0], [-1, -1]]
    """
    if isinstance(y, pd.DataFrame):
        missing = [c for c in codes if c not in y.columns]
        extra = [c for c in y.columns if c not in codes]
        if extra:
            raise InvalidInput(f"labels name codes that are not in the codebook: {extra[:5]}",
                               fix="use the codebook's code ids as columns")
        matrix = np.full((len(y), len(codes)), 0, dtype=np.int8)
        for j, code in enumerate(codes):
            if code not in missing:
                matrix[:, j] = (y[code].to_numpy() > 0).astype(np.int8)
        return matrix
    if isinstance(y, np.ndarray) and y.ndim == 2:
        if y.shape[1] != len(codes):
            raise InvalidInput(f"label matrix has {y.shape[1]} columns for {len(codes)} codable codes",
                               fix="pass one column per codable code, in codebook order")
        return np.where(y < 0, -1, (y > 0)).astype(np.int8)
    entries = list(y)
    if n is not None and len(entries) != n:
        raise InvalidInput(f"{len(entries)} label entries for {n} texts", fix="pass one entry per text")
    column = {c: j for j, c in enumerate(codes)}
    matrix = np.full((len(entries), len(codes)), -1, dtype=np.int8)
    for row, entry in enumerate(entries):
        if entry is None:
            continue
        if isinstance(entry, str):
            entry = [entry]
        if isinstance(entry, Mapping):
            for code, value in entry.items():
                if code not in column:
                    raise _unknown_code(code, row, codes)
                matrix[row, column[code]] = 1 if value else 0
        else:
            matrix[row, :] = 0
            for code in entry:
                if code not in column:
                    raise _unknown_code(code, row, codes)
                matrix[row, column[code]] = 1
    return matrix


def _unknown_code(code: Any, row: int, codes: Sequence[str]) -> InvalidInput:
    return InvalidInput(f"label {row + 1} names the code {code!r}, which is not a codable code of the codebook",
                        fix=f"{did_you_mean(code, codes)}use one of the codebook's codable code ids")


class BaseCoder(BaseEstimator):
    """Shared behaviour of qualkit's coders (scikit-learn estimators over texts or segments).

    Subclasses implement ``fit`` (which starts with :meth:`_start_fit` and must set ``thresholds_``) and
    ``_score_batch(batch) -> Scored``. ``learns_from_labels`` tells an :class:`~qualkit.coding.Ensemble`
    whether the coder needs decisions (a learned coder) or scores from the codebook alone (a prior).

    Attributes common to every fitted coder:
        codes_: the codable code ids, in codebook order (the columns of every score matrix).
        codebook_version_: the version of the codebook the coder was fitted on.
        nlp_: the spaCy pipeline used (the one passed as ``nlp``, or the default pipeline).
        thresholds_: per-code score from which a code is predicted.
    """

    learns_from_labels = False

    # Parameters passed by reference by clone(): they hold loaded models or open stores.
    _shared_params: tuple[str, ...] = ("embedder", "nlp")

    def __sklearn_clone__(self) -> BaseCoder:
        params = self.get_params(deep=False)
        fresh = {k: v if k in self._shared_params else clone(v, safe=False) for k, v in params.items()}
        return type(self)(**fresh)

    _parameter_constraints: dict[str, list[Any]] = {}  # noqa: RUF012 - scikit-learn's convention

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        """A short repr: the codebook by name and version, never its whole content."""
        params = self.get_params(deep=False)
        book = params.get("codebook")
        if isinstance(book, Codebook):
            book = f"<Codebook {book.name!r} v{book.version}, {len(book.codable_codes)} codable codes>"
        shown = []
        defaults = type(self)().get_params(deep=False) if _constructible(type(self)) else {}
        for key, value in params.items():
            if key == "codebook":
                shown.append(f"{book}" if isinstance(book, str) and book.startswith("<") else f"{book!r}")
            elif key not in defaults or not _same(defaults[key], value):
                text = repr(value) if not hasattr(value, "encode") or isinstance(value, str) else type(value).__name__
                shown.append(f"{key}={text}")
        return f"{type(self).__name__}({', '.join(shown)})"

    # ------------------------------------------------------------------ helpers for fit
    def _start_fit(self) -> Codebook:
        """The preamble every ``fit`` shares: check the parameters and the codebook, set ``nlp_``, ``codes_``
        and ``codebook_version_``; returns the codebook."""
        validate_params(self)
        codebook = self._check_codebook()
        if self.nlp is None:
            from qualkit.nlp import load_nlp

            self.nlp_ = load_nlp()
        else:
            self.nlp_ = self.nlp
        self.codes_ = np.array([c.id for c in codebook.codable_codes], dtype=object)
        self.codebook_version_ = codebook.version
        return codebook

    def _fit_batch(self, X: Any) -> Batch | None:
        """The training texts as a batch sharing ``nlp_`` (``None`` when there are none)."""
        if X is None:
            return None
        batch = self._build_batch(X)
        if batch.nlp is None:
            batch.nlp = self.nlp_
        return batch

    def _check_codebook(self) -> Codebook:
        codebook = getattr(self, "codebook", None)
        if isinstance(codebook, str):
            from qualkit.codebook import load_codebook

            codebook = load_codebook(codebook)
        if not isinstance(codebook, Codebook):
            raise InvalidCodebook(f"a coder needs a Codebook, not {type(codebook).__name__}",
                                  fix="pass qk.Codebook.load('burnout') or a codebook file name")
        from qualkit.codebook import validate_codebook

        validate_codebook(codebook)
        if not codebook.codable_codes:
            raise InvalidCodebook(f"codebook {codebook.name!r} has no codable codes", fix="mark a code codable")
        return codebook

    def _build_batch(self, X: Any) -> Batch:
        nlp = getattr(self, "nlp_", None)
        return Batch.build(X, code_moderators=getattr(self, "code_moderators", False), nlp=nlp)

    def _score_batch(self, batch: Batch) -> Scored:  # pragma: no cover - abstract
        raise NotImplementedError

    def score_batch(self, batch: Batch) -> Scored:
        """Scores of a prepared batch (what an :class:`~qualkit.coding.Ensemble` asks each of its coders).

        Subclasses implement the ``_score_batch`` hook; callers in other modules use this.

        Example:
            >>> from qualkit.model import Codebook, Code
            >>> from qualkit.coding import RuleCoder
            >>> coder = RuleCoder(Codebook("m", [Code("tired", "Tired", cues=["exhausted"])])).fit()
            >>> coder.score_batch(Batch.build(["I am exhausted"])).scores.shape
            (1, 1)
        """
        return self._score_batch(batch)

    # ------------------------------------------------------------------ prediction API
    def scored(self, X: Any) -> tuple[Batch, Scored]:
        """The batch built from ``X`` and its scores (moderator turns zeroed unless coded); needs a fitted coder.

        Example:
            >>> from qualkit.model import Codebook, Code
            >>> from qualkit.coding import RuleCoder
            >>> coder = RuleCoder(Codebook("m", [Code("tired", "Tired", cues=["exhausted"])])).fit()
            >>> batch, scored = coder.scored(["I am exhausted", "fine"])
            >>> len(batch), scored.scores.shape
            (2, (2, 1))
        """
        return self._scored(X)

    def _scored(self, X: Any) -> tuple[Batch, Scored]:
        check_is_fitted(self, "codes_")
        batch = self._build_batch(X)
        if not len(batch):
            return batch, Scored(np.zeros((0, len(self.codes_)), dtype=np.float32), lambda i, j: Explanation())
        scored = self._score_batch(batch)
        scored.scores[~batch.active] = 0.0
        return batch, scored

    def predict_scores(self, X: Iterable[Item]) -> pd.DataFrame:
        """Scores in [0, 1] for every codable code: one row per text (indexed by segment id when known).

        Example:
            >>> from qualkit.model import Codebook, Code
            >>> from qualkit.coding import RuleCoder
            >>> cb = Codebook("m", [Code("tired", "Tired", cues=["exhausted"])])
            >>> round(float(RuleCoder(cb).fit().predict_scores(["I am exhausted"]).loc[0, "tired"]), 2)
            0.6
        """
        batch, scored = self._scored(X)
        return pd.DataFrame(scored.scores, index=pd.Index(batch.index, name="id"), columns=list(self.codes_))

    def _selected(self, scores: np.ndarray, threshold: float | None, top_k: int | None) -> np.ndarray:
        if top_k is not None and threshold is not None:
            raise InvalidInput("pass either top_k or threshold, not both", fix="choose one")
        if top_k is not None:
            if top_k < 1:
                raise InvalidInput(f"top_k must be at least 1, not {top_k}", fix="pass top_k=1 or more")
            order = np.argsort(-scores, axis=1, kind="stable")[:, :top_k]
            chosen = np.zeros_like(scores, dtype=bool)
            np.put_along_axis(chosen, order, True, axis=1)
            return chosen & (scores > 0)
        if threshold is not None:
            return scores >= threshold
        return scores >= np.asarray(self.thresholds_)[None, :]

    def decide(self, scores: np.ndarray | pd.DataFrame, *, threshold: float | None = None,
               top_k: int | None = None) -> np.ndarray:
        """Which codes a score matrix (from :meth:`predict_scores`) assigns: a boolean matrix of the same shape.

        Per-code thresholds by default (an exclusive coder: the single best code); a global ``threshold``;
        or the ``top_k`` best codes of each row.

        Example:
            >>> from qualkit.model import Codebook, Code
            >>> from qualkit.coding import RuleCoder
            >>> coder = RuleCoder(Codebook("m", [Code("tired", "Tired", cues=["exhausted"])])).fit()
            >>> coder.decide(coder.predict_scores(["so exhausted"])).tolist()
            [[True]]
        """
        check_is_fitted(self, "codes_")
        return self._selected(np.asarray(scores, dtype=float), threshold, top_k)

    def predict(self, X: Iterable[Item], *, threshold: float | None = None, top_k: int | None = None) -> list[list[str]]:
        """Code ids for each text: above each code's threshold (or a global ``threshold``, or the ``top_k`` best).

        Example:
            >>> from qualkit.model import Codebook, Code
            >>> from qualkit.coding import RuleCoder
            >>> cb = Codebook("m", [Code("tired", "Tired", cues=["exhausted"])])
            >>> RuleCoder(cb).fit().predict(["I was exhausted", "I never felt exhausted"])
            [['tired'], []]
        """
        _, scored = self._scored(X)
        chosen = self._selected(scored.scores, threshold, top_k)
        order = np.argsort(-scored.scores, axis=1, kind="stable")
        codes = list(self.codes_)
        return [[codes[j] for j in order[i] if chosen[i, j]] for i in range(len(chosen))]

    def predict_codings(
        self, X: Iterable[Item], *, threshold: float | None = None, top_k: int | None = None, coder: str = "auto",
        codebook_version: int | None = None, include: Collection[tuple[int, str]] = (),
    ) -> list[Coding]:
        """Suggested :class:`Coding` rows with score, origin, evidence (absolute offsets) and a rationale.

        ``segment_id`` is the segment's id (``None`` for plain texts). Spans cover the whole segment.
        ``include``: (segment id, code id) pairs to return whatever their score, even below the threshold
        (the pending suggestions a retrain rescores in place); pairs of codes the coder does not code are
        left out. Scored in the same pass as the rest.

        Example:
            >>> from qualkit.model import Codebook, Code
            >>> from qualkit.coding import RuleCoder
            >>> cb = Codebook("m", [Code("tired", "Tired", cues=["exhausted"])])
            >>> c = RuleCoder(cb).fit().predict_codings(["so exhausted"])[0]
            >>> c.evidence, c.rationale
            ([(3, 12)], 'cue "exhausted"')
            >>> seg = Segment("g.txt", 0, 4, "fine", id=9)
            >>> [(c.segment_id, c.code_id, c.score) for c in RuleCoder(cb).fit().predict_codings([seg], include={(9, "tired")})]
            [(9, 'tired', 0.0)]
        """
        batch, scored = self._scored(X)
        chosen = np.array(self._selected(scored.scores, threshold, top_k), dtype=bool, copy=True)
        codes = list(self.codes_)
        if include:
            column = {code: j for j, code in enumerate(codes)}
            wanted: dict[int, list[int]] = {}
            for segment_id, code_id in include:
                if code_id in column:
                    wanted.setdefault(int(segment_id), []).append(column[code_id])
            for i, item in enumerate(batch.items):
                if isinstance(item, Segment) and item.id is not None and int(item.id) in wanted:
                    chosen[i, wanted[int(item.id)]] = True
        version = codebook_version if codebook_version is not None else getattr(self, "codebook_version_", None)
        codings = []
        for i, j in zip(*np.nonzero(chosen), strict=True):
            explanation = scored.explain(int(i), int(j))
            base = batch.offsets[i]
            item = batch.items[i]
            origin = scored.origin_of(int(i), int(j)) if scored.origin_of is not None else scored.origin
            codings.append(Coding(
                segment_id=item.id if isinstance(item, Segment) else None, code_id=codes[j], origin=str(origin),
                status="suggested", score=round(float(scored.scores[i, j]), 4), coder=coder,
                evidence=[(base + s, base + e) for s, e in explanation.evidence], rationale=explanation.rationale,
                codebook_version=version))
        return codings


def _constructible(cls: type) -> bool:
    try:
        cls()
    except Exception:
        return False
    return True


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a is b or (type(a) is type(b) and a == b))
    except Exception:
        return False


def top_terms(text: str, terms: Sequence[str], limit: int = 2) -> list[tuple[str, tuple[int, int]]]:
    """Locate terms (words or short phrases) in a text, case-insensitively; first match of each.

    Example:
        >>> top_terms("Too much paperwork today", ["paperwork"])
        [('paperwork', (9, 18))]
    """
    found = []
    for term in terms:
        match = re.search(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in term.split()) + r"(?!\w)", text,
                          re.IGNORECASE)
        if match:
            found.append((term, match.span()))
        if len(found) >= limit:
            break
    return found


def resolve_embedder(spec: Any, corpus: Sequence[str] = ()) -> Any:
    """The embedder a coder uses, from :func:`qualkit.embeddings.resolve_embedder` (the one resolver, job "coding").

    ``spec`` is ``"auto"`` (MiniLM if installed, else TF-IDF/LSA), ``"minilm"``, ``"static"``, ``"lsa"``, a
    sentence-transformers folder path, or an embedder object (used as given). LSA is fitted on ``corpus``;
    new embedders get a per-text cache.

    Example:
        >>> resolve_embedder("lsa", ["night shifts", "paperwork at night", "night"]).name
        'tfidf-lsa'
    """
    from qualkit.embeddings import resolve_embedder as resolve

    if spec is not None and not isinstance(spec, str) and hasattr(spec, "encode") and not hasattr(spec, "fit"):
        return spec  # an embedder object (cached or not) is used as given
    return resolve(spec, job="coding", corpus=[t for t in corpus if t and t.strip()])


def prototypes(codebook: Codebook) -> tuple[list[str], list[int], list[str], list[str], list[int]]:
    """The texts a code is recognised by: (texts, code column, label) and its near-misses (texts, column).

    Labels read like "example 2" or "definition", for rationales.

    Example:
        >>> from qualkit.model import Code
        >>> prototypes(Codebook("m", [Code("a", "A", definition="Tired.", examples=["So tired"])]))[2]
        ['definition', 'example 1']
    """
    texts, columns, labels, near_texts, near_columns = [], [], [], [], []
    for j, code in enumerate(codebook.codable_codes):
        entries = []
        if code.definition.strip():
            entries.append(("definition", code.definition.strip()))
        if code.inclusion.strip():
            entries.append(("inclusion criteria", code.inclusion.strip()))
        entries += [(f"example {k}", e.strip()) for k, e in enumerate(code.examples, start=1) if e.strip()]
        if not entries:
            entries.append(("name", code.name))
        for label, text in entries:
            texts.append(text)
            columns.append(j)
            labels.append(label)
        for miss in code.near_misses:
            if miss.strip():
                near_texts.append(miss.strip())
                near_columns.append(j)
    return texts, columns, labels, near_texts, near_columns


def sentence_texts(batch: Batch) -> list[str]:
    """Every sentence of the active texts of a batch (for fitting a fallback embedder).

    Example:
        >>> sentence_texts(Batch.build(["Tired. Very."]))
        ['Tired.', 'Very.']
    """
    return [batch.texts[i][s:e] for i, spans in enumerate(batch.sentence_spans) if batch.active[i] for s, e in spans]

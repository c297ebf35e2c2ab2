"""Rule coder: the codebook's cue words and patterns, with negation and hypotheticals taken into account.

Cues are matched with spaCy ``PhraseMatcher``s on the lower-cased text and on lemmas (each token's
``norm_`` holds the lemma of its lower-cased form, so the cue "exhausted" also finds "Exhausting");
``patterns`` are regular expressions applied case-insensitively. A cue preceded in its own clause by a
negation ("I never felt isolated") or inside a hypothetical ("if I were burned out") counts for much
less (``negation="lower"``) or not at all (``negation="remove"``). Evidence is the matched tokens.

Example:
    >>> from qualkit.model import Codebook, Code
    >>> cb = Codebook("m", [Code("isolation", "Isolation", cues=["isolated"])])
    >>> coder = RuleCoder(cb).fit()
    >>> coder.predict(["I felt so isolated on nights.", "I never felt isolated, honestly."])
    [['isolation'], []]
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from qualkit.coding._base import BaseCoder, Batch, Explanation, Item, Scored, lemma_table, normalise_doc

NEGATORS = frozenset({
    "not", "n't", "never", "no", "nobody", "none", "nothing", "neither", "nor", "without", "hardly", "barely",
    "cannot", "nowhere", "nt",
})
HYPOTHETICALS = frozenset({"if", "unless", "suppose", "supposing", "imagine", "hypothetically"})
CLAUSE_BREAKS = frozenset({".", "!", "?", ";", ":", ",", "—", "–", "(", ")", '"', "but", "although", "though",
                           "however", "whereas", "yet", "because", "and", "while", "cause", "'cause"})
NEGATION_WINDOW = 6


def _intensifies(negator: str, between: list[str]) -> bool:
    """True when the negation strengthens instead of denying: "never been so tired", "couldn't be more"."""
    if negator == "never" and any(w in ("so", "this", "more", "such") for w in between):
        return True
    return negator in ("n't", "not", "nt") and ("more" in between or between[:1] in (["just"], ["only"]))


@dataclass(frozen=True, slots=True)
class Hit:
    """One cue or pattern match: where (relative character offsets), what, and whether it was negated."""

    start: int
    end: int
    label: str
    kind: str  # "cue" | "pattern"
    tokens: int
    modifier: str | None = None  # the negating or hypothetical word, if any


def clause_modifier(doc: Any, start: int, *, window: int = NEGATION_WINDOW) -> str | None:
    """The negation or hypothetical word governing the token at ``start`` within its clause, or ``None``.

    Looks back from the match to the start of its clause (punctuation, or a conjunction such as "but"):
    a negator within ``window`` tokens ("I never felt isolated") or a conditional anywhere in the clause
    ("if I were burned out") modifies the match; "as if", "even if" and intensifying negations ("never
    been so tired", "couldn't be more drained") do not.

    Example:
        >>> from qualkit.nlp import load_nlp
        >>> nlp = load_nlp()
        >>> clause_modifier(nlp.make_doc("I never felt isolated"), 3), clause_modifier(nlp.make_doc("never so isolated"), 2)
        ('never', None)
    """
    between: list[str] = []
    i = start - 1
    while i >= 0:
        token = doc[i]
        lower = token.lower_
        if lower in CLAUSE_BREAKS:
            break
        if lower in HYPOTHETICALS and not (lower == "if" and i > 0 and doc[i - 1].lower_ in ("as", "even")):
            return lower
        if len(between) < window and lower in NEGATORS and not _intensifies(lower, between[::-1]):
            return lower
        if token.is_sent_start:
            break
        between.append(lower)
        i -= 1
    return None


class RuleCoder(BaseCoder):
    """Score codes from the codebook's cues (lemmas and lower-cased text) and regular-expression patterns.

    Parameters:
        codebook: the codes and their ``cues``/``patterns``.
        negation: ``"lower"`` (multiply a negated or hypothetical match by ``negated_weight``),
            ``"remove"`` (ignore it) or ``"ignore"`` (count it like any other).
        cue_weight / phrase_weight / pattern_weight: how much one matching single-word cue, multi-word
            cue or pattern contributes; matches combine as ``1 - prod(1 - w)``.
        threshold: the score from which a code is predicted.
        code_moderators: code moderator turns too (segments only).

    Example:
        >>> from qualkit.model import Codebook, Code
        >>> cb = Codebook("m", [Code("admin", "Admin", cues=["paperwork"], patterns=[r"\\bprior auths?\\b"])])
        >>> RuleCoder(cb).fit().predict_codings(["Paperwork and prior auths"])[0].rationale
        'cue "paperwork"; pattern "prior auths"'
    """

    def __init__(
        self,
        codebook: Any = "burnout",
        *,
        negation: str = "lower",
        negated_weight: float = 0.15,
        cue_weight: float = 0.6,
        phrase_weight: float = 0.75,
        pattern_weight: float = 0.75,
        threshold: float = 0.5,
        code_moderators: bool = False,
        nlp: Any = None,
    ) -> None:
        self.codebook = codebook
        self.negation = negation
        self.negated_weight = negated_weight
        self.cue_weight = cue_weight
        self.phrase_weight = phrase_weight
        self.pattern_weight = pattern_weight
        self.threshold = threshold
        self.code_moderators = code_moderators
        self.nlp = nlp

    def fit(self, X: Iterable[Item] | None = None, y: Any = None) -> RuleCoder:
        """Compile the cue matchers and patterns of the codebook (``X`` and ``y`` are not needed)."""
        from spacy.matcher import PhraseMatcher

        from qualkit.errors import InvalidInput

        if self.negation not in ("lower", "remove", "ignore"):
            raise InvalidInput(f"negation={self.negation!r}", fix="use 'lower', 'remove' or 'ignore'")
        codebook = self._check_codebook()
        if self.nlp is None:
            from qualkit.nlp import load_nlp

            self.nlp_ = load_nlp()
        else:
            self.nlp_ = self.nlp
        codes = codebook.codable_codes
        self.codes_ = np.array([c.id for c in codes], dtype=object)
        self.codebook_version_ = codebook.version
        table = lemma_table(self.nlp_)
        self.lemma_matcher_ = PhraseMatcher(self.nlp_.vocab, attr="NORM")
        self.lower_matcher_ = PhraseMatcher(self.nlp_.vocab, attr="LOWER")
        self.cue_keys_: dict[int, tuple[int, str, int]] = {}
        self.patterns_: list[list[tuple[re.Pattern[str], str]]] = []
        for j, code in enumerate(codes):
            cues = [c.strip() for c in code.cues if c.strip()]
            for k, cue in enumerate(cues):
                key = f"{code.id}\x1f{k}"
                doc = normalise_doc(self.nlp_.make_doc(cue.lower()), table)
                self.lemma_matcher_.add(key, [doc])
                self.lower_matcher_.add(key, [doc])
                self.cue_keys_[self.nlp_.vocab.strings[key]] = (j, cue, len(doc))
            self.patterns_.append([(re.compile(p, re.IGNORECASE), p) for p in code.patterns])
        self.n_cues_ = np.array([len(c.cues) + len(c.patterns) for c in codes])
        self.thresholds_ = np.full(len(codes), self.threshold, dtype=float)
        return self

    # ------------------------------------------------------------------ scoring
    def _hits(self, batch: Batch) -> list[dict[int, list[Hit]]]:
        """Matches per text: {code column: [hits]} (one hit per distinct cue, the first unmodified one wins)."""
        results: list[dict[int, list[Hit]]] = []
        for row, doc in enumerate(batch.docs):
            per_code: dict[int, dict[str, Hit]] = {}
            if not batch.active[row] or not len(doc):
                results.append({})
                continue
            matches = {(m, s, e) for m, s, e in self.lemma_matcher_(doc)}
            matches |= {(m, s, e) for m, s, e in self.lower_matcher_(doc)}
            for match_id, s, e in sorted(matches, key=lambda m: (m[1], -m[2])):
                j, cue, _ = self.cue_keys_[match_id]
                hit = Hit(doc[s].idx, doc[e - 1].idx + len(doc[e - 1]), cue, "cue", e - s,
                          clause_modifier(doc, s))
                _keep(per_code.setdefault(j, {}), hit)
            text = batch.texts[row]
            for j, patterns in enumerate(self.patterns_):
                for pattern, source in patterns:
                    for match in pattern.finditer(text):
                        if match.end() <= match.start():
                            continue
                        span = doc.char_span(match.start(), match.end(), alignment_mode="expand")
                        modifier = clause_modifier(doc, span.start) if span is not None and len(span) else None
                        hit = Hit(match.start(), match.end(), source, "pattern", 2, modifier)
                        _keep(per_code.setdefault(j, {}), hit)
            results.append({j: list(hits.values()) for j, hits in per_code.items()})
        return results

    def _weight(self, hit: Hit) -> float:
        if hit.kind == "pattern":
            weight = self.pattern_weight
        else:
            weight = self.phrase_weight if hit.tokens > 1 else self.cue_weight
        if hit.modifier is not None:
            if self.negation == "remove":
                return 0.0
            if self.negation == "lower":
                weight *= self.negated_weight
        return weight

    def _score_batch(self, batch: Batch) -> Scored:
        if batch.nlp is None:
            batch.nlp = self.nlp_
        hits = self._hits(batch)
        scores = np.zeros((len(batch), len(self.codes_)), dtype=np.float32)
        for row, per_code in enumerate(hits):
            for j, code_hits in per_code.items():
                miss = 1.0
                for hit in code_hits:
                    miss *= 1.0 - self._weight(hit)
                scores[row, j] = 1.0 - miss

        def explain(i: int, j: int) -> Explanation:
            code_hits = hits[i].get(j, [])
            ordered = sorted(code_hits, key=lambda h: (h.modifier is not None, h.start))
            evidence = [(h.start, h.end) for h in ordered if h.modifier is None or self.negation == "ignore"]
            phrases = []
            for hit in ordered[:3]:
                label = hit.label if hit.kind == "cue" else batch.texts[i][hit.start:hit.end].lower()
                text = f'{hit.kind} "{label}"'
                if hit.modifier is not None:
                    text += f' ({"hypothetical" if hit.modifier in HYPOTHETICALS else "negated"}: "{hit.modifier}")'
                phrases.append(text)
            return Explanation(evidence, phrases)

        return Scored(scores, explain, origin="rules")

    def hits(self, X: Iterable[Item]) -> list[dict[str, list[Hit]]]:
        """The raw matches per text as ``{code_id: [Hit, ...]}`` (offsets relative to each text).

        Example:
            >>> from qualkit.model import Codebook, Code
            >>> cb = Codebook("m", [Code("a", "A", cues=["isolated"])])
            >>> RuleCoder(cb).fit().hits(["never isolated"])[0]["a"][0].modifier
            'never'
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "codes_")
        batch = self._build_batch(X)
        return [{str(self.codes_[j]): h for j, h in per.items()} for per in self._hits(batch)]


def _keep(hits: dict[str, Hit], hit: Hit) -> None:
    """Keep one hit per stretch of text and per cue: overlapping matches (``exhausted`` found through the
    cues "exhausted" and "exhausting", or "nothing left" inside "nothing left to give") count once, the
    unmodified or longer one winning."""
    for label, current in list(hits.items()):
        overlaps = hit.start < current.end and current.start < hit.end
        if overlaps or label == hit.label:
            better = (current.modifier is not None and hit.modifier is None) or (
                (current.modifier is None) == (hit.modifier is None) and hit.end - hit.start > current.end - current.start)
            if better:
                del hits[label]
                hits[hit.label] = hit
            return
    hits[hit.label] = hit

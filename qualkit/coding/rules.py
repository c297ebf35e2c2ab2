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

from qualkit.coding._base import (
    BaseCoder,
    Batch,
    Explanation,
    Item,
    Scored,
    lemma_table,
    normalise_doc,
)
from qualkit.coding.params import UNIT_INTERVAL, StrOptions, check_is_fitted

NEGATORS = frozenset({
    "not", "n't", "nt", "never", "no", "nobody", "none", "nothing", "neither", "nor", "without", "hardly", "barely",
    "nowhere", "noone", "cannot",
})
# Phrases that start with a negator but do not deny what follows ("not the only one who is exhausted").
NOT_DENIALS: tuple[tuple[str, ...], ...] = (
    ("not", "the", "only"), ("not", "only"), ("not", "just"), ("not", "merely"), ("not", "simply"),
    ("not", "to", "mention"), ("not", "gon", "na", "lie"), ("not", "going", "to", "lie"), ("not", "kidding"),
    ("not", "even", "kidding"), ("not", "get", "me", "wrong"), ("not", "a", "day", "goes", "by"),
    ("without", "a", "doubt"), ("without", "doubt"), ("without", "question"), ("without", "fail"),
    ("no", "doubt"), ("no", "question"), ("no", "wonder"), ("no", "end"), ("no", "joke"), ("no", "lie"),
    ("no", "matter"), ("nothing", "but"), ("never", "ending"), ("never", "-", "ending"), ("never", "ends"),
)
# Words that may sit between commas inside a clause without ending it ("I never, ever felt isolated").
INSERTIONS = frozenset({
    "ever", "really", "honestly", "truly", "actually", "frankly", "genuinely", "personally", "literally", "like",
    "um", "uh", "uhm", "erm", "er", "hmm", "well", "seriously", "basically", "obviously", "again", "once",
    "i", "mean", "you", "know", "to", "be", "honest", "think", "guess", "say", "at", "least", "for", "sure",
    "quite", "exactly", "totally", "just", "still", "even", "maybe", "perhaps", "probably", "sometimes",
})
HYPOTHETICALS = frozenset({"if", "unless", "suppose", "supposing", "imagine", "imagining", "hypothetically",
                           "pretend", "pretending"})
# "if" in these phrases is a figure of speech, not a condition ("if I'm honest", "as if").
IF_IDIOMS: tuple[tuple[str, ...], ...] = (
    ("if", "i", "'m", "honest"), ("if", "i", "am", "honest"), ("if", "i", "'m", "being", "honest"),
    ("if", "i", "am", "being", "honest"), ("if", "you", "ask", "me"), ("if", "that", "makes", "sense"),
    ("if", "anything"), ("if", "you", "know", "what", "i", "mean"), ("if", "i", "remember"),
    ("if", "i", "'m", "being", "real"), ("if", "that"), ("if", "not"), ("if", "you", "will"),
)
MODALS = frozenset({"would", "'d", "could", "might"})
MODAL_VERBS = frozenset({"be", "feel", "get", "become", "go", "end", "have", "start", "turn"})
INVERSIONS = frozenset({"had", "were", "should"})
SUBJECTS = frozenset({"i", "we", "you", "he", "she", "they", "it", "someone", "somebody", "one", "people",
                      "everyone", "everybody", "nobody", "there", "this", "that"})
PUNCT_BREAKS = frozenset({".", "!", "?", ";", ":", "—", "–", "--", "-", "(", ")", '"', "“", "”", "...", "…"})
WORD_BREAKS = frozenset({"but", "although", "though", "however", "whereas", "yet", "because", "cause", "'cause",
                         "while", "except", "until", "then"})
# "and"/"or" end a clause when a new subject follows ("... isolated and I ..."), not between two adjectives.
COORDINATORS = frozenset({"and", "or"})
SCOPE_BREAKS = frozenset({"how", "what", "who", "which", "whether", "why", "when", "where"})
NEGATION_WINDOW = 6


def _intensifies(negator: str, between: list[str]) -> bool:
    """True when the negation strengthens instead of denying: "never been so tired", "couldn't be more"."""
    if negator == "never" and any(w in ("so", "this", "more", "such") for w in between):
        return True
    return negator == "not" and ("more" in between or between[:1] in (["just"], ["only"]))


def _words(doc: Any) -> list[str]:
    """Lower-cased token texts with curly apostrophes straightened and "n't"/"nt" read as "not"."""
    words = []
    for token in doc:
        lower = token.lower_.replace("\u2019", "'")
        words.append("not" if lower in ("n't", "nt") else lower)
    return words


def _starts_with(words: list[str], i: int, phrases: tuple[tuple[str, ...], ...]) -> bool:
    return any(tuple(words[i:i + len(p)]) == p for p in phrases)


def _transparent_comma(words: list[str], c: int) -> bool:
    """A comma that does not end the clause: before an emphatic "ever"/"never", or around a short insertion
    of filler words (", honestly,", ", you know,")."""
    n = len(words)
    if c + 1 < n and words[c + 1] in ("ever", "never"):
        return True
    for step in (1, -1):
        k = c + step
        run = 0
        while 0 <= k < n and words[k] in INSERTIONS and run < 3:
            k += step
            run += 1
        if run and 0 <= k < n and words[k] == ",":
            return True
    return False


def _is_break(words: list[str], i: int) -> bool:
    word = words[i]
    if word in PUNCT_BREAKS or word in WORD_BREAKS:
        return True
    if word == ",":
        return not _transparent_comma(words, i)
    return word in COORDINATORS and i + 1 < len(words) and words[i + 1] in SUBJECTS


def clause_bounds(doc: Any, start: int, end: int | None = None, *, words: list[str] | None = None) -> tuple[int, int]:
    """Token range ``[first, last)`` of the clause holding tokens ``start:end``.

    A clause ends at sentence ends, dashes, brackets, semicolons and colons, at subordinating or contrasting
    conjunctions ("but", "because", "although"), at "and"/"or" when a new subject follows, and at commas,
    except commas around a short insertion ("I never, ever felt", "I have not, honestly, felt").

    Example:
        >>> from qualkit.nlp import load_nlp
        >>> doc = load_nlp().make_doc("I slept, but I was isolated")
        >>> clause_bounds(doc, 6)
        (4, 7)
    """
    words = _words(doc) if words is None else words
    end = start + 1 if end is None else end
    first = start
    while first > 0 and not _is_break(words, first - 1) and not doc[first].is_sent_start:
        first -= 1
    last = end
    while last < len(doc) and not _is_break(words, last) and not doc[last].is_sent_start:
        last += 1
    return first, last


def _answer_particle(words: list[str], i: int, first: int) -> bool:
    """A negator standing alone as an answer ("No, I was isolated", "Not really, ..."): it negates nothing after it."""
    if any(w not in INSERTIONS and w not in ("oh", "and", "so", "but") for w in words[first:i]):
        return False
    k = i + 1
    while k < len(words) and words[k] in ("really", "at", "all", "exactly", "quite"):
        k += 1
    return k < len(words) and words[k] == "," and not (k + 1 < len(words) and words[k + 1] in ("ever", "never"))


def clause_modifier(doc: Any, start: int, end: int | None = None, *, window: int = NEGATION_WINDOW,
                    words: list[str] | None = None) -> str | None:
    """The negation or hypothetical word governing tokens ``start:end`` within their clause, or ``None``.

    Negation: a negator up to ``window`` words before the match in its clause ("I never felt isolated",
    "I never, ever felt isolated"), unless it does not deny the match ("not the only one who is
    exhausted", "without a doubt", "no wonder", "never been so tired", "didn't realise how isolated",
    an answer such as "No, I was isolated"). Hypothetical: a condition anywhere in the clause, before or
    after the match ("if I were burned out", "I would be burned out if ...", "had I been isolated",
    "imagine being isolated"), but not "as if", "even if" or "if I'm honest".

    Example:
        >>> from qualkit.nlp import load_nlp
        >>> nlp = load_nlp()
        >>> clause_modifier(nlp.make_doc("I never felt isolated"), 3), clause_modifier(nlp.make_doc("never so isolated"), 2)
        ('never', None)
    """
    words = _words(doc) if words is None else words
    end = start + 1 if end is None else end
    first, last = clause_bounds(doc, start, end, words=words)
    # Negation: the closest negator before the match that really denies it.
    counted = 0
    for i in range(start - 1, first - 1, -1):
        word = words[i]
        if word in SCOPE_BREAKS:
            break
        if word not in INSERTIONS and word != ",":
            counted += 1
        if counted > window:
            break
        if word in NEGATORS and not _starts_with(words, i, NOT_DENIALS) and not _answer_particle(words, i, first) \
                and not _intensifies(word, words[i + 1:start]):
            return doc[i].lower_
    # Hypotheticals, before or after the match.
    for i in [*range(first, start), *range(end, last)]:
        word = words[i]
        if word in HYPOTHETICALS:
            if word == "if" and (_starts_with(words, i, IF_IDIOMS) or (i > 0 and words[i - 1] in ("as", "even"))):
                continue
            return doc[i].lower_
        if i < start and word in MODALS:
            verb = words[i + 2] if i + 2 < len(words) and words[i + 1] == "not" else words[i + 1] if i + 1 < len(words) else ""
            if verb in MODAL_VERBS:  # "would be", "'d feel", "couldn't be"
                return doc[i].lower_
    if words[first] in INVERSIONS and first + 1 < len(words) and words[first + 1] in SUBJECTS and first < start:
        return doc[first].lower_
    return None


@dataclass(frozen=True, slots=True)
class Hit:
    """One cue or pattern match: where (relative character offsets), what, and whether it was negated."""

    start: int
    end: int
    label: str
    kind: str  # "cue" | "pattern"
    tokens: int
    modifier: str | None = None  # the negating or hypothetical word, if any


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

    Attributes:
        lemma_matcher_, lower_matcher_: spaCy ``PhraseMatcher``s of the cues on lemmas and on lower-cased text.
        cue_keys_: matcher key -> (code column, cue, number of words).
        patterns_: per code, the compiled regular expressions with their source.
        n_cues_: cues and patterns per code.
        accepted_negations_, accepts_hypotheticals_: codes whose own cues are negated or hypothetical
            phrases (those are not lowered).
        thresholds_: per-code score from which a code is predicted.

    Example:
        >>> from qualkit.model import Codebook, Code
        >>> cb = Codebook("m", [Code("admin", "Admin", cues=["paperwork"], patterns=[r"\\bprior auths?\\b"])])
        >>> RuleCoder(cb).fit().predict_codings(["Paperwork and prior auths"])[0].rationale
        'cue "paperwork"; pattern "prior auths"'
    """

    _parameter_constraints = {  # noqa: RUF012 - scikit-learn's convention for parameter checks
        "negation": [StrOptions({"lower", "remove", "ignore"})], "negated_weight": [UNIT_INTERVAL],
        "cue_weight": [UNIT_INTERVAL], "phrase_weight": [UNIT_INTERVAL], "pattern_weight": [UNIT_INTERVAL],
        "threshold": [UNIT_INTERVAL], "code_moderators": ["boolean"],
    }

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

        codebook = self._start_fit()
        codes = codebook.codable_codes
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
        self._learn_accepted_modifiers(codes)
        return self

    def _learn_accepted_modifiers(self, codes: list[Any]) -> None:
        """Find where the codebook's own examples use a cue under negation or a condition, and accept it there.

        "There's no psychological safety" is an example of toxic culture, and proposals for organisational
        change are naturally conditional ("if we had protected time ..."): a cue that is negated in an
        example of its code is not lowered when negated, and a code whose examples put its cues in
        hypotheticals is not lowered for hypotheticals. Learned state: ``accepted_negations_`` (code
        column, cue) and ``accepts_hypotheticals_`` (code columns).
        """
        self.accepted_negations_: set[tuple[int, str]] = set()
        self.accepts_hypotheticals_: set[int] = set()
        examples = [(j, text) for j, code in enumerate(codes) for text in code.examples if text.strip()]
        if not examples:
            return
        batch = Batch.build([text for _, text in examples], nlp=self.nlp_)
        for (j, _), per_code in zip(examples, self._hits(batch), strict=True):
            for hit in per_code.get(j, []):
                if hit.modifier is not None and _is_negator(hit.modifier):
                    self.accepted_negations_.add((j, hit.label))
                elif hit.modifier is not None:
                    self.accepts_hypotheticals_.add(j)

    def _accepted(self, j: int, label: str, modifier: str | None) -> str | None:
        """The modifier of a hit, or ``None`` where the codebook's examples show it is part of the code."""
        if modifier is None or not hasattr(self, "accepted_negations_"):
            return modifier
        if _is_negator(modifier):
            return None if (j, label) in self.accepted_negations_ else modifier
        return None if j in self.accepts_hypotheticals_ else modifier

    # ------------------------------------------------------------------ scoring
    def _hits(self, batch: Batch) -> list[dict[int, list[Hit]]]:
        """Matches per text: {code column: [hits]} (one hit per distinct cue, the first unmodified one wins)."""
        results: list[dict[int, list[Hit]]] = []
        for row, doc in enumerate(batch.docs):
            per_code: dict[int, dict[str, Hit]] = {}
            if not batch.active[row] or not len(doc):
                results.append({})
                continue
            words: list[str] = []  # computed for the first match only: most texts match no cue

            def modifier(s: int, e: int, doc: Any = doc, words: list[str] = words) -> str | None:
                if not words:
                    words.extend(_words(doc))
                return clause_modifier(doc, s, e, words=words)

            matches = {(m, s, e) for m, s, e in self.lemma_matcher_(doc)}
            matches |= {(m, s, e) for m, s, e in self.lower_matcher_(doc)}
            for match_id, s, e in sorted(matches, key=lambda m: (m[1], -m[2])):
                j, cue, _ = self.cue_keys_[match_id]
                hit = Hit(doc[s].idx, doc[e - 1].idx + len(doc[e - 1]), cue, "cue", e - s,
                          self._accepted(j, cue, modifier(s, e)))
                _keep(per_code.setdefault(j, {}), hit)
            text = batch.texts[row]
            for j, patterns in enumerate(self.patterns_):
                for pattern, source in patterns:
                    for match in pattern.finditer(text):
                        if match.end() <= match.start():
                            continue
                        span = doc.char_span(match.start(), match.end(), alignment_mode="expand")
                        found = modifier(span.start, span.end) if span is not None and len(span) else None
                        hit = Hit(match.start(), match.end(), source, "pattern", 2, self._accepted(j, source, found))
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
                found = batch.texts[i][hit.start:hit.end]
                label = hit.label if hit.kind == "cue" else found.lower()
                text = f'{hit.kind} "{label}"'
                if hit.kind == "cue" and found.lower() != label.lower():
                    # the cue "leaving" on "technicians left": the word itself shows why (a stranger was puzzled)
                    text += f' (as "{found}")'
                if hit.modifier is not None:
                    kind = "negated" if _is_negator(hit.modifier) else "hypothetical"
                    text += f' ({kind}: "{hit.modifier}")'
                phrases.append(text)
            return Explanation(evidence, phrases)

        return Scored(scores, explain, origin="rules", details=hits)

    def hits(self, X: Iterable[Item]) -> list[dict[str, list[Hit]]]:
        """The raw matches per text as ``{code_id: [Hit, ...]}`` (offsets relative to each text).

        Example:
            >>> from qualkit.model import Codebook, Code
            >>> cb = Codebook("m", [Code("a", "A", cues=["isolated"])])
            >>> RuleCoder(cb).fit().hits(["never isolated"])[0]["a"][0].modifier
            'never'
        """
        check_is_fitted(self, "codes_")
        batch = self._build_batch(X)
        return [{str(self.codes_[j]): h for j, h in per.items()} for per in self._hits(batch)]


def broad_cues(codebook: Any, nlp: Any = None) -> list[str]:
    """Warnings for one-word cues whose lemma is a very common word (a stop word): "gone" matches every "go".

    Cues match on lemmas, so the cue "gone" finds every "go" ("No, you go."): a stranger's code got the
    most suggestions of all that way, and the codebook check said ok.

    Example:
        >>> from qualkit.model import Codebook, Code
        >>> found = broad_cues(Codebook("m", [Code("leave", "Leaving", cues=["gone", "quit"])]))
        >>> len(found), "every form of 'go'" in found[0]
        (1, True)
    """
    from qualkit.nlp import english_stopwords, load_nlp

    nlp = nlp or load_nlp()
    table = lemma_table(nlp)
    common = english_stopwords()
    warnings = []
    for code in codebook.codable_codes:
        for cue in (c.strip() for c in code.cues if c.strip()):
            doc = normalise_doc(nlp.make_doc(cue.lower()), table)
            lemma = doc[0].norm_ if len(doc) == 1 else ""
            if lemma in common and lemma != cue.lower():
                warnings.append(f"{code.id}: the cue {cue!r} matches every form of {lemma!r}, a very common word; "
                                f"write a pattern (\\b{re.escape(cue.lower())}\\b) to match only {cue!r}, or a "
                                "phrase of two or more words")
    return warnings


def _is_negator(word: str) -> bool:
    return word.replace("\u2019", "'") in NEGATORS


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

"""Distinctive words per group: weighted log-odds ratios with an informative Dirichlet prior.

Monroe, Colaresi & Quinn (2008), "Fightin' Words", eq. 16-22. For word w, group i and the comparison
j (all other groups, or one named group), with counts y, totals n and prior pseudo-counts α
(α₀ = Σ α_w):

    δ_w = log((y_wi + α_w) / (n_i + α₀ - y_wi - α_w)) - log((y_wj + α_w) / (n_j + α₀ - y_wj - α_w))
    σ²_w ≈ 1 / (y_wi + α_w) + 1 / (y_wj + α_w)
    z_w = δ_w / σ_w

By default the prior is informative from the corpus itself: α_w = ``prior_scale`` × (count of w in
all the talk analysed). A positive z means the group uses the word more than the comparison;
|z| > 1.96 is the usual cut-off.

Example:
    >>> import pandas as pd
    >>> segs = pd.DataFrame({"id": [1, 2], "text": ["pager pager pager night", "charting charting inbox"],
    ...                      "start": 0, "source": "g1", "speaker": ["A", "B"], "speaker_role": "participant",
    ...                      "kind": "turn", "role": ["resident", "attending"]})
    >>> top = distinctive_words(segs, by="role", min_count=1)
    >>> top.loc[top["group"] == "resident", "word"].iloc[0]
    'pager'
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from qualkit.analysis._common import clean_text, group_labels, require_columns, talk_segments
from qualkit.analysis.disclosure import guard_talk
from qualkit.errors import InvalidInput
from qualkit.nlp import english_stopwords

# Dotted abbreviations (a.m., p.m., e.g.) stay one token; otherwise runs of letters with inner apostrophes.
WORD = re.compile(r"(?<![^\W\d_])(?:[^\W\d_]\.){2,}|[^\W\d_]+(?:['’][^\W\d_]+)*")
# "3am", "3 pm", "11 a.m" -> "a.m." / "p.m." after a number, so times do not leave a stray "m" or "am".
CLOCK = re.compile(r"(?<=\d)\s?([ap])\.?m\b\.?", re.IGNORECASE)
MIN_TOKEN_LENGTH = 2
def tokenize(text: str, *, min_length: int = MIN_TOKEN_LENGTH) -> list[str]:
    """Lower-cased word tokens (letters with inner apostrophes, or dotted abbreviations such as ``a.m.``).

    Digits and punctuation are dropped, a time's "am"/"pm" becomes ``a.m.``/``p.m.``, and tokens shorter
    than ``min_length`` letters (stray single letters) are left out.

    Example:
        >>> tokenize("I can't; EHR-inbox at 3am, again at 2 p.m.!")
        ["can't", 'ehr', 'inbox', 'at', 'a.m.', 'again', 'at', 'p.m.']
    """
    text = CLOCK.sub(lambda m: f" {m.group(1).lower()}.m.", text.lower())
    tokens = (m.group(0).replace("’", "'") for m in WORD.finditer(text))
    return [t for t in tokens if len(t.replace(".", "")) >= min_length]


def name_words(names: Iterable[Any], *, tokenizer: Callable[[str], list[str]] | None = None) -> frozenset[str]:
    """The word tokens of people's names (speaker labels, pseudonyms, aliases), to leave out of word lists.

    Example:
        >>> sorted(name_words(["Luis", "Jill Smith, MD", None]))
        ['jill', 'luis', 'md', 'smith']
    """
    split = tokenizer or tokenize
    words: set[str] = set()
    for name in names:
        if isinstance(name, str) and name.strip():
            words.update(split(name))
    return frozenset(words)


def log_odds_dirichlet(
    counts_i: Mapping[str, float],
    counts_j: Mapping[str, float],
    prior: Mapping[str, float],
) -> pd.DataFrame:
    """Weighted log-odds δ, its variance and z for every word of ``prior`` (Monroe et al. 2008).

    ``prior`` holds the pseudo-counts α_w; ``counts_i``/``counts_j`` the two groups' word counts.

    Example:
        >>> r = log_odds_dirichlet({"tired": 3, "pager": 1}, {"tired": 1, "pager": 3}, {"tired": 4, "pager": 4})
        >>> round(float(r.loc["tired", "z"]), 4)
        1.1493
    """
    words = list(prior)
    alpha = np.array([float(prior[w]) for w in words])
    y_i = np.array([float(counts_i.get(w, 0)) for w in words])
    y_j = np.array([float(counts_j.get(w, 0)) for w in words])
    alpha0 = alpha.sum()
    n_i, n_j = float(sum(counts_i.values())), float(sum(counts_j.values()))
    delta = (np.log((y_i + alpha) / (n_i + alpha0 - y_i - alpha))
             - np.log((y_j + alpha) / (n_j + alpha0 - y_j - alpha)))
    variance = 1.0 / (y_i + alpha) + 1.0 / (y_j + alpha)
    return pd.DataFrame({"count": y_i.astype(int), "count_other": y_j.astype(int), "log_odds": delta,
                         "variance": variance, "z": delta / np.sqrt(variance)}, index=pd.Index(words, name="word"))


def distinctive_words(
    segments: pd.DataFrame,
    by: str = "role",
    *,
    versus: str | None = None,
    top: int | None = 20,
    min_count: int = 3,
    prior_scale: float = 1.0,
    prior: Mapping[str, float] | None = None,
    stopwords: Iterable[str] | str | None = "english",
    tokenizer: Callable[[str], list[str]] | None = None,
    include_moderator: bool = False,
    codings: pd.DataFrame | None = None,
    code: str | None = None,
    include_suggested: bool = False,
    names: Iterable[str] = (),
    drop_names: bool = True,
    min_cell: int = 1,
) -> pd.DataFrame:
    """Words each group of ``by`` uses more than the others, ranked by z-score.

    ``versus`` compares every group with one named group instead of all the rest. ``prior`` gives
    background counts (another corpus, say) instead of this corpus; α_w = ``prior_scale`` × count.
    Words seen fewer than ``min_count`` times in all the talk are left out. With ``codings`` and
    ``code`` only the segments carrying that code are read ("how do residents talk about workload").
    Non-speech marks such as ``(laughs)`` are blanked first. People's names never appear: with
    ``drop_names`` (default) the words of every speaker label and participant id in ``segments`` and
    of ``names`` (pass the participants' pseudonyms and aliases) are left out, because results are
    attributed by group, never by name. Returns one row per group and word, positive z first (``top``
    rows per group; ``None`` for all); ``rate_per_1000`` is per thousand words the group said (all words).
    ``min_cell`` (:mod:`qualkit.analysis.disclosure`): a group whose analysed talk comes from fewer people is
    merged into "Other (groups of fewer than N people)", or left out when too few even together
    (``result.attrs["notes"]`` says which); 1 shows every group.

    Example:
        >>> segs = pd.DataFrame({"id": [1, 2], "text": ["night pager night", "inbox inbox"], "start": 0,
        ...                      "source": "g1", "speaker": ["A", "B"], "speaker_role": "participant",
        ...                      "kind": "turn", "role": ["resident", "staff"]})
        >>> distinctive_words(segs, min_count=1, top=1)[["group", "word"]].values.tolist()
        [['resident', 'night'], ['staff', 'inbox']]
    """
    require_columns(segments, ["id", "text"], "segments")
    talk = talk_segments(segments, include_moderator=include_moderator).copy()
    if codings is not None and code is not None:
        from qualkit.analysis._common import counted_codings

        coded = counted_codings(codings, include_suggested=include_suggested, codes=[code])
        talk = talk.loc[talk["id"].isin(set(coded["segment_id"]))]
    talk["_group"] = group_labels(talk, by)
    # The people whose words are read: within one code, only those who spoke on it.
    guard = guard_talk(talk, talk["_group"], min_cell=min_cell, by=by)
    if guard.active:  # the words of a group of one or two people are that person's words
        talk["_group"] = guard.relabel(talk["_group"])
        talk = talk.loc[talk["_group"].notna()]
        if versus is not None and versus in guard.merged + guard.suppressed:
            raise InvalidInput(f"the group {versus!r} under {by!r} has fewer than {guard.min_cell} people, so its "
                               "words are not compared on their own",
                               fix=f"compare with another group, or with {guard.other!r} where shown")
        if versus is not None and versus in guard.joined:
            raise InvalidInput(f"the group {versus!r} under {by!r} is shown inside {guard.other!r}, so that a "
                               "smaller group's words cannot be worked out from the others",
                               fix=f"compare with another group, or with {guard.other!r}")
    stop = english_stopwords() if stopwords == "english" else frozenset(stopwords or ())
    split = tokenizer or tokenize
    dropped_names: frozenset[str] = frozenset()
    if drop_names:
        people = [*names]
        for column in ("speaker", "participant"):
            if column in segments:
                people.extend(segments[column].dropna().unique().tolist())
        dropped_names = name_words(people, tokenizer=split)
        stop = stop | dropped_names
    starts = talk["start"] if "start" in talk else pd.Series(0, index=talk.index)
    marks = talk["marks"] if "marks" in talk else pd.Series(None, index=talk.index)
    counts: dict[str, Counter[str]] = {}
    spoken: Counter[str] = Counter()  # every word each group said, stop words included: the rate's base
    for group, text, start, mark in zip(talk["_group"], talk["text"], starts, marks, strict=True):
        words = split(clean_text(str(text), int(start), mark))
        spoken[group] += len(words)
        counts.setdefault(group, Counter()).update(t for t in words if t not in stop)
    total: Counter[str] = Counter()
    for c in counts.values():
        total.update(c)
    vocabulary = {w: n for w, n in total.items() if n >= min_count}
    columns = ["group", "word", "count", "count_other", "rate_per_1000", "log_odds", "z"]
    if versus is not None and versus not in counts:
        raise InvalidInput(f"no group {versus!r} under {by!r}", fix=f"use one of {sorted(counts)}")
    # One word is every group's whole vocabulary: there is nothing to contrast (its log-odds divide by zero).
    if len(vocabulary) < 2 or len(counts) < 2:
        empty = pd.DataFrame(columns=columns)
        empty.attrs["notes"] = guard.notes
        return empty
    if prior is None:
        alpha = {w: prior_scale * n for w, n in vocabulary.items()}
    else:
        alpha = {w: prior_scale * float(prior.get(w, 0)) or 0.01 for w in vocabulary}
    frames = []
    for group in sorted(counts):
        if group == versus:
            continue
        own = {w: n for w, n in counts[group].items() if w in vocabulary}
        if versus is None:
            other: Counter[str] = Counter()
            for g, c in counts.items():
                if g != group:
                    other.update(c)
        else:
            other = counts[versus]
        other_counts = {w: n for w, n in other.items() if w in vocabulary}
        scored = log_odds_dirichlet(own, other_counts, alpha).reset_index()
        scored["rate_per_1000"] = 1000.0 * scored["count"] / max(spoken[group], 1)
        scored.insert(0, "group", group)
        scored = scored.loc[scored["count"] > 0].sort_values(["z", "word"], ascending=[False, True])
        frames.append(scored.head(top) if top else scored)
    result = pd.concat(frames, ignore_index=True)[columns]
    result.attrs.update(by=by, versus=versus or "rest", prior_scale=prior_scale, min_count=min_count,
                        names_dropped=len(dropped_names), min_cell=guard.min_cell, notes=guard.notes,
                        method="weighted log-odds, informative Dirichlet prior (Monroe et al. 2008)")
    return result

"""Inter-coder reliability between two or more coders, human or machine, with bootstrap intervals.

Units are segments. A human coder X's judgement of a segment is what CONTRIBUTING.md defines: rows
with ``status == "accepted"`` and (``coder == X`` or ``decided_by == X``); rows X rejected are explicit
negatives, and a code X did not apply is absent. A machine coder (a coder name such as ``auto`` whose
rows are all machine-made, or an origin such as ``ensemble``) judges by its suggestions, whatever a
human later decided. Each code is a yes/no decision per segment (multi-label coding handled per
code), so every statistic is computed per code and pooled over codes:

- percent agreement (share of units where all coders agree) and exact match (all codes agree);
- Cohen's kappa (two coders; mean pairwise "Light's" kappa for more), pooled over codes as in
  De Vries et al. (2008): mean observed and mean chance agreement, then kappa;
- Fleiss' kappa (1971), pooled over codes by stacking unit × code decisions;
- Krippendorff's alpha, nominal (the ``krippendorff`` package for the point estimate), pooled by
  stacking;
- Gwet's AC1 (2008), pooled by stacking: chance agreement from the category shares as
  ``sum_k pi_k (1 - pi_k) / (q - 1)``, so a rare code that both coders almost never apply does not drive
  agreement towards zero as kappa does (the "kappa paradox" of high agreement and low kappa).

95% intervals are percentile intervals of a seeded bootstrap over units (each replicate resamples
segments with replacement and recomputes every statistic). Only transcripts every coder worked on
count (or the ``sources`` given). A segment a coder *judged* — applied or rejected any code on it
(a machine coder: suggested any code) — is a coded unit: a rejection is an explicit negative, so a
segment whose only decisions are rejections is a real "no" and stays in. Segments no coder judged
at all are excluded by default — including them inflates agreement and kappa; the output states
which was done and how many units each coder judged.

Example:
    >>> round(cohen_kappa_table([[20, 5], [10, 15]]), 4)
    0.4
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from qualkit.analysis._common import code_names, code_order, require_columns, talk_segments
from qualkit.display import counted
from qualkit.errors import InvalidInput
from qualkit.model import CONSENSUS, ORIGINS, Codebook, withdrawn_by_author

# ---------------------------------------------------------------------------------------------------------
# Textbook statistics on plain arrays


def cohen_kappa_table(table: Sequence[Sequence[float]] | np.ndarray) -> float:
    """Cohen's (1960) kappa from a square agreement table (rows: coder A's categories, columns: coder B's).

    Returns NaN when chance agreement is 1 (both coders used a single, identical category).

    Example:
        >>> round(cohen_kappa_table([[45, 15], [25, 15]]), 4)
        0.1304
    """
    t = np.asarray(table, dtype=float)
    if t.ndim != 2 or t.shape[0] != t.shape[1]:
        raise InvalidInput(f"an agreement table must be square, not {t.shape}")
    n = t.sum()
    po = np.trace(t) / n
    pe = float((t.sum(axis=1) * t.sum(axis=0)).sum() / n**2)
    return float("nan") if np.isclose(pe, 1.0) else float((po - pe) / (1 - pe))


def cohen_kappa(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Cohen's kappa between two coders' labels for the same units (any hashable labels).

    Example:
        >>> cohen_kappa(["y", "y", "n", "n"], ["y", "n", "n", "n"])
        0.5
    """
    if len(a) != len(b):
        raise InvalidInput(f"the two coders rated {len(a)} and {len(b)} units", fix="pass labels for the same units")
    labels = sorted(set(a) | set(b), key=str)
    index = {label: i for i, label in enumerate(labels)}
    table = np.zeros((len(labels), len(labels)))
    for x, y in zip(a, b, strict=True):
        table[index[x], index[y]] += 1
    return cohen_kappa_table(table)


def fleiss_kappa(counts: Sequence[Sequence[float]] | np.ndarray) -> float:
    """Fleiss' (1971) kappa from a units × categories table of how many raters chose each category.

    Every unit must have the same number of raters.

    Example:
        >>> round(fleiss_kappa([[0, 2], [2, 0], [1, 1]]), 4)
        0.3333
    """
    x = np.asarray(counts, dtype=float)
    raters = x.sum(axis=1)
    if not np.allclose(raters, raters[0]) or raters[0] < 2:
        raise InvalidInput("Fleiss' kappa needs the same number (two or more) of raters for every unit")
    n_units, m = x.shape[0], raters[0]
    p_unit = ((x * x).sum(axis=1) - m) / (m * (m - 1))
    p_bar = p_unit.mean()
    p_cat = x.sum(axis=0) / (n_units * m)
    pe = float((p_cat**2).sum())
    return float("nan") if np.isclose(pe, 1.0) else float((p_bar - pe) / (1 - pe))


def krippendorff_alpha(data: Sequence[Sequence[Any]] | np.ndarray, level: str = "nominal") -> float:
    """Krippendorff's alpha (``krippendorff`` package) for coders × units data; None/NaN is missing.

    Returns NaN when alpha is undefined (fewer than two distinct values).

    Example:
        >>> krippendorff_alpha([[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]).__round__(3)
        0.095
    """
    import krippendorff

    if isinstance(data, np.ndarray) and data.dtype.kind in "fiub":
        array = data.astype(float)
    else:
        array = np.array([[np.nan if v is None else v for v in row] for row in data], dtype=float)
    try:
        return float(krippendorff.alpha(reliability_data=array, level_of_measurement=level))
    except ValueError:  # one value only in the domain: alpha is undefined
        return float("nan")


def gwet_ac1(counts: Sequence[Sequence[float]] | np.ndarray) -> float:
    """Gwet's (2008) AC1 from a units × categories table of how many raters chose each category.

    Agreement is Fleiss' (pairs of raters agreeing per unit); chance agreement is
    ``sum_k pi_k (1 - pi_k) / (q - 1)`` over the ``q`` categories, which stays small when one category
    dominates, so rare codes keep a meaningful coefficient. Every unit needs two or more raters.

    Example:
        >>> round(gwet_ac1([[0, 2], [0, 2], [0, 2], [1, 1]]), 4)
        0.68
    """
    x = np.asarray(counts, dtype=float)
    raters = x.sum(axis=1)
    if (raters < 2).any():
        raise InvalidInput("Gwet's AC1 needs two or more raters for every unit")
    q = x.shape[1]
    p_unit = ((x * (x - 1)).sum(axis=1)) / (raters * (raters - 1))
    pa = float(p_unit.mean())
    pi = (x / raters[:, None]).mean(axis=0)
    pe = float((pi * (1 - pi)).sum() / (q - 1)) if q > 1 else 1.0
    return float("nan") if np.isclose(pe, 1.0) else float((pa - pe) / (1 - pe))


def percent_agreement(data: Sequence[Sequence[Any]] | np.ndarray) -> float:
    """Share of units (columns) on which every coder (row) gave the same value.

    Example:
        >>> percent_agreement([[1, 0, 1, 1], [1, 0, 0, 1]])
        0.75
    """
    array = np.asarray(data, dtype=object)
    if array.size == 0:
        return float("nan")
    return float(np.mean([len(set(column)) == 1 for column in array.T]))


# ---------------------------------------------------------------------------------------------------------
# Fast binary statistics with unit weights (weights = 1 for the estimate, bootstrap counts for intervals)


def _unit_quantities(values: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Per-unit sums from a units × coders 0/1 matrix: [1, agree, n1, n1², c_1..c_m, c_a·c_b for pairs]."""
    n_units, m = values.shape
    n1 = values.sum(axis=1)
    agree = ((n1 == 0) | (n1 == m)).astype(float)
    pairs = list(itertools.combinations(range(m), 2))
    columns = [np.ones(n_units), agree, n1, n1**2, *[values[:, k] for k in range(m)],
               *[values[:, a] * values[:, b] for a, b in pairs]]
    return np.column_stack(columns).astype(float), pairs


def _binary_statistics(sums: np.ndarray, m: int, pairs: list[tuple[int, int]]) -> dict[str, np.ndarray]:
    """Statistics from summed unit quantities (``sums``: replicates × quantities)."""
    n = sums[:, 0]
    s_agree, s_n1, s_n1sq = sums[:, 1], sums[:, 2], sums[:, 3]
    coder = sums[:, 4:4 + m]
    joint = sums[:, 4 + m:]
    with np.errstate(divide="ignore", invalid="ignore"):
        agreement = s_agree / n
        # Fleiss: sum over units of n_c(n_c - 1) for c in {0, 1}, with n_0 = m - n_1.
        s_n0sq = n * m * m - 2 * m * s_n1 + s_n1sq
        p_bar = (s_n1sq + s_n0sq - n * m) / (n * m * (m - 1))
        p1 = s_n1 / (n * m)
        pe_fleiss = p1**2 + (1 - p1) ** 2
        fleiss = np.where(np.isclose(pe_fleiss, 1.0), np.nan, (p_bar - pe_fleiss) / (1 - pe_fleiss))
        # Gwet's AC1 (two categories): chance agreement 2 p1 (1 - p1), small when a code is rare.
        pe_gwet = 2 * p1 * (1 - p1)
        ac1 = np.where(np.isclose(pe_gwet, 1.0), np.nan, (p_bar - pe_gwet) / (1 - pe_gwet))
        # Krippendorff, nominal, complete data: o_01 = sum n1 n0 / (m - 1).
        total = n * m
        o01 = (m * s_n1 - s_n1sq) / (m - 1)
        big_n1, big_n0 = s_n1, total - s_n1
        alpha = np.where(big_n0 * big_n1 == 0, np.nan, 1 - (total - 1) * o01 / (big_n0 * big_n1))
        po = np.empty((sums.shape[0], len(pairs)))
        pe = np.empty_like(po)
        for k, (a, b) in enumerate(pairs):
            pa, pb = coder[:, a] / n, coder[:, b] / n
            po[:, k] = (n - coder[:, a] - coder[:, b] + 2 * joint[:, k]) / n
            pe[:, k] = pa * pb + (1 - pa) * (1 - pb)
        kappas = np.where(np.isclose(pe, 1.0), np.nan, (po - pe) / (1 - pe))
    return {"percent_agreement": agreement, "fleiss_kappa": fleiss, "krippendorff_alpha": alpha, "gwet_ac1": ac1,
            "po": po, "pe": pe, "pair_kappa": kappas}


def _interval(replicates: np.ndarray) -> tuple[float, float]:
    finite = replicates[np.isfinite(replicates)]
    if finite.size < max(10, 0.5 * replicates.size):
        return float("nan"), float("nan")
    low, high = np.percentile(finite, [2.5, 97.5])
    return float(low), float(high)


def _mean_kappa(kappas: np.ndarray) -> np.ndarray:
    """Mean pairwise kappa per replicate (Light's kappa); NaN where every pair is undefined."""
    if kappas.shape[1] == 1:
        return kappas[:, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(kappas, axis=1)


def _replicate_statistics(
    quantities: dict[str, np.ndarray], exact: np.ndarray, weights: np.ndarray, m: int, pairs: list[tuple[int, int]]
) -> dict[str | None, dict[str, np.ndarray]]:
    """Per-code and pooled (key ``None``) statistics for each row of unit ``weights`` (replicates × units)."""
    result: dict[str | None, dict[str, np.ndarray]] = {}
    pooled_sums = 0.0
    po_sum = pe_sum = 0.0
    for code, q in quantities.items():
        sums = weights @ q
        stats = _binary_statistics(sums, m, pairs)
        stats["cohen_kappa"] = _mean_kappa(stats["pair_kappa"])
        result[code] = stats
        pooled_sums = pooled_sums + sums
        po_sum, pe_sum = po_sum + stats["po"], pe_sum + stats["pe"]
    pooled = _binary_statistics(np.asarray(pooled_sums), m, pairs)
    # De Vries et al. (2008): mean observed and mean chance agreement over codes, then kappa.
    po, pe = np.asarray(po_sum) / len(quantities), np.asarray(pe_sum) / len(quantities)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled["cohen_kappa_pooled"] = _mean_kappa(np.where(np.isclose(pe, 1.0), np.nan, (po - pe) / (1 - pe)))
    pooled["exact_match"] = (weights @ exact) / weights.sum(axis=1)
    result[None] = pooled
    return result


def _bootstrap(quantities: dict[str, np.ndarray], exact: np.ndarray, m: int, pairs: list[tuple[int, int]],
               n_units: int, n_boot: int, seed: int, *, max_cells: int = 4_000_000) -> dict[str | None, dict[str, np.ndarray]]:
    """Statistics of ``n_boot`` seeded resamples of units, drawn in chunks so memory stays bounded."""
    rng = np.random.default_rng(seed)
    chunk = max(1, min(n_boot, max_cells // max(n_units, 1)))
    parts: list[dict[str | None, dict[str, np.ndarray]]] = []
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        weights = rng.multinomial(n_units, np.full(n_units, 1.0 / n_units), size=size).astype(float)
        parts.append(_replicate_statistics(quantities, exact, weights, m, pairs))
    return {key: {stat: np.concatenate([part[key][stat] for part in parts], axis=0) for stat in parts[0][key]}
            for key in parts[0]}


# ---------------------------------------------------------------------------------------------------------
# Coders and their judgements


@dataclass(frozen=True)
class Coder:
    """Who is compared: a human (by user name) or a machine (by coder name or by origin).

    Example:
        >>> Coder.parse("origin:ensemble")
        Coder(name='ensemble', kind='machine', match='origin')
    """

    name: str
    kind: str = "human"
    match: str = "coder"

    @classmethod
    def parse(cls, spec: str | Coder) -> Coder:
        """``"ana"`` (auto-detected), ``"human:ana"``, ``"machine:auto"`` or ``"origin:ensemble"``.

        Example:
            >>> Coder.parse("machine:auto").kind
            'machine'
        """
        if isinstance(spec, Coder):
            return spec
        prefix, _, rest = spec.partition(":")
        if rest and prefix in ("human", "machine", "origin"):
            if prefix == "origin":
                return cls(rest, "machine", "origin")
            return cls(rest, prefix, "coder")
        return cls(spec, "auto", "coder")

    @property
    def label(self) -> str:
        """How the coder is named in tables."""
        return self.name


def resolve_coder(codings: pd.DataFrame, spec: str | Coder) -> Coder:
    """Decide whether a coder is human or machine from the codings (unless the spec says so).

    Example:
        >>> c = pd.DataFrame({"coder": ["auto"], "origin": ["rules"], "decided_by": [None], "status": ["suggested"]})
        >>> resolve_coder(c, "auto").kind
        'machine'
    """
    coder = Coder.parse(spec)
    if coder.kind != "auto":
        return coder
    own = codings.loc[codings["coder"] == coder.name]
    decided = (codings["decided_by"] == coder.name).any()
    if not own.empty or decided:
        human = decided or (own["origin"] == "human").any()
        return Coder(coder.name, "human" if human else "machine", "coder")
    if coder.name in ORIGINS and coder.name != "human" and (codings["origin"] == coder.name).any():
        return Coder(coder.name, "machine", "origin")
    known = sorted(set(codings["coder"].dropna()) | set(codings["decided_by"].dropna()))
    raise InvalidInput(f"no codings by coder {coder.name!r}",
                       fix=f"use one of {known}, or 'origin:<origin>' for a machine coder by origin" if known else
                       "nobody has coded or decided anything yet: compare coders once they have")


def judgements(codings: pd.DataFrame, coder: Coder) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A coder's positive (segment, code) pairs, explicit rejections, and every row they made or decided.

    Example:
        >>> c = pd.DataFrame({"segment_id": [1, 2], "code_id": ["a", "b"], "coder": ["auto", "auto"],
        ...                   "origin": ["rules", "rules"], "status": ["accepted", "rejected"],
        ...                   "decided_by": ["ana", "ana"]})
        >>> pos, neg, _ = judgements(c, Coder("ana"))
        >>> pos["code_id"].tolist(), neg["code_id"].tolist()
        (['a'], ['b'])
    """
    if coder.kind == "machine":
        column = codings["origin"] if coder.match == "origin" else codings["coder"]
        touched = codings.loc[(column == coder.name) & (codings["origin"] != "human")]
        positive = touched
        negative = touched.iloc[0:0]
    else:
        # A hand code its own coder took back is no judgement: counted as their "no", it overrode their accept
        # of the suggestion on the same words, and kappa fell.
        # (Without parent ids a table cannot tell a blind coder's rejection from a withdrawal: all count.)
        kept = ~withdrawn_by_author(codings) if "parent_id" in codings else pd.Series(True, index=codings.index)
        touched = codings.loc[((codings["coder"] == coder.name) | (codings["decided_by"] == coder.name)) & kept]
        # The coder's own row decides a (segment, code): a suggestion they decided in place before the
        # transcript was assigned blind, then judged afresh in their own row, counted both ways.
        own = touched["coder"] == coder.name
        ruled = pd.MultiIndex.from_frame(touched.loc[own, ["segment_id", "code_id"]])
        pairs = pd.MultiIndex.from_frame(touched[["segment_id", "code_id"]])
        touched = touched.loc[own | ~pairs.isin(ruled)]
        positive = touched.loc[touched["status"] == "accepted"]
        negative = touched.loc[touched["status"] == "rejected"]
    keys = ["segment_id", "code_id"]
    return positive[keys].drop_duplicates(), negative[keys].drop_duplicates(), touched


# ---------------------------------------------------------------------------------------------------------
# The analysis over a project's frames


@dataclass
class Reliability:
    """The result of :func:`reliability`: per-code and pooled statistics, pairs, disagreements, settings.

    Example:
        >>> Reliability(coders=[], per_code=pd.DataFrame(), overall=pd.DataFrame()).statement
        ''
    """

    coders: list[Coder]
    per_code: pd.DataFrame
    overall: pd.DataFrame
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame)
    disagreements: pd.DataFrame = field(default_factory=pd.DataFrame)
    units: pd.DataFrame = field(default_factory=pd.DataFrame)
    settings: dict[str, Any] = field(default_factory=dict)
    statement: str = ""

    def summary(self) -> str:
        """The statement followed by the pooled statistics, as plain text.

        Example:
            >>> Reliability(coders=[], per_code=pd.DataFrame(), overall=pd.DataFrame()).summary()
            ''
        """
        if self.overall.empty:
            return self.statement
        lines = [self.statement, ""]
        for row in self.overall.itertuples(index=False):
            lines.append(f"{row.statistic}: {_fmt(row.value)} (95% CI {_fmt(row.ci_low)} to {_fmt(row.ci_high)})")
        return "\n".join(lines)

    def pooled(self) -> dict[str, float]:
        """The pooled statistics as ``{statistic: value}`` (``cohen_kappa_pooled``, ``krippendorff_alpha``, ...).

        Example:
            >>> Reliability(coders=[], per_code=pd.DataFrame(), overall=pd.DataFrame(
            ...     {"statistic": ["gwet_ac1"], "value": [0.9]})).pooled()
            {'gwet_ac1': 0.9}
        """
        if self.overall.empty:
            return {}
        return {str(k): float(v) for k, v in zip(self.overall["statistic"], self.overall["value"], strict=True)}

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return f"<p>{self.statement}</p>" + self.overall.to_html(index=False) + self.per_code.to_html(index=False)


def _fmt(value: float) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.3f}"


def reliability(
    segments: pd.DataFrame,
    codings: pd.DataFrame,
    coders: Sequence[str | Coder],
    *,
    codes: Sequence[str] | None = None,
    codebook: Codebook | None = None,
    sources: Sequence[str] | None = None,
    finished: Sequence[str] = (),
    uncoded: str = "exclude",
    include_moderator: bool = False,
    n_boot: int = 1000,
    seed: int = 0,
) -> Reliability:
    """Agreement between ``coders`` (two or more; names, ``machine:NAME`` or ``origin:ORIGIN``) on segments.

    ``uncoded`` is ``exclude`` (default) or ``include`` for segments that no coder coded; ``sources``
    limits the transcripts (default: those every coder worked on, and the ``finished`` ones: transcripts
    every coder marked done, which count even where a coder applied no code); ``codes`` limits the codes
    (default: every code a coder used there, in codebook order). ``n_boot=0`` skips the intervals.

    Example:
        >>> segs = pd.DataFrame({"id": [1, 2, 3, 4], "source": "g1", "speaker": "A", "speaker_role": "participant",
        ...                      "kind": "turn", "text": "..."})
        >>> cods = pd.DataFrame({"segment_id": [1, 2, 1, 3], "code_id": "a", "coder": ["ana", "ana", "ben", "ben"],
        ...                      "origin": "human", "status": "accepted", "decided_by": None})
        >>> r = reliability(segs, cods, ["ana", "ben"], n_boot=0)
        >>> r.per_code[["code_id", "units", "percent_agreement"]].values.tolist()
        [['a', 3, 0.3333333333333333]]
    """
    require_columns(segments, ["id", "source"], "segments")
    require_columns(codings, ["segment_id", "code_id", "coder", "origin", "status", "decided_by"], "codings")
    if uncoded not in ("exclude", "include"):
        raise InvalidInput(f"uncoded must be 'exclude' or 'include', not {uncoded!r}")
    def refuse(names: list[str]) -> None:
        raise InvalidInput(f"reliability needs two or more different coders, got {names}",
                           fix="choose two or more coders by user name (machine:auto is the machine coder)",
                           cli_fix="pass --coder ana --coder ben (or --coder machine:auto for the machine coder)")

    if len(coders) < 2:  # said before looking the one coder up ("no codings by coder 'me'" hid it)
        refuse([c.name if isinstance(c, Coder) else str(c) for c in coders])
    resolved = [resolve_coder(codings, spec) for spec in coders]
    names = [c.name for c in resolved]
    if len(set(names)) != len(names):
        refuse(names)
    segment_source = segments.set_index("id")["source"]
    positives, negatives, worked, judged = {}, {}, {}, {}
    for coder in resolved:
        pos, neg, touched = judgements(codings, coder)
        positives[coder.name], negatives[coder.name] = pos, neg
        worked[coder.name] = set(segment_source.reindex(touched["segment_id"]).dropna())
        # A unit the coder decided anything on (accepted or rejected, any code) is a unit they judged.
        judged[coder.name] = set(pos["segment_id"]) | set(neg["segment_id"])
    if sources is None:
        scope = sorted(set.intersection(*worked.values()) | set(finished))
        scope_rule = "transcripts every coder worked on" + (" or finished" if finished else "")
    else:
        scope = list(sources)
        scope_rule = ("transcripts every coder double-coded and marked done" if finished and set(scope) == set(finished)
                      else "transcripts chosen")
    talk = talk_segments(segments, include_moderator=include_moderator)
    talk = talk.loc[talk["source"].isin(scope)]
    unit_ids = talk["id"].to_numpy()
    in_units = set(unit_ids.tolist())
    used = pd.concat([p for p in positives.values()], ignore_index=True)
    used = used.loc[used["segment_id"].isin(in_units)]
    code_list = list(codes) if codes is not None else code_order(used["code_id"], codebook)
    coded_units = set().union(*judged.values()) & in_units
    judged_counts = {name: len(units & in_units) for name, units in judged.items()}
    excluded = 0
    if uncoded == "exclude":
        keep = np.array([u in coded_units for u in unit_ids], dtype=bool)
        excluded = int((~keep).sum())
        talk = talk.loc[keep]
        unit_ids = unit_ids[keep]
    if len(unit_ids) == 0 or not code_list:
        raise InvalidInput(f"no segments that {', '.join(names)} all coded",
                           fix="check the coder names, or choose transcripts they all coded",
                           cli_fix="check the coder names, or pass --source NAME and --uncoded include")
    row_of = {u: i for i, u in enumerate(unit_ids)}
    m = len(resolved)
    matrices = {}
    for code in code_list:
        values = np.zeros((len(unit_ids), m))
        for k, coder in enumerate(resolved):
            pos = positives[coder.name]
            rows = pos.loc[(pos["code_id"] == code) & pos["segment_id"].isin(in_units), "segment_id"]
            idx = [row_of[s] for s in rows if s in row_of]
            values[idx, k] = 1
        matrices[code] = values

    n_units = len(unit_ids)
    names_map = code_names(codebook)
    pairs = list(itertools.combinations(range(m), 2))
    quantities = {code: _unit_quantities(values)[0] for code, values in matrices.items()}
    exact = np.prod([q[:, 1] for q in quantities.values()], axis=0)
    point = _replicate_statistics(quantities, exact, np.ones((1, n_units)), m, pairs)
    boot = _bootstrap(quantities, exact, m, pairs, n_units, n_boot, seed) if n_boot else None

    per_code_rows, pair_rows = [], []
    for code, values in matrices.items():
        record: dict[str, Any] = {"code_id": code}
        if names_map:
            record["code_name"] = names_map.get(code, code)
        record["units"] = n_units
        for k, coder in enumerate(resolved):
            record[f"n_{coder.name}"] = int(values[:, k].sum())
        for stat in ("percent_agreement", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha", "gwet_ac1"):
            value = point[code][stat][0]
            if stat == "krippendorff_alpha":
                value = krippendorff_alpha(values.T)  # the package's estimate; the fast formula agrees
            record[stat] = float(value)
            low, high = _interval(boot[code][stat]) if boot is not None else (np.nan, np.nan)
            record[f"{stat}_low"], record[f"{stat}_high"] = low, high
        per_code_rows.append(record)
        for k, (a, b) in enumerate(pairs):
            low, high = _interval(boot[code]["pair_kappa"][:, k]) if boot is not None else (np.nan, np.nan)
            pair_rows.append({"code_id": code, "coder_a": resolved[a].name, "coder_b": resolved[b].name,
                              "cohen_kappa": float(point[code]["pair_kappa"][0, k]), "cohen_kappa_low": low,
                              "cohen_kappa_high": high})

    k_codes = len(code_list)
    stacked = np.concatenate(list(matrices.values()), axis=0)
    rows = []
    for stat in ("percent_agreement", "exact_match", "cohen_kappa_pooled", "fleiss_kappa", "krippendorff_alpha",
                 "gwet_ac1"):
        value = point[None][stat][0] if stat != "krippendorff_alpha" else krippendorff_alpha(stacked.T)
        low, high = _interval(boot[None][stat]) if boot is not None else (np.nan, np.nan)
        rows.append({"statistic": stat, "value": float(value), "ci_low": low, "ci_high": high})
    overall = pd.DataFrame(rows)

    per_code = pd.DataFrame(per_code_rows)
    pairs_frame = pd.DataFrame(pair_rows)
    disagreements = _disagreements(talk, matrices, resolved, negatives, unit_ids, names_map)
    n_sources = len(scope)
    statement = (
        f"Units: {counted(n_units, 'segment')} of {'participant' if not include_moderator else 'all'} talk in {n_sources} "
        f"{scope_rule if n_sources != 1 else scope_rule.replace('transcripts', 'transcript')}, coded by {', '.join(f'{c.name} ({c.kind})' for c in resolved)}; {counted(k_codes, 'code')}, each "
        f"a yes/no decision per segment. "
        + (f"{counted(excluded, 'segment')} that no coder coded {'was' if excluded == 1 else 'were'} excluded "
           "(including them inflates agreement and kappa). " if uncoded == "exclude" else
           "Segments that no coder coded were included (this inflates agreement and kappa). ")
        + (f"95% intervals: percentile bootstrap over segments, {n_boot} resamples, seed {seed}."
           if n_boot else "No bootstrap intervals (n_boot=0).")
    )
    if len(resolved) > 2:
        statement += (f" With {len(resolved)} coders, cohen_kappa is Light's kappa: the mean of Cohen's kappa over "
                      "every pair of coders.")
    if codes is None and codebook is not None:
        unused = [c.id for c in codebook.codable_codes if c.id not in set(code_list)]
        if unused:
            shown = ", ".join(unused[:8]) + (f" and {len(unused) - 8} more" if len(unused) > 8 else "")
            statement += (f" {len(unused)} of the codebook's {len(unused) + k_codes} codes "
                          f"{'was' if len(unused) == 1 else 'were'} applied by no coder here and "
                          f"{'is' if len(unused) == 1 else 'are'} left out ({shown}).")
    judged_text = ", ".join(f"{name} {count}" for name, count in judged_counts.items())
    statement += (f" Units judged (a code applied or rejected) by each coder: {judged_text}; a segment a "
                  "coder only rejected codes on counts as that coder's explicit \u201cno\u201d.")
    statement += _review_not_independent(codings, resolved, positives, in_units)
    settings = {"coders": [c.__dict__ for c in resolved], "uncoded": uncoded, "excluded_uncoded": excluded,
                "judged_units": judged_counts,
                "units": n_units, "sources": scope, "scope": scope_rule, "codes": code_list,
                "include_moderator": include_moderator, "n_boot": n_boot, "seed": seed,
                "ci": "percentile bootstrap over units"}
    units = talk[["id", "source"]].rename(columns={"id": "segment_id"}).reset_index(drop=True)
    return Reliability(coders=resolved, per_code=per_code, overall=overall, pairs=pairs_frame,
                       disagreements=disagreements, units=units, settings=settings, statement=statement)


def _review_not_independent(codings: pd.DataFrame, coders: Sequence[Coder], positives: dict[str, pd.DataFrame],
                            units: set[int]) -> str:
    """A sentence for a person compared with the machine whose suggestions they reviewed ("" when none).

    Kappa 0.83 between a researcher and the auto-coder read as a validation, though 41 of her 45 codes were
    the machine's suggestions she had accepted: that agreement measures her review, not a second coding.
    """
    out = ""
    for machine in (c for c in coders if c.kind == "machine"):
        column = codings["origin"] if machine.match == "origin" else codings["coder"]
        for person in (c for c in coders if c.kind != "machine"):
            mine = positives[person.name]
            mine = mine.loc[mine["segment_id"].isin(units)]
            accepted = codings.loc[(column == machine.name) & (codings["origin"] != "human")
                                   & (codings["decided_by"] == person.name) & (codings["status"] == "accepted")
                                   & codings["segment_id"].isin(units)]
            keys = set(zip(accepted["segment_id"], accepted["code_id"], strict=True))
            from_machine = sum((s, c) in keys for s, c in zip(mine["segment_id"], mine["code_id"], strict=True))
            if len(mine) and from_machine / len(mine) >= 0.5:
                out += (f" {from_machine} of {person.name}'s {len(mine)} codes here are {machine.name}'s suggestions "
                        f"{person.name} accepted: this agreement measures {person.name}'s review of the machine, "
                        "not two independent codings.")
    return out


def unsettled(disagreements: pd.DataFrame, codings: pd.DataFrame) -> pd.DataFrame:
    """The disagreements nobody has settled yet: those whose (segment, code) has no consensus row.

    Until a disagreement is settled, every count over accepted codings counts its segment for the code
    (one coder applied it); a settlement alone decides afterwards (see ``counted_codings``).

    Example:
        >>> d = pd.DataFrame({"segment_id": [1, 2], "code_id": ["a", "a"]})
        >>> c = pd.DataFrame({"segment_id": [2], "code_id": ["a"], "decided_by": [CONSENSUS]})
        >>> unsettled(d, c)["segment_id"].tolist()
        [1]
    """
    if disagreements.empty or "decided_by" not in codings:
        return disagreements
    settled = codings.loc[codings["decided_by"] == CONSENSUS, ["segment_id", "code_id"]]
    keys = pd.MultiIndex.from_frame(disagreements[["segment_id", "code_id"]].astype({"segment_id": int}))
    done = pd.MultiIndex.from_frame(settled.astype({"segment_id": int}))
    return disagreements.loc[~keys.isin(done)].reset_index(drop=True)


def _disagreements(
    talk: pd.DataFrame,
    matrices: dict[str, np.ndarray],
    coders: list[Coder],
    negatives: dict[str, pd.DataFrame],
    unit_ids: np.ndarray,
    names_map: dict[str, str],
) -> pd.DataFrame:
    names = [c.name for c in coders]
    parts = []
    for code, values in matrices.items():
        differing = np.flatnonzero(values.min(axis=1) != values.max(axis=1))
        if len(differing):
            part = pd.DataFrame(values[differing].astype(int), columns=names)
            part.insert(0, "code_id", code)
            part.insert(0, "segment_id", unit_ids[differing].astype(int))
            parts.append(part)
    columns = ["segment_id", "source", "turn", "speaker", "code_id", *(["code_name"] if names_map else []),
               "applied_by", "not_applied_by", "rejected_by", *names, "text"]
    if not parts:
        return pd.DataFrame(columns=columns)
    frame = pd.concat(parts, ignore_index=True)
    votes = frame[names].to_numpy()
    frame["applied_by"] = [", ".join(n for n, v in zip(names, row, strict=True) if v) for row in votes]
    frame["not_applied_by"] = [", ".join(n for n, v in zip(names, row, strict=True) if not v) for row in votes]
    rejected = {c.name: set(zip(negatives[c.name]["segment_id"], negatives[c.name]["code_id"], strict=True))
                for c in coders}
    frame["rejected_by"] = [", ".join(n for n in names if (seg, code) in rejected[n])
                            for seg, code in zip(frame["segment_id"], frame["code_id"], strict=True)]
    if names_map:
        frame["code_name"] = frame["code_id"].map(lambda code: names_map.get(code, code))
    info = talk.set_index("id")
    extra = [c for c in ("source", "turn", "speaker", "text", "seq") if c in info.columns]
    frame = frame.merge(info[extra], left_on="segment_id", right_index=True, how="left")
    for column in ("source", "turn", "speaker", "text"):
        if column not in frame:
            frame[column] = None
    if "seq" in frame:
        frame = frame.sort_values(["source", "seq", "code_id"], kind="stable")
    return frame[columns].reset_index(drop=True)

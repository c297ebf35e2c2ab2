"""Code prevalence by a participant attribute: segments, distinct speakers and sessions, with tests.

Qualitative prevalence is reported three ways per code and group: how many segments carry the code,
how many distinct speakers said something coded with it, and in how many sessions (transcripts) it
came up, each with the percentage of the group's total. A per-code test asks whether the share of
coded segments differs between groups, with adjusted standardised residuals (Haberman 1973; beyond
±1.96 is notable) and Holm-adjusted p-values across codes:

- two groups: Fisher's exact test (2×2);
- more groups: Pearson's chi-square when every expected count is at least 5 (Cochran's rule);
  otherwise the chi-square approximation is unreliable, and the Fisher–Freeman–Halton exact test is
  used instead, with a Monte-Carlo p-value: ``n_resamples`` tables with the observed margins are
  drawn (seeded, multivariate hypergeometric) and p is the share at most as probable as the observed
  one, (1 + k) / (1 + n_resamples).

``test="fisher"`` asks for the exact test at any size (2×2 exact, larger Monte-Carlo), ``"chi2"`` for
chi-square at any size (a sparse table gets a ``warning``), ``"none"`` for no test. The ``tests``
table names the test used and carries a ``warning`` column. Segments are not independent (a speaker
talks many times), so treat the tests as descriptive.

Example:
    >>> import pandas as pd
    >>> segs = pd.DataFrame({"id": [1, 2, 3, 4], "source": "g1", "speaker": ["A", "B", "C", "D"],
    ...                      "participant": ["A", "B", "C", "D"], "speaker_role": "participant",
    ...                      "kind": "turn", "role": ["resident", "resident", "staff", "staff"]})
    >>> cods = pd.DataFrame({"segment_id": [1, 2, 3], "code_id": "workload", "status": "accepted"})
    >>> result = prevalence(segs, cods, by="role")
    >>> result.table[["group", "segments", "segments_pct"]].values.tolist()
    [['resident', 2, 100.0], ['staff', 1, 50.0]]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from qualkit.analysis._common import (
    code_names,
    code_order,
    counted_codings,
    group_labels,
    is_rollup,
    require_columns,
    rollup_pairs,
    speaker_keys,
    talk_segments,
)
from qualkit.analysis.disclosure import guard_groups
from qualkit.model import Codebook


@dataclass
class Prevalence:
    """The result of :func:`prevalence`: a tidy table, a crosstab, tests and residuals.

    ``table`` has one row per code and group; ``groups`` the group totals; ``crosstab`` coded segments
    per code (rows) and group (columns); ``tests`` one row per code; ``residuals`` adjusted standardised
    residuals of the coded cells.

    Example:
        >>> Prevalence(by="role", table=pd.DataFrame()).by
        'role'
    """

    by: str | None
    table: pd.DataFrame
    groups: pd.DataFrame = field(default_factory=pd.DataFrame)
    crosstab: pd.DataFrame = field(default_factory=pd.DataFrame)
    tests: pd.DataFrame = field(default_factory=pd.DataFrame)
    residuals: pd.DataFrame = field(default_factory=pd.DataFrame)
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    """What a reader of the figures should know (e.g. disagreements not settled yet), in words."""

    def wide(self, value: str = "segments_pct") -> pd.DataFrame:
        """The table pivoted to codes × groups for one measure (``segments``, ``speakers_pct``, ...).

        Example:
            >>> Prevalence(by=None, table=pd.DataFrame(columns=["code_id", "group", "segments_pct"])).wide().empty
            True
        """
        if self.table.empty:
            return pd.DataFrame()
        wide = self.table.pivot(index="code_id", columns="group", values=value)
        order = list(dict.fromkeys(self.table["code_id"]))
        return wide.reindex(order)

    def __repr__(self) -> str:
        return f"Prevalence(by={self.by!r}, {self.table['code_id'].nunique() if not self.table.empty else 0} codes)\n" \
               f"{self.table.to_string(index=False) if not self.table.empty else '(no codings)'}" + \
               "".join(f"\nNote: {note}" for note in self.notes)

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False)


def prevalence(
    segments: pd.DataFrame,
    codings: pd.DataFrame,
    by: str | None = "role",
    *,
    include_moderator: bool = False,
    include_suggested: bool = False,
    codebook: Codebook | None = None,
    rollup: bool = False,
    all_codes: bool = False,
    session: str = "source",
    bins: int | list[float] | None = None,
    test: str = "auto",
    n_resamples: int = 10_000,
    seed: int = 0,
    min_cell: int = 1,
) -> Prevalence:
    """Count, per code and group of ``by``, coded segments, distinct speakers and sessions, and test them.

    ``include_suggested`` also counts suggestions still awaiting review; ``rollup`` (with a
    ``codebook``) adds, for every code with sub-codes, a roll-up row counting a segment wherever the code
    or one of its sub-codes occurs: its ``code_id`` ends in ``+`` (``disconnection+``), its ``code_name``
    reads "Disconnection + sub-codes" and ``rollup`` is True, so it is never mistaken for the code itself; ``all_codes`` lists codebook
    codes nobody used as zeros; ``session`` names the column that identifies a session (default: the
    transcript); ``test`` is ``auto`` (Fisher for 2×2; chi-square, or Fisher–Freeman–Halton by
    ``n_resamples`` seeded Monte-Carlo tables when expected counts fall below 5), ``chi2``, ``fisher``
    or ``none``. ``min_cell`` is the minimum cell size (:mod:`qualkit.analysis.disclosure`): a group of
    fewer people is merged into "Other (groups of fewer than N people)", or left out when too few even together, and
    ``notes`` says which values; 1 (the default here; a study's own setting in ``Project.prevalence``) shows
    every group.

    Example:
        >>> segs = pd.DataFrame({"id": [1, 2], "source": "g1", "speaker": ["A", "B"], "participant": ["A", "B"],
        ...                      "speaker_role": "participant", "kind": "turn", "role": ["resident", "staff"]})
        >>> cods = pd.DataFrame({"segment_id": [1], "code_id": ["workload"], "status": ["accepted"]})
        >>> prevalence(segs, cods, by="role").table["speakers"].tolist()
        [1, 0]
    """
    require_columns(segments, ["id", "source", "speaker"], "segments")
    require_columns(codings, ["segment_id", "code_id", "status"], "codings")
    talk = talk_segments(segments, include_moderator=include_moderator).copy()
    talk["_group"] = group_labels(talk, by, bins=bins)
    talk["_speaker"] = speaker_keys(talk)
    notes = case_notes(by, talk["_group"])
    guard = guard_groups(talk["_group"], talk["_speaker"], min_cell=min_cell, by=by)
    if guard.active:  # a group of one or two people is not shown as itself: its row would name them
        talk["_group"] = guard.relabel(talk["_group"])
        talk = talk.loc[talk["_group"].notna()]
    if session not in talk.columns:
        _unknown_session(session, talk)
    talk["_session"] = talk[session].astype(str)

    pairs = counted_codings(codings, include_suggested=include_suggested)[["segment_id", "code_id"]]
    if rollup:
        pairs = pd.concat([pairs, rollup_pairs(pairs, codebook)], ignore_index=True)
    coded = pairs.merge(talk[["id", "_group", "_speaker", "_session"]], left_on="segment_id", right_on="id")
    groups_order = _group_order(talk["_group"], last=guard.other)
    codes = code_order(coded["code_id"], codebook, all_codes=all_codes, rollups=rollup)
    names = code_names(codebook)

    groups = (talk.groupby("_group", sort=False)
              .agg(segments=("id", "nunique"), speakers=("_speaker", "nunique"), sessions=("_session", "nunique"))
              .reindex(groups_order))
    groups.index.name = "group"

    index = pd.MultiIndex.from_product([codes, groups_order], names=["code_id", "group"])
    counts = (coded.groupby(["code_id", "_group"])
              .agg(segments=("segment_id", "nunique"), speakers=("_speaker", "nunique"),
                   sessions=("_session", "nunique"))
              .rename_axis(["code_id", "group"]))
    counts = counts.reindex(index, fill_value=0).astype(int).reset_index()
    totals = groups.loc[counts["group"]].to_numpy()
    for j, measure in enumerate(("segments", "speakers", "sessions")):
        with np.errstate(divide="ignore", invalid="ignore"):
            counts[f"{measure}_pct"] = np.round(100.0 * counts[measure].to_numpy() / totals[:, j], 1)
        counts[f"group_{measure}"] = totals[:, j].astype(int)
    if names:
        counts.insert(1, "code_name", counts["code_id"].map(lambda code: names.get(code, code)))
    counts.insert(1, "rollup", [is_rollup(code) for code in counts["code_id"]])
    columns = ["code_id", *(["code_name"] if names else []), "rollup", "group", "segments", "segments_pct", "speakers",
               "speakers_pct", "sessions", "sessions_pct", "group_segments", "group_speakers", "group_sessions"]
    table = counts[columns]

    crosstab = table.pivot(index="code_id", columns="group", values="segments").reindex(index=codes,
                                                                                          columns=groups_order)
    tests, residuals = _tests(crosstab, groups["segments"], test, n_resamples=n_resamples, seed=seed)
    settings = {"by": by, "include_moderator": include_moderator, "include_suggested": include_suggested,
                "rollup": rollup, "session": session, "test": test, "n_resamples": n_resamples, "seed": seed,
                "unit": "segment",
                "segments": len(talk), "codings_counted": len(coded), "small_cells": guard.settings()}
    return Prevalence(by=by, table=table, groups=groups.reset_index(), crosstab=crosstab, tests=tests,
                      residuals=residuals, settings=settings, notes=notes + guard.notes)


def case_notes(by: str | None, groups: pd.Series) -> list[str]:
    """A note for group values that differ only in case or spacing (a spreadsheet's slip), one per clash.

    Example:
        >>> case_notes("role", pd.Series(["registrar", "Registrar ", "consultant"]))
        ["role has values that differ only in case or spacing ('Registrar ', 'registrar'): they are counted as separate groups; correct the participants file to join them"]
    """
    if by is None:
        return []
    spellings: dict[str, set[str]] = {}
    for value in groups.dropna().astype(str).unique():
        spellings.setdefault(" ".join(value.split()).casefold(), set()).add(value)
    return [f"{by} has values that differ only in case or spacing ({', '.join(map(repr, sorted(values)))}): they are "
            "counted as separate groups; correct the participants file to join them"
            for values in spellings.values() if len(values) > 1]


def _unknown_session(session: str, talk: pd.DataFrame) -> None:
    from qualkit.errors import InvalidInput

    raise InvalidInput(f"no column {session!r} to identify sessions",
                       fix=f"identify sessions by 'source' (the transcript) or one of: {', '.join(sorted(map(str, talk.columns)))}")


def _group_order(groups: pd.Series, *, last: str | None = None) -> list[str]:
    tail = [label for label in ("(missing)", last) if label is not None and label in set(groups)]
    return sorted(set(groups) - set(tail), key=_natural_key) + tail


def _natural_key(value: str) -> tuple[Any, ...]:
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value.lower())


def adjusted_residuals(table: np.ndarray) -> np.ndarray:
    """Adjusted standardised residuals of a contingency table (Haberman 1973), ~N(0, 1) under independence.

    r_ij = (O_ij - E_ij) / sqrt(E_ij (1 - R_i/N) (1 - C_j/N)).

    Example:
        >>> adjusted_residuals(np.array([[10, 0], [0, 10]])).round(2).tolist()
        [[4.47, -4.47], [-4.47, 4.47]]
    """
    table = np.asarray(table, dtype=float)
    n = table.sum()
    rows = table.sum(axis=1, keepdims=True)
    cols = table.sum(axis=0, keepdims=True)
    expected = rows @ cols / n
    with np.errstate(divide="ignore", invalid="ignore"):
        return (table - expected) / np.sqrt(expected * (1 - rows / n) * (1 - cols / n))


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of p-values (NaN stays NaN).

    Example:
        >>> holm(np.array([0.01, 0.04, 0.03])).round(2).tolist()
        [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full_like(p, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    if not len(valid):
        return out
    order = valid[np.argsort(p[valid], kind="stable")]
    m = len(order)
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out[order] = adjusted
    return out


MIN_EXPECTED = 5.0


def freeman_halton(observed: np.ndarray, *, n_resamples: int = 10_000, seed: int = 0) -> float:
    """Monte-Carlo p-value of the Fisher–Freeman–Halton exact test for a 2×c table (coded / not coded × groups).

    Tables with the observed margins are drawn from the multivariate hypergeometric distribution
    (exactly the null of Fisher's test); p = (1 + k) / (1 + n_resamples), k being the number of drawn
    tables at most as probable as the observed one.

    Example:
        >>> p = freeman_halton(np.array([[4, 0, 0], [0, 4, 4]]))  # exact: 3 / 495 = 0.006
        >>> 0.004 < p < 0.008
        True
    """
    from scipy.special import gammaln

    observed = np.asarray(observed, dtype=np.int64)
    totals = observed.sum(axis=0)
    coded = int(observed[0].sum())

    def log_probability(first_row: np.ndarray) -> np.ndarray:
        # log of prod_j C(K_j, x_j); the common factor 1 / C(N, n) cancels in the comparison.
        x = np.asarray(first_row, dtype=float)
        return (gammaln(totals + 1) - gammaln(x + 1) - gammaln(totals - x + 1)).sum(axis=-1)

    rng = np.random.default_rng(seed)
    drawn = rng.multivariate_hypergeometric(totals, coded, size=n_resamples)
    observed_log = log_probability(observed[0])
    at_most = int((log_probability(drawn) <= observed_log + 1e-7 * max(1.0, abs(observed_log))).sum())
    return (1 + at_most) / (1 + n_resamples)


def _tests(crosstab: pd.DataFrame, group_totals: pd.Series, test: str, *, n_resamples: int = 10_000,
           seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    from scipy import stats

    if test not in ("auto", "chi2", "fisher", "none"):
        from qualkit.errors import InvalidInput

        raise InvalidInput(f"unknown test {test!r}", fix="use auto, chi2, fisher or none")
    residuals = pd.DataFrame(np.nan, index=crosstab.index, columns=crosstab.columns)
    rows = []
    totals = group_totals.reindex(crosstab.columns).to_numpy(dtype=float)
    for code, coded in crosstab.iterrows():
        observed = np.vstack([coded.to_numpy(dtype=float), totals - coded.to_numpy(dtype=float)])
        observed = observed[:, totals > 0]
        record: dict[str, Any] = {"code_id": code, "test": None, "statistic": np.nan, "dof": np.nan,
                                  "p_value": np.nan, "min_expected": np.nan, "warning": ""}
        if observed.shape[1] >= 2 and test != "none" and 0 < observed[0].sum() < observed.sum():
            expected = observed.sum(1, keepdims=True) @ observed.sum(0, keepdims=True) / observed.sum()
            record["min_expected"] = round(float(expected.min()), 2)
            sparse = float(expected.min()) < MIN_EXPECTED
            chi2, p, dof, _ = stats.chi2_contingency(observed, correction=False)
            record.update(statistic=float(chi2), dof=float(dof))
            if observed.shape == (2, 2) and test in ("auto", "fisher"):
                result = stats.fisher_exact(observed.astype(int))
                record.update(test="fisher", statistic=float(result.statistic), dof=1.0, p_value=float(result.pvalue))
            elif test == "fisher" or (test == "auto" and sparse):
                record.update(test="fisher-freeman-halton (monte carlo)",
                              p_value=freeman_halton(observed.astype(np.int64), n_resamples=n_resamples, seed=seed))
            else:
                record.update(test="chi2", p_value=float(p))
                if sparse:
                    record["warning"] = (f"expected count {expected.min():.2f} < {MIN_EXPECTED:g}: the chi-square "
                                         "p-value is unreliable; use test='fisher' or 'auto'")
            res = adjusted_residuals(observed)[0]
            residuals.loc[code, crosstab.columns[totals > 0]] = np.round(res, 3)
        rows.append(record)
    tests = pd.DataFrame(rows, columns=["code_id", "test", "statistic", "dof", "p_value", "min_expected", "warning"])
    tests["p_holm"] = holm(tests["p_value"].to_numpy(dtype=float))
    return tests, residuals

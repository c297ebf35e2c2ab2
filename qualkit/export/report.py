"""Study report in Markdown, HTML or Word: methods, codebook, prevalence, quotes, reliability, figures.

:func:`collect_report` runs the analyses once and lays the report out as a list of neutral blocks
(headings, paragraphs, tables, figures, quotes); one small renderer per format writes them. Figures
are Altair charts rendered offline with ``vl-convert``: PNG files beside a Markdown report, inline SVG
in the single-file HTML report (no scripts, no CDN, nothing fetched), PNG pictures in Word.

Example:
    >>> from qualkit.store.repository import Store
    >>> import tempfile, pathlib
    >>> out = build_report(Store.create("sqlite://", name="pilot"), pathlib.Path(tempfile.mkdtemp()) / "r.md")
    >>> out.read_text(encoding="utf-8").startswith("# pilot")
    True
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qualkit.analysis._common import ROLLUP_SUFFIX, grouping, is_rollup
from qualkit.analysis.disclosure import DEFAULT_MIN_CELL, check_min_cell, other_label
from qualkit.analysis.disclosure import SETTING as MIN_CELL_SETTING
from qualkit.analysis.quotes import NAME_MASK
from qualkit.display import counted
from qualkit.errors import InvalidInput
from qualkit.export.format import Export, check_folder
from qualkit.model import CONSENSUS, Codebook, awaiting_review, judges_a_suggestion, withdrawn_by_author

FORMATS = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".docx": "docx"}


@dataclass
class Block:
    """One piece of a report: ``heading``, ``paragraph``, ``table``, ``figure`` or ``quote``.

    Example:
        >>> Block("heading", "Methods", level=2).level
        2
    """

    kind: str
    text: str = ""
    level: int = 2
    table: pd.DataFrame | None = None
    chart: Any = None
    name: str = ""
    attribution: str = ""


@dataclass
class Report:
    """A laid-out report: its title, blocks and the analysis results behind them.

    Example:
        >>> Report(title="t").blocks
        []
    """

    title: str
    blocks: list[Block] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)

    def add(self, kind: str, text: str = "", **options: Any) -> None:
        """Append a block."""
        self.blocks.append(Block(kind, text, **options))


# ------------------------------------------------------------------------------------------ collect


def _human_coders(codings: pd.DataFrame) -> list[str]:
    own = codings.loc[(codings["origin"] == "human") & codings["status"].isin(["accepted", "rejected"])]
    return sorted(set(own["coder"].dropna()) - {CONSENSUS})  # a settlement is no third coder


def reliability_coders(store: Any, codings: pd.DataFrame) -> list[str]:
    """Whom the report compares by default: the people assigned to double-code, else every human coder.

    An administrator who only reviewed suggestions, or the consensus rows of settled disagreements,
    would otherwise be counted as further coders (and the report's kappa would differ from the
    Reliability page's).

    Example:
        >>> from qualkit.store.repository import Store
        >>> reliability_coders(Store.create("sqlite://", name="p"), pd.DataFrame(columns=["origin", "status", "coder"]))
        []
    """
    from qualkit.store.assignments import assignments_df

    assigned = assignments_df(getattr(store, "store", store))
    if len(assigned):
        return sorted(set(assigned["coder"]))
    return _human_coders(codings)


def double_coded_sources(store: Any, coders: Sequence[str]) -> list[str] | None:
    """The transcripts all of ``coders`` were assigned and marked done, by name; None when there are none.

    The report measures agreement there, as the Reliability page does (``Project.reliability``): a transcript
    the coders shared out turn by turn in ordinary team coding is no double coding.

    Example:
        >>> from qualkit.store.repository import Store
        >>> double_coded_sources(Store.create("sqlite://", name="d"), ["ana", "ben"]) is None
        True
    """
    from qualkit.store.assignments import assignments_df

    assigned = assignments_df(getattr(store, "store", store))
    if assigned.empty or len(coders) < 2:
        return None
    done = assigned.loc[assigned["done"].astype(bool)]
    names = [str(name) for name, rows in done.groupby("source") if set(coders) <= set(rows["coder"])]
    return sorted(names) or None


def _disputed_on_double_coded(store: Any, segments: pd.DataFrame, codings: pd.DataFrame, rel: Any) -> set:
    """(segment id, code) pairs the assigned double-coders disagree on, not settled yet, on their transcripts.

    Only transcripts assigned to two or more coders count: without assignments the report compares every
    human coder, and one who never opened a transcript would "disagree" with everything coded there.
    """
    from qualkit.analysis.reliability import unsettled
    from qualkit.store.assignments import assignments_df

    if rel is None:
        return set()
    assigned = assignments_df(getattr(store, "store", store))
    shared = {int(s) for s, rows in assigned.groupby("source_id") if len(rows) >= 2} if len(assigned) else set()
    open_ = unsettled(rel.disagreements, codings)
    if not shared or open_.empty:
        return set()
    on_shared = set(segments.loc[segments["source_id"].isin(shared), "id"].astype(int))
    return {(int(seg), code) for seg, code in zip(open_["segment_id"], open_["code_id"], strict=True)
            if int(seg) in on_shared}


def machine_coder_runs(store: Any) -> list[dict[str, Any]]:
    """The settings each auto-coding run recorded in its ``suggest`` event, oldest first.

    Example:
        >>> from qualkit.store.repository import Store
        >>> machine_coder_runs(Store.create("sqlite://", name="p"))
        []
    """
    events = getattr(store, "store", store).events_df(entity="coding")
    runs = []
    for row in events.loc[events["action"] == "suggest"].iloc[::-1].itertuples(index=False):
        settings = (row.new or {}).get("coder_settings") if isinstance(row.new, dict) else None
        if isinstance(settings, dict):
            runs.append({**settings, "at": row.at, "user": row.user})
    return runs


def _embedder_text(name: str | None, kind: str | None = None, version: str | None = None) -> str:
    """How a report names the embedder a run used: its tier, name and version."""
    if not name:
        return "no embedder (rules only)"
    if kind is None:  # runs recorded before the tiers were named
        kind = "lsa" if "lsa" in name.lower() else "minilm"
    detail = f"{kind} tier" + (f"; {version}" if version else "")
    if kind == "lsa":
        return f"the TF-IDF/LSA fallback ({name}; {detail}; no neural embedder was used)"
    if kind == "static":
        return f"{name} static embeddings distilled offline from MiniLM with model2vec ({detail})"
    return f"{name} sentence embeddings ({detail})"


def _sentence_text(params: dict[str, Any]) -> str:
    """How a passage of several sentences was scored, from the recorded ``sentence_weight``.

    Example:
        >>> _sentence_text({"sentence_weight": 0.5})[:62]
        '; a passage of several sentences was also scored sentence by s'
        >>> _sentence_text({"sentence_weight": 0.0}), _sentence_text({})
        ('', '')
    """
    weight = params.get("sentence_weight")
    if not isinstance(weight, int | float) or not weight:
        return ""
    return (f"; a passage of several sentences was also scored sentence by sentence, and a code's score moved "
            f"{weight:g} of the way to its best sentence's where that was higher")


def machine_coder_text(runs: list[dict[str, Any]], machines: list[str]) -> str:
    """One or two sentences on the machine coder's settings, read from what auto-coding recorded.

    Example:
        >>> machine_coder_text([{"embedder": "tfidf-lsa", "params": {"prior_strength": 8.0}, "codebook": "b",
        ...                      "codebook_version": 1, "qualkit_version": "0.1.0", "thresholds": None}], ["auto"])[:40]
        'Machine suggestions came from 1 auto-cod'
    """
    if not runs:
        if not machines:
            return ""
        return (f"The settings of the machine coder ({', '.join(machines)}) were not recorded (suggestions made "
                "before qualkit recorded them, or imported), so they cannot be reported.")
    last = runs[-1]
    params = last.get("params") or {}
    shown = ", ".join(f"{k} {v}" for k, v in params.items() if v is not None and not isinstance(v, dict))
    thresholds = params.get("thresholds")
    tuned = last.get("thresholds") or {}
    if isinstance(thresholds, dict):
        threshold_text = f"per-code decision thresholds set for {len(thresholds)} codes"
    elif thresholds is not None:
        threshold_text = f"decision threshold {thresholds} for every code"
    else:
        threshold_text = (f"decision thresholds 0.5, tuned per code once a code had {params.get('min_tuning', 8)} "
                          "accepted examples")
    if tuned:
        threshold_text += f" (in use: {tuned['min']:.2f}–{tuned['max']:.2f} over {tuned['codes']} codes)"
    embedders = list(dict.fromkeys(_embedder_text(r.get("embedder"), r.get("embedder_kind"), r.get("embedder_version"))
                                   for r in runs))
    text = (f"Machine suggestions came from {len(runs)} auto-coding run{'s' if len(runs) != 1 else ''} of "
            f"qualkit's AutoCoder (rule cues, similarity to the codebook's definitions and examples, and a "
            f"learned coder; embedder: {'; '.join(embedders)}){_sentence_text(params)}. The latest run used qualkit "
            f"{last.get('qualkit_version', '?')} with codebook “{last.get('codebook', '?')}” version "
            f"{last.get('codebook_version', '?')}, {threshold_text}")
    return text + (f"; parameters: {shown}." if shown else ".")


def _material(sessions: int, surveys: int) -> str:
    """What was analysed: "Transcripts of 4 sessions", "Transcripts of 4 sessions and 1 survey file".

    Example:
        >>> _material(4, 1), _material(0, 2), _material(1, 0)
        ('Transcripts of 4 sessions and 1 survey file', '2 survey files', 'Transcripts of 1 session')
    """
    said = [f"Transcripts of {sessions} session{'s' if sessions != 1 else ''}"] if sessions or not surveys else []
    if surveys:
        said.append(f"{surveys} survey file{'s' if surveys != 1 else ''}")
    return " and ".join(said)


def methods_paragraph(store: Any, codebook: Codebook | None, codings: pd.DataFrame, segments: pd.DataFrame, *,
                      by: str | None, include_suggested: bool, reliability: Any = None, min_cell: int = 1) -> str:
    """The methods paragraph: qualkit and codebook versions, what was coded by whom, and how it was counted.

    Example:
        >>> from qualkit.store.repository import Store
        >>> s = Store.create("sqlite://", name="p")
        >>> "qualkit" in methods_paragraph(s, None, s.codings_df(), s.segments_df(), by=None, include_suggested=False)
        True
    """
    from qualkit.analysis.reliability import unsettled
    from qualkit.version import __version__

    n_sources = segments["source"].nunique() if len(segments) else 0
    # A survey file (its segments are rows: one answer each) is not a session; say how many of each.
    rows_only = segments.groupby("source")["kind"].agg(lambda kinds: set(kinds) == {"row"}) if len(segments) \
        else pd.Series(dtype=bool)
    n_surveys = int(rows_only.sum())
    n_sessions = n_sources - n_surveys
    talk = segments.loc[(segments.get("speaker_role", pd.Series(dtype=object)) == "participant")] if len(segments) \
        else segments
    kinds = ", ".join(sorted(segments["kind"].dropna().unique())) if len(segments) else "none"
    accepted = codings.loc[codings["status"] == "accepted"]
    # On a transcript coded blind each coder's judgement is their own row and the suggestion stays
    # "suggested": judged all the same, so not awaiting review, and an accepted one is an accepted suggestion.
    judging = judges_a_suggestion(codings)
    suggested = int(awaiting_review(codings).sum())
    withdrawn = withdrawn_by_author(codings)  # a hand code its coder removed again: not a rejection
    removed = int(withdrawn.sum())
    rejected = int((codings["status"] == "rejected").sum()) - removed
    machine = accepted.loc[(accepted["origin"] != "human") | judging.loc[accepted.index]]
    machines = sorted(set(codings.loc[codings["origin"] != "human", "coder"].dropna()))
    origins = sorted(set(codings.loc[codings["origin"] != "human", "origin"].dropna()))
    humans = sorted((set(accepted["decided_by"].dropna()) | set(_human_coders(codings))) - {CONSENSUS})
    parts = [
        f"{_material(n_sessions, n_surveys)} {'was' if n_sessions == 0 and n_surveys == 1 else 'were'} analysed "
        f"with qualkit {__version__} "
        f"(offline). {'It was' if n_sessions + n_surveys == 1 else 'They were'} split into {len(segments)} segments ({kinds}), {len(talk)} of them participant talk; "
        "moderator talk and unattributed lines were excluded from all counts.",
    ]
    if codebook is not None:
        themes = sum(1 for c in codebook.codes if c.parent is None)
        codes = len(codebook.codable_codes)
        shape = (f"a flat list of {codes} codes" if not any(c.parent for c in codebook.codes)
                 else f"{codes} codes under {themes} top-level themes")
        parts.append(f"Segments were coded with the codebook \u201c{codebook.name}\u201d, version {codebook.version} "
                     f"({shape}).")
    coder_text = f"human coders: {', '.join(humans)}" if humans else "no human coders yet"
    if machines:
        coder_text += (f"; machine coder{'s' if len(machines) > 1 else ''}: {', '.join(machines)} "
                       f"(origins: {', '.join(origins)}), whose suggestions counted only once a person accepted them")
    parts.append(f"There are {counted(len(accepted), 'accepted coding')} ({len(machine)} of them accepted machine "
                 f"suggestions), {counted(suggested, 'suggestion')} awaiting review and "
                 f"{counted(rejected, 'rejected coding')} ({coder_text}). "
                 + (f"{counted(removed, 'coding')} taken back by the coder who made "
                    f"{'it' if removed == 1 else 'them'} (a hand code removed, or a change undone) "
                    f"{'is' if removed == 1 else 'are'} kept on record and not counted. " if removed else "")
                 + ("Suggestions awaiting review were counted too." if include_suggested else
                    "Only accepted codings were counted."))
    machine_text = machine_coder_text(machine_coder_runs(store), machines)
    if machine_text:
        parts.append(machine_text)
    if by:
        parts.append(f"Prevalence is given per {by} as the number and share of segments, distinct speakers and "
                     "sessions mentioning each code; differences between groups were tested per code with Fisher's "
                     "exact test (2\u00d72), Pearson's chi-square, or, for larger tables with expected counts "
                     "below 5, the Fisher\u2013Freeman\u2013Halton exact test with a seeded Monte-Carlo p-value, "
                     "Holm-adjusted across codes, with adjusted standardised residuals. Segments from one speaker are not "
                     "independent, so the tests are descriptive.")
        parts.append("Distinctive words per group are weighted log-odds ratios with an informative Dirichlet prior "
                     "(Monroe, Colaresi & Quinn 2008), reported as z-scores.")
        parts.append(small_cell_text(by, min_cell))
    if reliability is not None:
        parts.append("Inter-coder reliability: " + reliability.statement)
        open_ = len(unsettled(reliability.disagreements, codings))
        if open_:
            parts.append(f"{open_} disagreement{'s' if open_ != 1 else ''} between coders "
                         f"{'are' if open_ != 1 else 'is'} not settled yet; until settled, a segment counts for a "
                         "code in these figures when either coder applied it, and a settled one counts as settled.")
    return " ".join(parts)


def small_cell_text(by: str | None, min_cell: int) -> str:
    """The methods sentence on the minimum cell size: what happened to groups of few people (or that nothing did).

    Example:
        >>> small_cell_text("role", 1)[:50]
        'No minimum cell size was applied (it is set to 1):'
    """
    if min_cell <= 1:
        return (f"No minimum cell size was applied (it is set to 1): every group of {by} is shown, however few "
                "people it holds, with its quotes and distinctive words.")
    return (f"To protect participants, no group of {by} with fewer than {min_cell} people (distinct participants, "
            f"else speakers) is shown as itself: such groups are combined as “{other_label(min_cell)}”, "
            f"joined by the smallest other groups when together they have fewer than {min_cell} people (so that "
            "no small group's figures can be worked out from the overall ones), and left out of the grouped "
            f"figures, quotes and distinctive words only when the study has fewer than {min_cell} people in all "
            f"(minimum cell size {min_cell}); the overall figures count everyone.")


def coder_table(codings: pd.DataFrame) -> pd.DataFrame:
    """Who coded and how: one row per coder with kind, origins, decisions, score range and codebook versions.

    A person's row counts their own codings and the suggestions they decided (a hand code they removed
    again is "removed", not "rejected"); a machine coder's row counts its suggestions by status.

    Example:
        >>> c = pd.DataFrame({"coder": ["auto", "auto"], "origin": ["rules", "rules"], "status": ["accepted",
        ...                   "suggested"], "decided_by": ["ana", None], "score": [0.9, 0.4], "codebook_version": 1})
        >>> coder_table(c)[["coder", "kind", "accepted", "suggested"]].values.tolist()
        [['ana', 'human', 1, 0], ['auto', 'machine', 1, 1]]
    """
    rows = []
    codings = codings.assign(removed=withdrawn_by_author(codings))
    machine = codings.loc[codings["origin"] != "human"]
    humans = sorted(set(codings.loc[codings["origin"] == "human", "coder"].dropna())
                    | set(codings["decided_by"].dropna()))
    for name in humans:
        own = codings.loc[((codings["coder"] == name) & (codings["origin"] == "human"))
                          | (codings["decided_by"] == name)]
        # A reviewer who only decided suggestions has the origins of what they decided.
        rows.append({"coder": name, "kind": "human", "origins": ", ".join(sorted(own["origin"].dropna().unique())),
                     "accepted": int((own["status"] == "accepted").sum()),
                     "suggested": int((own["status"] == "suggested").sum()),
                     "rejected": int(((own["status"] == "rejected") & ~own["removed"]).sum()),
                     "removed": int(own["removed"].sum()), "scores": "",
                     "codebook versions": _versions(own)})
    for name, part in machine.groupby("coder", sort=True):
        scores = pd.to_numeric(part["score"], errors="coerce").dropna()
        rows.append({"coder": name, "kind": "machine", "origins": ", ".join(sorted(part["origin"].unique())),
                     "accepted": int((part["status"] == "accepted").sum()),
                     "suggested": int((part["status"] == "suggested").sum()),
                     "rejected": int((part["status"] == "rejected").sum()), "removed": 0,
                     "scores": f"{scores.min():.2f}–{scores.max():.2f}" if len(scores) else "",
                     "codebook versions": _versions(part)})
    return pd.DataFrame(rows, columns=["coder", "kind", "origins", "accepted", "suggested", "rejected", "removed",
                                       "scores", "codebook versions"])


def _versions(frame: pd.DataFrame) -> str:
    if "codebook_version" not in frame:
        return ""
    versions = sorted({int(v) for v in pd.to_numeric(frame["codebook_version"], errors="coerce").dropna()})
    return ", ".join(map(str, versions))


def _prevalence_table(prev: Any, codebook: Codebook | None) -> pd.DataFrame:
    table = prev.table
    if table.empty:
        return pd.DataFrame()
    groups = list(dict.fromkeys(table["group"]))
    depth = _depths(codebook)
    names = {c.id: c.name for c in codebook.codes} if codebook else {}
    rows = []
    tests = prev.tests.set_index("code_id") if not prev.tests.empty else pd.DataFrame()
    for code in dict.fromkeys(table["code_id"]):
        part = table.loc[table["code_id"] == code].set_index("group")
        own = code[:-len(ROLLUP_SUFFIX)] if is_rollup(code) else code
        shown = part["code_name"].iloc[0] if "code_name" in part else names.get(code, code)
        row = {"code": "\u2003" * depth.get(own, 0) + str(shown)}
        for group in groups:
            r = part.loc[group]
            row[f"{group}: segments"] = f"{int(r['segments'])} ({r['segments_pct']:.0f}%)"
            row[f"{group}: speakers"] = f"{int(r['speakers'])}/{int(r['group_speakers'])}"
        if len(groups) > 1 and code in tests.index:
            p = tests.loc[code, "p_holm"]
            row["p (Holm)"] = "" if pd.isna(p) else ("<0.001" if p < 0.001 else f"{p:.3f}")
        rows.append(row)
    return pd.DataFrame(rows)


def _depths(codebook: Codebook | None) -> dict[str, int]:
    if codebook is None:
        return {}
    parents = {c.id: c.parent for c in codebook.codes}
    depth = {}
    for code in parents:
        d, p, seen = 0, parents[code], {code}
        while p and p not in seen:
            d, seen, p = d + 1, seen | {p}, parents.get(p)
        depth[code] = d
    return depth


def _codebook_table(codebook: Codebook) -> pd.DataFrame:
    depth = _depths(codebook)
    rows = []
    for code in codebook.codes:
        definition = code.definition.strip()
        rows.append({"code": "\u2003" * depth.get(code.id, 0) + code.name, "id": code.id, "definition": definition})
    return pd.DataFrame(rows)


FEW_CODED = 5
"""Codings (all coders together) a code needs before the report prints its bootstrap intervals."""


def kappa_name(n_coders: int) -> str:
    """What the per-code kappa is called: Cohen's for two coders, Light's (the mean over pairs) for more.

    Example:
        >>> kappa_name(2), kappa_name(3)
        ("Cohen's κ", "Light's κ (mean pairwise Cohen's)")
    """
    return "Cohen's κ" if n_coders <= 2 else "Light's κ (mean pairwise Cohen's)"


def _with_interval(value: float, low: float, high: float) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    if np.isfinite(low) and np.isfinite(high):
        return f"{value:.2f} [{low:.2f}, {high:.2f}]"
    return f"{value:.2f}"


def _without_interval(value: float, low: float, high: float) -> str:
    text = _with_interval(value, np.nan, np.nan)
    return text if text == "n/a" else f"{text} (too few coded for an interval)"


def _reliability_tables(rel: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    ci = _with_interval
    overall = pd.DataFrame([{"statistic": r.statistic.replace("_", " "), "value (95% CI)": ci(r.value, r.ci_low,
                                                                                               r.ci_high)}
                            for r in rel.overall.itertuples(index=False)])
    rows = []
    for r in rel.per_code.to_dict("records"):
        coded = sum(int(r[f"n_{c.name}"]) for c in rel.coders)
        # A bootstrap over two or three coded units gives [1.00, 1.00]: it looks like certainty.
        ci = _without_interval if coded < FEW_CODED else _with_interval
        rows.append({"code": r.get("code_name", r["code_id"]), "units": r["units"],
                     **{f"n {c.name}": r[f"n_{c.name}"] for c in rel.coders},
                     "agreement": ci(r["percent_agreement"], r["percent_agreement_low"], r["percent_agreement_high"]),
                     kappa_name(len(rel.coders)): ci(r["cohen_kappa"], r["cohen_kappa_low"], r["cohen_kappa_high"]),
                     "Krippendorff's \u03b1": ci(r["krippendorff_alpha"], r["krippendorff_alpha_low"],
                                                 r["krippendorff_alpha_high"]),
                     "Gwet's AC1": ci(r.get("gwet_ac1", np.nan), r.get("gwet_ac1_low", np.nan),
                                      r.get("gwet_ac1_high", np.nan))})
    return overall, pd.DataFrame(rows)


def collect_report(
    store: Any,
    *,
    by: str | None = "auto",
    coders: list[str] | None = None,
    include_suggested: bool = False,
    quotes_per_code: int = 3,
    window: int = 0,
    n_boot: int = 1000,
    seed: int = 0,
    title: str | None = None,
    figures: bool = True,
    min_cell: int | None = None,
) -> Report:
    """Run the analyses and lay out the report (nothing is written yet).

    ``by`` names the participant attribute groups are compared by (``"auto"``: role where the study
    records it; an attribute the study lacks is an error, never a silent "everyone together").
    ``coders`` (two or more) adds the reliability section; by default it is added when two or more
    people coded on their own. ``figures=False`` leaves the charts out (faster). ``min_cell`` (default: the
    study's setting, :mod:`qualkit.analysis.disclosure`) keeps groups of fewer people out of the grouped
    tables, figures, words and quotes; 1 shows every group, and the methods paragraph says which was used.

    Example:
        >>> from qualkit.store.repository import Store
        >>> [b.text for b in collect_report(Store.create("sqlite://", name="p")).blocks if b.kind == "heading"][:2]
        ['Methods', 'Codebook']
    """
    from qualkit.analysis.cooccurrence import cooccurrence, cooccurrence_pairs
    from qualkit.analysis.distinctive import distinctive_words
    from qualkit.analysis.prevalence import prevalence
    from qualkit.analysis.quotes import attribution, mask_names, name_labels, quotes
    from qualkit.analysis.reliability import reliability, unsettled
    from qualkit.analysis.saturation import saturation
    from qualkit.errors import StoreError
    from qualkit.figures import analysis as fig

    store = getattr(store, "store", store)
    segments = store.segments_df()
    codings = store.codings_df()
    try:
        codebook = store.codebook()
    except StoreError:
        codebook = None
    by = grouping(segments, by, "compare groups by")
    names = {c.id: c.name for c in codebook.codes} if codebook else {}
    report = Report(title=title or store.name)
    min_cell = check_min_cell(store.settings.get(MIN_CELL_SETTING, DEFAULT_MIN_CELL) if min_cell is None
                              else min_cell)
    report.results["min_cell"] = min_cell

    rel = None
    coder_list = coders if coders is not None else reliability_coders(store, codings)
    if len(coder_list) >= 2:
        try:
            double_coded = double_coded_sources(store, coder_list)
            rel = reliability(segments, codings, coder_list, codebook=codebook, n_boot=n_boot, seed=seed,
                              sources=double_coded, finished=double_coded or ())
        except InvalidInput as error:
            if coders is not None:
                raise
            report.results["reliability_skipped"] = str(error)

    report.add("heading", "Methods")
    report.add("paragraph", methods_paragraph(store, codebook, codings, segments, by=by,
                                              include_suggested=include_suggested, reliability=rel,
                                              min_cell=min_cell))
    coders_frame = coder_table(codings)
    if not coders_frame.empty:
        report.add("paragraph", "Coders: people count their own codings and the suggestions they decided; a "
                                "machine coder's suggestions count only once accepted (scores are the "
                                "suggestions' confidence range).")
        report.add("table", table=coders_frame, name="coders")

    report.add("heading", "Codebook")
    if codebook is not None and codebook.codes:
        report.add("paragraph", f"Codebook \u201c{codebook.name}\u201d, version {codebook.version}. "
                                "Indented codes belong to the theme above them; inclusion and exclusion "
                                "criteria are in the codebook export.")
        report.add("table", table=_codebook_table(codebook), name="codebook")
    else:
        report.add("paragraph", "The project has no codebook yet.")

    from qualkit.analysis._common import counted_codings, talk_segments

    talk_ids = set(talk_segments(segments)["id"]) if len(segments) else set()
    counted = counted_codings(codings, include_suggested=include_suggested) if len(codings) else codings
    counted = counted.loc[counted["segment_id"].isin(talk_ids)] if len(counted) else counted
    nothing = None if len(counted) else nothing_yet(codings, include_suggested=include_suggested)
    report.results["nothing_yet"] = nothing

    report.add("heading", f"Prevalence by {by}" if by else "Prevalence")
    if nothing:
        report.add("paragraph", nothing)
    else:
        prev = prevalence(segments, codings, by=by, codebook=codebook, include_suggested=include_suggested,
                          rollup=True, all_codes=True, min_cell=min_cell)
        report.results["prevalence"] = prev
        report.add("paragraph", "Segments coded with each code, as a share of each group's participant segments, "
                                "and the number of each group's speakers who said something coded with it. A row "
                                "\u201c\u2026 + sub-codes\u201d counts a segment once when the code or any of its "
                                "sub-codes applies; the row without it counts the code itself. The same figures "
                                "come from the app's Analysis page, the notebook's prevalence and qualkit "
                                "analyze prevalence.")
        report.add("table", table=_prevalence_table(prev, codebook), name="prevalence")
        for note in prev.notes:
            report.add("paragraph", f"Note: {note}")
        if figures and not prev.table.empty:
            leaf = prev.table.loc[~prev.table["rollup"]] if "rollup" in prev.table else prev.table
            report.add("figure", "Share of each group's segments coded with each code.", name="prevalence",
                       chart=fig.prevalence_chart(type(prev)(by=prev.by, table=leaf), names=names))

    report.add("heading", "Co-occurring codes")
    if nothing:
        report.add("paragraph", nothing)
    else:
        co = cooccurrence(segments, codings, window=window, codebook=codebook, include_suggested=include_suggested)
        report.results["cooccurrence"] = co
        pairs = cooccurrence_pairs(co).head(10) if len(co) > 1 else pd.DataFrame()
        if pairs.empty:
            report.add("paragraph", "No two codes apply to the same segment"
                       + (f" or to segments within {window} turns" if window else "") + " yet.")
        else:
            pairs["code_a"] = pairs["code_a"].map(lambda c: names.get(c, c))
            pairs["code_b"] = pairs["code_b"].map(lambda c: names.get(c, c))
            report.add("paragraph", "The code pairs that most often apply to the same segment"
                       + (f" or to segments within {window} turns" if window else "") + ".")
            report.add("table", table=pairs.rename(columns={"code_a": "code", "code_b": "with",
                                                            "count": "segments"}), name="cooccurrence")
            if figures:
                report.add("figure", "Co-occurrence of codes (segments carrying both).", name="cooccurrence",
                           chart=fig.cooccurrence_heatmap(co, names=names))

    report.add("heading", "Saturation")
    if nothing:
        report.add("paragraph", nothing)
    else:
        curve = saturation(segments, codings, include_suggested=include_suggested)
        report.results["saturation"] = curve
        last_new = int(curve.loc[curve["new_codes"] > 0, "step"].max())
        report.add("paragraph", f"New codes per transcript, in import order: "
                                f"{', '.join(map(str, curve['new_codes']))}. "
                                f"{int(curve['cumulative_codes'].iloc[-1])} codes in all; the last new code "
                                f"appeared in transcript {last_new} of {len(curve)}.")
        if figures:
            report.add("figure", "New and cumulative codes per transcript.", name="saturation",
                       chart=fig.saturation_chart(curve))

    if by:
        report.add("heading", f"Distinctive words by {by}")
        participants = store.participants()
        speaker_names = [n for p in participants for n in (p.id, p.pseudonym, *p.aliases) if n]
        words = (distinctive_words(segments, by=by, top=8, names=speaker_names, min_cell=min_cell) if len(segments)
                 else pd.DataFrame())
        report.results["distinctive_words"] = words
        if words.empty and words.attrs.get("notes"):  # the groups are there, too small to be shown
            report.add("paragraph", "Not compared: " + " ".join(words.attrs["notes"]))
        elif words.empty:
            report.add("paragraph", f"Not enough participant talk in two or more groups of {by} to compare "
                                    "their words yet.")
        else:
            report.add("paragraph", "Words each group used more than the others (weighted log-odds with an "
                                    "informative Dirichlet prior; z above 1.96 is notable). Speaker labels, "
                                    "participants' pseudonyms and aliases are left out.")
            table = (words.assign(z=words["z"].round(2))
                     .groupby("group").apply(lambda g: ", ".join(f"{w} ({z})" for w, z in zip(g["word"], g["z"],
                                                                                             strict=True)),
                                             include_groups=False)
                     .reset_index(name="words (z)"))
            report.add("table", table=table, name="distinctive")
            for note in words.attrs.get("notes", []):
                report.add("paragraph", f"Note: {note}")
            if figures:
                report.add("figure", "Top words per group by z-score.", name="distinctive",
                           chart=fig.distinctive_words_chart(words, top=8))

    report.add("heading", "Exemplar quotes")
    quoted: dict[str, pd.DataFrame] = {}
    if nothing:
        report.add("paragraph", nothing)
    else:
        report.add("paragraph", "The strongest " + ("coded" if include_suggested else "accepted") + " segments for "
                                "each code, chosen to vary across speakers, groups and sessions, trimmed to the "
                                "evidence and attributed by role, never by name: the names of the study's speakers "
                                f"and participants are shown as {NAME_MASK}, and a speaker without a group or "
                                "session is placed by the transcript's number in the order they were imported.")
        used = set(counted["code_id"])
        disputed = _disputed_on_double_coded(store, segments, codings, rel)
        # The report circulates: no file name (fg05 Zoë & Łukasz (final).txt) and no speaker's or participant's
        # name in it; the library's quotes() keeps both for the researchers' own use.
        people = name_labels(people_labels(store, segments))
        number = {name: k for k, name in enumerate(store.sources_df().sort_values("id")["name"], start=1)}

        def attribute(row: dict[str, Any]) -> str:
            return attribution({**row, "source": f"transcript {number.get(row.get('source'), '?')}"})
        held_back: dict[str, None] = {}  # why a code's quotes are not shown (small groups), said once
        for theme, members in _themes(codebook, used):
            theme_shown = theme is None
            for code in members:
                found = quotes(segments, codings, code, n=quotes_per_code, include_suggested=include_suggested,
                               disputed=disputed, attribute=attribute, by=by, min_cell=min_cell)
                held_back.update(dict.fromkeys(found.attrs.get("notes", [])))
                if found.empty:
                    continue
                if not theme_shown:  # a theme none of whose codes can be quoted gets no empty heading
                    report.add("heading", names.get(theme, theme), level=3)
                    theme_shown = True
                found = found.assign(quote=[mask_names(quote, people) for quote in found["quote"]])
                quoted[code] = found
                report.add("heading", names.get(code, code), level=4 if theme is not None else 3)
                for row in found.itertuples(index=False):
                    report.add("quote", row.quote, attribution=row.attribution + (
                        " (the coders disagree on this passage; not settled yet)" if row.contested else ""))
        if not quoted:
            report.add("paragraph", "No quote can be shown: " + (" ".join(held_back) if held_back else
                                    "no participant talk is coded yet."))
        elif held_back:
            report.add("paragraph", "Note: " + " ".join(held_back))
    report.results["quotes"] = quoted

    report.add("heading", "Inter-coder reliability")
    if rel is not None:
        report.results["reliability"] = rel
        report.add("paragraph", rel.statement)
        overall, per_code = _reliability_tables(rel)
        report.add("table", table=overall, name="reliability_overall")
        report.add("table", table=per_code, name="reliability")
        if figures and len(rel.per_code):
            report.add("figure", f"{kappa_name(len(rel.coders))} per code with 95% bootstrap intervals.",
                       name="reliability",
                       chart=fig.reliability_chart(rel.per_code, names=names))
        open_ = len(unsettled(rel.disagreements, codings))
        report.add("paragraph", f"{len(rel.disagreements)} segment-code disagreements, {open_} of them not settled "
                                "yet, are listed for adjudication on the Double coding page.")
    elif "reliability_skipped" in report.results:
        report.add("paragraph", report.results["reliability_skipped"])
    else:
        who = ", ".join(coder_list) if coder_list else "nobody yet"
        report.add("paragraph", "Not computed yet: reliability needs two or more people who coded the same "
                                f"transcripts on their own (so far: {who}). Assign a transcript to two coders "
                                "for blind double-coding (Team page); reliability is computed once both mark it done.")
    return report


def people_labels(store: Any, segments: pd.DataFrame) -> list[str]:
    """Every label the study has for a person: speaker labels, participant ids, pseudonyms and aliases.

    Example:
        >>> from qualkit.store.repository import Store
        >>> people_labels(Store.create("sqlite://", name="p"), pd.DataFrame({"speaker": ["Ann", "Moderator"]}))
        ['Ann', 'Moderator']
    """
    labels: list[Any] = [*segments.get("speaker", ()), *segments.get("participant", ())]
    people = store.participants_df()
    for column in ("participant", "pseudonym", "aliases"):
        for value in people.get(column, ()):
            labels.extend(value if isinstance(value, list | tuple) else [value])
    return list(dict.fromkeys(label for label in labels if isinstance(label, str) and label.strip()))


def nothing_yet(codings: pd.DataFrame, *, include_suggested: bool = False) -> str:
    """The sentence a report section shows when there are no codings to count (and what to do about it).

    Example:
        >>> import pandas as pd
        >>> nothing_yet(pd.DataFrame({"status": ["suggested"], "origin": ["rules"]})).split(" — ")[0]
        'No accepted codings yet'
    """
    if codings.empty:
        return ("There are no codings yet: suggest codes (Suggest codes in the app, or qualkit suggest) or code "
                "passages by hand, then review the suggestions.")
    waiting = int((codings["status"] == "suggested").sum())
    if include_suggested:
        return "No accepted or suggested codings on participant talk yet, so there is nothing to count."
    if waiting:
        return (f"No accepted codings yet — review suggestions first ({waiting} are waiting), or count "
                "suggestions too.")
    return "No accepted codings on participant talk yet, so there is nothing to count."


def _themes(codebook: Codebook | None, used: set[str]) -> list[tuple[str | None, list[str]]]:
    """Top-level themes with the used codes under them (codes without a codebook form one group).

    A code the codebook no longer has (left out of a later version) is not quoted, as it is not counted.
    """
    if codebook is None:
        return [(None, sorted(used))]
    groups: list[tuple[str | None, list[str]]] = []
    parents = {c.id: c.parent for c in codebook.codes}

    def top(code: str) -> str:
        seen = {code}
        while parents.get(code) and parents[code] not in seen:
            code = parents[code]
            seen.add(code)
        return code

    for root in [c.id for c in codebook.codes if c.parent is None]:
        members = [c.id for c in codebook.codes if c.id in used and top(c.id) == root]
        if members == [root]:
            groups.append((None, members))
        elif members:
            groups.append((root, members))
    return groups


# ------------------------------------------------------------------------------------------ render


def _cell_text(value: Any) -> str:
    """A table cell as one line of plain text (empty for None/NaN)."""
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    return text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


_MARKDOWN_ACTIVE = str.maketrans({"[": "\\[", "]": "\\]", "`": "\\`", "*": "\\*", "_": "\\_"})


def md_text(text: str, *, inline: bool = True) -> str:
    """User text (transcripts, code names, labels) made inert in Markdown: no HTML, links, images or emphasis.

    ``<``, ``>`` and ``&`` become entities (Markdown passes raw HTML such as ``<script>`` through);
    brackets, back-ticks, ``*`` and ``_`` are backslash-escaped; with ``inline`` line breaks become spaces
    so the text cannot start a heading or leave its block.

    Example:
        >>> md_text('<script>alert(1)</script> [x](javascript:y)')
        '&lt;script&gt;alert(1)&lt;/script&gt; \\\\[x\\\\](javascript:y)'
    """
    text = html.escape(str(text), quote=False).translate(_MARKDOWN_ACTIVE)
    if inline:
        text = " ".join(text.splitlines())
    return text


def _md_cell(value: Any) -> str:
    return md_text(_cell_text(value)).replace("|", "\\|").replace("\u2003", "&emsp;")


def render_markdown(report: Report, path: str | os.PathLike[str]) -> Path:
    """Write the report as Markdown, with figures as PNG files in ``<name>_figures/`` beside it.

    Example:
        >>> import tempfile, pathlib
        >>> r = Report("t"); r.add("paragraph", "Hello")
        >>> render_markdown(r, pathlib.Path(tempfile.mkdtemp()) / "t.md").read_text(encoding="utf-8")
        '# t\\n\\nHello\\n'
    """
    from qualkit.figures.analysis import to_png

    path = Path(path)
    lines = [f"# {md_text(report.title)}", ""]
    folder = path.with_name(path.stem + "_figures")
    for block in report.blocks:
        if block.kind == "heading":
            lines += ["#" * block.level + " " + md_text(block.text), ""]
        elif block.kind == "paragraph":
            lines += [md_text(block.text, inline=False), ""]
        elif block.kind == "table" and block.table is not None and not block.table.empty:
            table = block.table
            lines.append("| " + " | ".join(_md_cell(c) for c in table.columns) + " |")
            lines.append("|" + "|".join("---" for _ in table.columns) + "|")
            for row in table.itertuples(index=False):
                lines.append("| " + " | ".join(_md_cell(v) for v in row) + " |")
            lines.append("")
        elif block.kind == "figure":
            folder.mkdir(exist_ok=True)
            (folder / f"{block.name}.png").write_bytes(to_png(block.chart))
            lines += [f"![{md_text(block.text)}]({folder.name}/{block.name}.png)", "", f"*{md_text(block.text)}*", ""]
        elif block.kind == "quote":
            lines += [f"> \u201c{md_text(block.text.strip())}\u201d \u2014 {md_text(block.attribution)}", ""]
    path.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")
    return path


_CSS = """body{font-family:Georgia,'Times New Roman',serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222;
line-height:1.45}h1,h2,h3,h4{font-family:Helvetica,Arial,sans-serif}table{border-collapse:collapse;margin:1rem 0;
font-size:.9rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}blockquote{margin:.5rem 0 .5rem 1rem;padding-left:1rem;border-left:3px solid #4C78A8}
blockquote footer{font-size:.85rem;color:#555}figure{margin:1rem 0}figcaption{font-size:.85rem;color:#555}
svg{max-width:100%;height:auto}"""


def render_html(report: Report, path: str | os.PathLike[str], *, inline: str = "svg") -> Path:
    """Write the report as one self-contained HTML file: inline SVG (or PNG) figures, no scripts, no CDN.

    Example:
        >>> import tempfile, pathlib
        >>> r = Report("t"); r.add("paragraph", "a < b")
        >>> "a &lt; b" in render_html(r, pathlib.Path(tempfile.mkdtemp()) / "t.html").read_text(encoding="utf-8")
        True
    """
    from qualkit.figures.analysis import to_png, to_svg

    esc = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{esc(report.title)}</title><style>{_CSS}</style></head><body>", f"<h1>{esc(report.title)}</h1>"]
    for block in report.blocks:
        if block.kind == "heading":
            level = min(max(block.level, 2), 6)
            parts.append(f"<h{level}>{esc(block.text)}</h{level}>")
        elif block.kind == "paragraph":
            parts.append(f"<p>{esc(block.text)}</p>")
        elif block.kind == "table" and block.table is not None and not block.table.empty:
            head = "".join(f"<th>{esc(str(c))}</th>" for c in block.table.columns)
            body = "".join("<tr>" + "".join(f"<td>{esc(_cell_text(v)).replace(chr(0x2003), '&emsp;')}</td>"
                                            for v in row) + "</tr>"
                           for row in block.table.itertuples(index=False))
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif block.kind == "figure":
            if inline == "png":
                data = base64.b64encode(to_png(block.chart)).decode("ascii")
                image = f'<img alt="{esc(block.text)}" src="data:image/png;base64,{data}">'
            else:
                image = _strip_svg_prolog(to_svg(block.chart))
            parts.append(f"<figure>{image}<figcaption>{esc(block.text)}</figcaption></figure>")
        elif block.kind == "quote":
            parts.append(f"<blockquote><p>\u201c{esc(block.text.strip())}\u201d</p>"
                         f"<footer>\u2014 {esc(block.attribution)}</footer></blockquote>")
    parts.append("</body></html>")
    path = Path(path)
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path


def _strip_svg_prolog(svg: str) -> str:
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def render_docx(report: Report, path: str | os.PathLike[str]) -> Path:
    """Write the report as a Word document (python-docx): headings, tables, PNG figures, block quotes.

    Example:
        >>> import tempfile, pathlib
        >>> r = Report("t"); r.add("paragraph", "Hello")
        >>> render_docx(r, pathlib.Path(tempfile.mkdtemp()) / "t.docx").suffix
        '.docx'
    """
    from docx import Document
    from docx.shared import Inches, Pt

    from qualkit.figures.analysis import to_png

    document = Document()
    # python-docx's template says author "python-docx", comments "generated by python-docx" and a 2013
    # date; qualkit does not know who wrote the study's report, so the author is left for them to fill in.
    properties = document.core_properties
    properties.title = report.title
    properties.author = ""
    properties.last_modified_by = ""
    properties.comments = "qualkit report"
    properties.created = properties.modified = datetime.now(UTC).replace(microsecond=0)
    document.add_heading(report.title, level=0)
    for block in report.blocks:
        if block.kind == "heading":
            document.add_heading(block.text, level=min(block.level, 9))
        elif block.kind == "paragraph":
            document.add_paragraph(block.text)
        elif block.kind == "table" and block.table is not None and not block.table.empty:
            frame = block.table
            table = document.add_table(rows=1, cols=len(frame.columns))
            with contextlib.suppress(KeyError, ValueError):  # a template without the style: plain table
                table.style = "Table Grid"
            for cell, column in zip(table.rows[0].cells, frame.columns, strict=True):
                cell.text = str(column)
                for run in cell.paragraphs[0].runs:
                    run.bold = True
            for row in frame.itertuples(index=False):
                cells = table.add_row().cells
                for cell, value in zip(cells, row, strict=True):
                    cell.text = _cell_text(value)
            for row in table.rows:
                for cell in row.cells:
                    for paragraph in cell.paragraphs:
                        for run in paragraph.runs:
                            run.font.size = Pt(8.5)
            document.add_paragraph()
        elif block.kind == "figure":
            document.add_picture(io.BytesIO(to_png(block.chart, scale=2)), width=Inches(6.2))
            caption = document.add_paragraph(block.text)
            caption.runs[0].italic = True
        elif block.kind == "quote":
            try:
                paragraph = document.add_paragraph(style="Quote")
            except KeyError:
                paragraph = document.add_paragraph()
            paragraph.add_run(f"\u201c{block.text.strip()}\u201d")
            paragraph.add_run(f" \u2014 {block.attribution}").italic = True
    path = Path(path)
    document.save(str(path))
    return path


def build_report(store: Any, path: str | os.PathLike[str], format: str | None = None, **options: Any) -> Path:
    """Analyse a project and write its report as Markdown (``md``), HTML (``html``) or Word (``docx``).

    ``format`` defaults to the file's extension; ``options`` go to :func:`collect_report`.

    Example:
        >>> from qualkit.store.repository import Store
        >>> import tempfile, pathlib
        >>> build_report(Store.create("sqlite://", name="p"), pathlib.Path(tempfile.mkdtemp()) / "r.docx").suffix
        '.docx'
    """
    path = Path(path)
    check_folder(path)
    format = format or FORMATS.get(path.suffix.lower())
    if format not in ("md", "html", "docx"):
        raise InvalidInput(f"cannot write a report as {format or path.suffix or 'a file without extension'}",
                           fix="use a .md, .html or .docx file name, or format='md'|'html'|'docx'",
                           cli_fix="use a .md, .html or .docx file name, or --format md|html|docx")
    report = collect_report(store, **options)
    renderer = {"md": render_markdown, "html": render_html, "docx": render_docx}[format]
    return renderer(report, path)


def _report_writer(format: str) -> Any:
    def write(store: Any, path: Path, **options: Any) -> Path:
        return build_report(store, path, format, **options)

    return write


_REPORT_OPTIONS = ("by", "coders", "include_suggested", "quotes_per_code", "window", "n_boot", "seed", "title",
                   "figures", "min_cell")
EXPORTS = tuple(
    Export(format, label, tuple(s for s, f in FORMATS.items() if f == format), write=_report_writer(format),
           options=_REPORT_OPTIONS, kind="report")
    for format, label in (("html", "Report (HTML)"), ("md", "Report (Markdown)"), ("docx", "Report (Word)"))
)
"""The study report, one export per document format."""

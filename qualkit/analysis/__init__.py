"""Analysis: pure functions over the store's DataFrames (segments_df, codings_df).

Prevalence by participant attribute, code co-occurrence, distinctive words per group, thematic
saturation, exemplar quotes and inter-coder reliability. Nothing here writes to the store; the
notebook facade (``Project.prevalence(...)`` and friends) passes the frames in.

Example:
    >>> from qualkit.analysis import prevalence, reliability
    >>> callable(prevalence) and callable(reliability)
    True
"""

from qualkit.analysis._common import grouping
from qualkit.analysis.cooccurrence import cooccurrence, cooccurrence_pairs
from qualkit.analysis.distinctive import distinctive_words, log_odds_dirichlet
from qualkit.analysis.prevalence import Prevalence, prevalence
from qualkit.analysis.quotes import attribution, quotes, trim_quote
from qualkit.analysis.reliability import (
    Coder,
    Reliability,
    cohen_kappa,
    cohen_kappa_table,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
    reliability,
)
from qualkit.analysis.saturation import saturation

__all__ = [
    "Coder",
    "Prevalence",
    "Reliability",
    "attribution",
    "cohen_kappa",
    "cohen_kappa_table",
    "cooccurrence",
    "cooccurrence_pairs",
    "distinctive_words",
    "fleiss_kappa",
    "grouping",
    "krippendorff_alpha",
    "log_odds_dirichlet",
    "percent_agreement",
    "prevalence",
    "quotes",
    "reliability",
    "saturation",
    "trim_quote",
]

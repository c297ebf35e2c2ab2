"""Reviewing codings as a team: who sees what, deciding, blind double-coding and codebook edits.

One module per job, each importable on its own:

- :mod:`~qualkit.review.visibility`: :class:`TeamView` and the ``visible_*`` filters of blind coding;
- :mod:`~qualkit.review.decisions`: accept/reject/change/adjust, coding by hand, memos, the queue;
- :mod:`~qualkit.review.double_coding`: assignments, judgements, disagreements, adjudication;
- :mod:`~qualkit.review.codebook_edits`: new codebook versions, edit/add/merge/split codes.

Everything takes the acting :class:`~qualkit.users.User` and checks its permissions; nothing imports
Streamlit. This package only re-exports those names. Span arithmetic on stored text
(``locate_passage``, ``word_spans``) lives in :mod:`qualkit.spans`.

Example:
    >>> from qualkit import review
    >>> review.sees_everything("ana", review.TeamView())
    True
"""

from qualkit.review.codebook_edits import (
    add_codebook_code,
    merge_codes,
    save_codebook_version,
    split_code,
    update_code,
)
from qualkit.review.decisions import (
    DECISIONS,
    accept_many,
    add_code,
    add_codes,
    bulk_accept,
    coding_history,
    decide,
    last_decision,
    rank_suggestions,
    revert_decision,
    review_queue,
    write_memo,
)
from qualkit.review.double_coding import (
    CONSENSUS,
    adjudicate,
    agreement_summary,
    assign,
    disagreements,
    judgements,
    mark_done,
    settle_agreements,
    unassign,
)
from qualkit.review.visibility import (
    TeamView,
    code_counts,
    code_examples,
    hidden_coders_anywhere,
    sees_everything,
    visible_codings,
    visible_events,
    visible_memos,
)

__all__ = [
    "CONSENSUS",
    "DECISIONS",
    "TeamView",
    "accept_many",
    "add_code",
    "add_codebook_code",
    "add_codes",
    "adjudicate",
    "agreement_summary",
    "assign",
    "bulk_accept",
    "code_counts",
    "code_examples",
    "coding_history",
    "decide",
    "disagreements",
    "hidden_coders_anywhere",
    "judgements",
    "last_decision",
    "mark_done",
    "merge_codes",
    "rank_suggestions",
    "revert_decision",
    "review_queue",
    "save_codebook_version",
    "sees_everything",
    "settle_agreements",
    "split_code",
    "unassign",
    "update_code",
    "visible_codings",
    "visible_events",
    "visible_memos",
    "write_memo",
]

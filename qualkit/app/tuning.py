"""The Study page's "Teach the encoder" section: queue fine-tuning for the worker and show what it did.

Fine-tuning never runs in the Streamlit server: the button queues a ``finetune`` job
(:func:`qualkit.coding.workflow.finetune_job`) that the model worker runs, with its progress in the job's
heartbeat; when it is done, autocode and the review queue use the tuned encoder for this codebook version.
The worker also queues it by itself (:func:`qualkit.coding.workflow.tuning_due`): the button is for
tuning sooner, e.g. right after a codebook edit.

Example:
    >>> encoder_caption({"objective": "classify", "examples": 640, "seconds": 61.2, "codebook_version": 3}, 3)
    'Tuned on 640 examples (classify) in 61 s, for codebook v3: suggestions use it.'
    >>> encoder_caption({"objective": "classify", "examples": 640, "seconds": 122.4, "runs": 2,
    ...                  "codebook_version": 3}, 3)
    'Tuned on 640 examples (classify, 2 runs averaged) in 122 s, for codebook v3: suggestions use it.'
"""

from __future__ import annotations

import math
from typing import Any

import streamlit as st

from qualkit.app import actions, clicks, state
from qualkit.coding.finetune import AUTO_TUNE_FROM, AUTO_TUNE_GROWTH, tuning_method
from qualkit.store import jobs


def encoder_caption(record: dict[str, Any] | None, codebook_version: int | None) -> str:
    """One line saying which encoder the suggestions use.

    Example:
        >>> encoder_caption(None, 1)[:60]
        'Suggestions use the packaged encoder (MiniLM), not yet tuned'
        >>> encoder_caption({"objective": "classify", "examples": 300, "judged": 120, "codebook_version": 1}, 1)[-62:]
        '(120 judged segments; tuned again at 180): suggestions use it.'
    """
    if not record:
        return (f"Suggestions use the packaged encoder (MiniLM), not yet tuned to this study: the model worker tunes "
                f"it by itself once {AUTO_TUNE_FROM} segments are judged.")
    size = record.get("examples") or record.get("pairs")
    what = (f"Tuned on {size} examples ({tuning_method(record)}) in {float(record.get('seconds') or 0):.0f} s, "
            f"for codebook v{record.get('codebook_version')}")
    if record.get("codebook_version") != codebook_version:
        return what + ": the codebook has changed since, so suggestions use the packaged encoder until it is tuned again."
    if record.get("judged"):
        what += f" ({record['judged']} judged segments; tuned again at {math.ceil(AUTO_TUNE_GROWTH * record['judged'])})"
    return what + ": suggestions use it."


def _queue(ctx: state.Context) -> None:
    params = {"seed": 0} | ({"runs": 2} if st.session_state.get("tuning_two_runs") else {})
    job_id = actions.queue_job(ctx.store, "finetune", ctx.user.name, params)
    st.session_state["tuning_message"] = (
        "Fine-tuning queued: the model worker runs it in the background; its progress shows above as it goes."
        if job_id is not None else "Background model work is switched off here (QUALKIT_APP_RETRAIN=0).")


REFRESH_SECONDS = 3
"""How often the section asks the store how the worker's tuning goes (one small query)."""


@st.fragment(run_every=REFRESH_SECONDS)
def tuning_status(ctx: state.Context) -> None:
    """The encoder the suggestions use, and the worker's tuning as it goes: redrawn every few seconds.

    The page said "this page shows its progress" and then showed "queued" until it was reloaded, though the
    worker had finished in 10 s.
    """
    record = ctx.store.settings.get("encoder") or None
    codebook = ctx.store.settings.get("codebook")
    version = ctx.project.codebook.version if codebook is not None else None
    status = jobs.work_status(ctx.store)
    running = status["running"]
    if running is not None and running.kind == "finetune":
        progress = running.progress or {}
        done, total = int(progress.get("done") or 0), int(progress.get("total") or 0)
        st.progress(done / total if total else 0.0, text=progress.get("message") or "Fine-tuning…")
    elif ((recent := jobs.jobs_df(ctx.store, limit=20))["kind"].eq("finetune") & recent["status"].eq("queued")).any():
        st.caption(":material/hourglass_top: Fine-tuning waits for the model worker (it finishes the job before).")
    st.caption(encoder_caption(record, version))


def tuning_section(ctx: state.Context) -> None:
    """Show the study's encoder and, for those who may run analyses, a button that queues fine-tuning."""
    st.subheader("Teach the encoder this study's language")
    tuning_status(ctx)
    codebook = ctx.store.settings.get("codebook")
    running = jobs.work_status(ctx.store)["running"]
    if ctx.user.can_run_analyses() and codebook is not None:
        st.checkbox("Average two tuning runs", key="tuning_two_runs",
                    help="Steadier suggestions for twice the time: two seeded runs averaged weight by weight. "
                         "Measured against one run: macro-F1 +0.012 on NHS comments, kappa +0.023 on the demo, "
                         "no change on AnnoMI counselling talk (python -m bench.coding --candidates 'two tuning runs').")
        clicks.button("Fine-tune on our decisions and codebook", key="tuning_start", on_click=_queue, args=(ctx,),
                      disabled=running is not None and running.kind == "finetune",
                      help="A few minutes on 2 cores (about 20 examples a second); runs in the background worker.")
    message = st.session_state.pop("tuning_message", None)
    if message:
        st.info(message)

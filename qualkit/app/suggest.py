"""The "Suggest codes" buttons (Study page: the whole study; Transcript page: one transcript), with a progress bar.

The machine coder trains on the team's decisions so far and proposes codes; suggestions nobody decided
are refreshed, decisions stay exactly as they are (:meth:`qualkit.project.Project.suggest`). Only people
who may code see the button. The run happens in the page with ``st.progress``; the loaded models (spaCy,
the embedder) are kept once per study for this server (:func:`models_holder`, ``st.cache_resource``) and
shared by every click, never copied.

Example:
    >>> suggest_button(ctx, key="study_suggest")  # doctest: +SKIP
"""

from __future__ import annotations

import streamlit as st

from qualkit.app import queries, resources, state, ui
from qualkit.errors import QualkitError
from qualkit.project import Project


@st.cache_resource(show_spinner=False)
def models_holder(url: str, project: str) -> Project:
    """A project object that holds the loaded models for "Suggest codes" (one per study and server).

    Example:
        >>> models_holder(url, "pilot").user  # doctest: +SKIP
        'auto'
    """
    return Project(resources.store_for(url, project), user="auto")


def suggesting_project(ctx: state.Context) -> Project:
    """The open project acting as the logged-in user, with the app's shared models attached.

    Example:
        >>> suggesting_project(ctx).user  # doctest: +SKIP
        'ana'
    """
    from qualkit.coding.workflow import attach_resources, project_resources

    nlp, embedder = project_resources(models_holder(ctx.url, ctx.name))
    project = Project(ctx.store, user=ctx.user.name)
    attach_resources(project, nlp=nlp, embedder=embedder)
    return project


def suggest_button(ctx: state.Context, *, key: str, source_id: int | None = None, source_name: str = "") -> None:
    """A "Suggest codes" button for the study (or one transcript) that runs with a progress bar, then reloads.

    Nothing is shown to a reader who may not code, nor before the study has a codebook.

    Example:
        >>> suggest_button(ctx, key="tx_suggest", source_id=3, source_name="fg1.txt")  # doctest: +SKIP
    """
    if not ctx.user.can_code() or queries.codebook(ctx.url, ctx.name, ctx.gen) is None:
        return
    what = f"for {source_name}" if source_id is not None else "for the whole study"
    if not st.button(f"Suggest codes {what}", key=key, icon=":material/auto_awesome:",
                     help="The machine coder proposes codes, learning from the decisions so far. Suggestions "
                          "nobody has decided are refreshed; accepted, rejected and hand-made codes stay as they are."):
        return
    st.caption(":material/hourglass_top: Stay on this page until it is done: leaving it or closing the tab stops "
               "the suggesting; press the button again to go on.")
    bar = st.progress(0.0, text="Getting the coder ready (it learns from the decisions so far)…")

    def report(done: int, total: int) -> None:
        bar.progress(min(done / total, 1.0), text=f"Suggesting codes: {done} of {total} passages")

    try:
        result = suggesting_project(ctx).suggest(source_id, progress=report)
    except QualkitError as error:
        bar.empty()
        st.error(f"No codes were suggested: {error}")
        return
    bar.progress(1.0, text="Done")
    where = source_name if source_id is not None else "the study"
    state.flash(f"{ui.counted(result['suggestions'], 'suggestion')} for "
                f"{ui.counted(result['segments'], 'participant passage')} of {where} "
                "await review on the Review queue page." if result["segments"] else
                f"{where.capitalize()} has no participant passages to code yet.",
                "success" if result["suggestions"] else "info")
    st.rerun()

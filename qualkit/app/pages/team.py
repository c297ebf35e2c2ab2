"""Team page: the users and their roles; administrators add, remove and change roles; everyone can change their password."""

from __future__ import annotations

import streamlit as st

from qualkit import users as team_users
from qualkit.app import clicks, state
from qualkit.users import ROLES


def _add() -> None:
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    try:
        user.require("manage_users")
    except Exception as error:
        state.report_error(error)
        return
    name = st.session_state.get("tm_name", "")
    added = state.run_action(team_users.add_user, store, name, st.session_state.get("tm_password", ""),
                             st.session_state.get("tm_role", "coder"),
                             can_edit_codebook=bool(st.session_state.get("tm_codebook")), actor=user.name,
                             success=f"Added {name}.")
    st.session_state["tm_password"] = ""
    if added is not None:  # the form kept the name, and a second click tried to add the same person again
        st.session_state["tm_name"] = ""
        st.session_state["tm_codebook"] = False


def _role(name: str) -> None:
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    try:
        user.require("manage_users")
    except Exception as error:
        state.report_error(error)
        return
    state.run_action(team_users.set_role, store, name, st.session_state.get(f"tm_role_{name}"),
                     can_edit_codebook=bool(st.session_state.get(f"tm_cb_{name}")), actor=user.name,
                     success=f"Updated {name}.")


def _remove(name: str) -> None:
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    try:
        user.require("manage_users")
    except Exception as error:
        state.report_error(error)
        return
    state.run_action(team_users.remove_user, store, name, actor=user.name, success=f"Removed {name}.")


def _password() -> None:
    user, store = state.current_user(), state.current_store()
    if user is None or store is None:
        return
    old, new = st.session_state.get("tm_old", ""), st.session_state.get("tm_new", "")
    if not team_users.check_password(store, user.name, old):
        state.flash("Your current password is not right; nothing changed.", "error")
        return
    state.run_action(team_users.set_password, store, user.name, new, actor=user.name,
                     success="Your password is changed.")
    st.session_state["tm_old"] = st.session_state["tm_new"] = ""


def render() -> None:
    """The Team page."""
    ctx = state.page_context("Team", needs_project=False)
    user = state.current_user()
    store = ctx.store if ctx else state.current_store()
    if store is None:
        st.info("Open a study first.")
        return
    people = team_users.list_users(store)
    if not user.can_manage_users():
        st.dataframe(people[["name", "display_name", "role"]], hide_index=True, width="stretch")
    else:
        for row in people.itertuples():
            cols = st.columns([2, 2, 2, 1.3, 1.3], vertical_alignment="bottom")
            shown = row.display_name if isinstance(row.display_name, str) and row.display_name.strip() else ""
            cols[0].write(f"**{row.name}**" + (f" · {shown}" if shown else ""))  # "(Rhian (PI))" read badly
            cols[1].selectbox("Role", ROLES, index=ROLES.index(row.role), key=f"tm_role_{row.name}",
                              label_visibility="collapsed")
            if row.role == "admin":  # an administrator edits the codebook whatever the box would say
                cols[2].caption("edits the codebook (administrator)")
            elif row.role == "viewer":  # "a viewer only reads": a box offering more contradicted it
                cols[2].caption("reads only (viewer)")
            else:
                cols[2].checkbox("may edit the codebook", value=bool(row.can_edit_codebook), key=f"tm_cb_{row.name}")
            clicks.button("Save", key=f"tm_save_{row.name}", on_click=_role, args=(row.name,), where=cols[3])
            clicks.button("Remove", key=f"tm_rm_{row.name}", on_click=_remove, args=(row.name,),
                          disabled=row.name == user.name, where=cols[4])
        st.subheader("Add a user")
        a, b, c, d = st.columns([2, 2, 1.5, 1.5], vertical_alignment="bottom")
        a.text_input("Log-in name", key="tm_name")
        b.text_input("Password (8 or more characters)", type="password", key="tm_password")
        c.selectbox("Role", ROLES, index=1, key="tm_role")
        d.checkbox("may edit the codebook", key="tm_codebook")
        clicks.button("Add user", key="tm_add", on_click=_add, type="primary")
        st.caption("Also from the server: `qualkit users add NAME --role coder`.")
    with st.expander("Change my password"):
        st.text_input("Current password", type="password", key="tm_old")
        st.text_input("New password", type="password", key="tm_new")
        clicks.button("Change password", key="tm_pw", on_click=_password)


render()

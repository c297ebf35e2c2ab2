"""qualkit's review app: the router. Run with ``QUALKIT_DATABASE_URL=demo.qualkit.db streamlit run app.py``."""

import streamlit as st

from qualkit.app import clicks, navigation, state, ui

st.set_page_config(page_title="qualkit", page_icon=ui.APP_ICON, layout="wide")  # inline: no icon CDN
clicks.run_missed()
user = state.current_user()
state.sync_cookie()
if user is not None:
    state.sidebar(user)
    state.sync_study_param()
st.navigation(navigation.pages_for(user is not None), position="sidebar" if user is not None else "hidden",
              expanded=True).run()

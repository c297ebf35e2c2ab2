"""The shared review app (Streamlit): the only package of qualkit that imports Streamlit.

``app.py`` at the top of the checkout is the router (``st.navigation``); the pages live in
``qualkit/app/pages/`` and stay thin: they read through :mod:`qualkit.app.queries` (``st.cache_data``
keyed on the project's newest event, so any write by anyone invalidates them), act through
:mod:`qualkit.review` and :mod:`qualkit.users` (which check permissions), and keep only view state
(filters, page numbers, who is logged in) in ``st.session_state``: the store is the record.

Example:
    $ QUALKIT_DATABASE_URL=demo.qualkit.db streamlit run app.py
"""

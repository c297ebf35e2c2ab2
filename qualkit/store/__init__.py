"""The project store, the only package that touches the database: one module per table family.

``repository.Store`` is the facade (projects, events, sources, participants, codebooks, codings, memos
as mixins over ``base.StoreBase``); team work and theme runs are functions in ``users``, ``assignments``,
``decisions``, ``queries``, ``bulk`` and ``theme_runs``; ``event_types`` is the event vocabulary;
``schema``, ``engine`` and ``migrations`` hold the tables, engines and Alembic revisions.
"""

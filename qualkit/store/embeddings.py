"""The embedding cache: sentence vectors kept under (model key, SHA-1 of the text) in the project's database.

Coding, theme discovery and the app share it through :class:`qualkit.embeddings.CachedEmbedder`, so a text is
encoded once per model in a project's life. Reads and writes go in batches; a vector another process stored
meanwhile is kept, never overwritten.

Example:
    >>> import numpy as np
    >>> from qualkit.store.repository import Store
    >>> store = Store.create("sqlite://")
    >>> save_vectors(store, "m", {"abc": np.ones(2, dtype=np.float32)})
    1
    >>> load_vectors(store, "m", ["abc", "zzz"])["abc"].tolist()
    [1.0, 1.0]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy import func, select

from qualkit.store.schema import EmbeddingRow

BATCH = 900  # under SQLite's default limit of bound parameters


def load_vectors(store: Any, model: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
    """The cached vectors of ``model`` for those of ``keys`` (text hashes) that are stored.

    Example:
        >>> from qualkit.store.repository import Store
        >>> load_vectors(Store.create("sqlite://"), "m", ["abc"])
        {}
    """
    found: dict[str, np.ndarray] = {}
    keys = list(keys)
    with store.transaction() as session:
        for i in range(0, len(keys), BATCH):
            rows = session.execute(select(EmbeddingRow.text_hash, EmbeddingRow.vector).where(
                EmbeddingRow.model == model, EmbeddingRow.text_hash.in_(keys[i:i + BATCH])))
            found.update({h: np.frombuffer(v, dtype=np.float32) for h, v in rows})
    return found


def save_vectors(store: Any, model: str, vectors: Mapping[str, np.ndarray]) -> int:
    """Store vectors of ``model`` by text hash in batches, skipping hashes already stored; return how many were new.

    Example:
        >>> import numpy as np
        >>> from qualkit.store.repository import Store
        >>> store = Store.create("sqlite://")
        >>> save_vectors(store, "m", {"a": np.zeros(2, np.float32)}), save_vectors(store, "m", {"a": np.zeros(2, np.float32)})
        (1, 0)
    """
    items = list(vectors.items())
    added = 0
    with store.transaction() as session:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:  # pragma: no cover - the store supports SQLite and PostgreSQL
            from sqlalchemy import insert
        for i in range(0, len(items), BATCH):
            part = items[i:i + BATCH]
            rows = [{"model": model, "text_hash": k, "dim": int(np.asarray(v).shape[0]),
                     "vector": np.asarray(v, dtype=np.float32).tobytes()} for k, v in part]
            statement = insert(EmbeddingRow.__table__)
            if dialect in ("postgresql", "sqlite"):
                statement = statement.on_conflict_do_nothing(index_elements=["model", "text_hash"])
            result = session.connection().execute(statement, rows)
            added += int(result.rowcount) if result.rowcount is not None and result.rowcount >= 0 else len(part)
    return added


def count_vectors(store: Any, model: str | None = None) -> int:
    """How many vectors are cached (for ``model``, or for every model).

    Example:
        >>> from qualkit.store.repository import Store
        >>> count_vectors(Store.create("sqlite://"))
        0
    """
    query = select(func.count()).select_from(EmbeddingRow)
    if model is not None:
        query = query.where(EmbeddingRow.model == model)
    with store.transaction() as session:
        return int(session.scalar(query) or 0)

"""A PostgreSQL schema of a benchmark's own, dropped afterwards (the tests use another)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from bot.db.engine import create_db_engine


@contextmanager
def scratch_schema(url: str, schema: str) -> Iterator[str]:
    """The database URL with `schema` first on its search path, empty, for the block."""
    admin = create_db_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()

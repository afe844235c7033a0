"""Reliability fixtures: a fresh PostgreSQL schema per test (when configured) and a WAL SQLite file.

Set ``BATON_TEST_POSTGRES_URL`` (``eval "$(bash .ci/postgres.sh)"`` does) to run the PostgreSQL
half. Without it those tests skip, except under ``CI=true``, where a missing server is a failure.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES_ENV = "BATON_TEST_POSTGRES_URL"


def postgres_url_or_skip() -> str:
    """The PostgreSQL URL to test against; skip without one, but fail on CI."""
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if url:
        return url
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{POSTGRES_ENV} is not set on CI: run `eval \"$(bash .ci/postgres.sh)\"` first", pytrace=False)
    pytest.skip(f"{POSTGRES_ENV} not set (eval \"$(bash .ci/postgres.sh)\" to enable)")


def with_search_path(*, url: str, schema: str) -> str:
    """The URL with libpq ``options`` so every connection works inside ``schema``."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose connections live in a brand-new schema, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    base = postgres_url_or_skip()
    schema = f"baton_rel_{secrets.token_hex(4)}"
    admin = create_engine(base, poolclass=NullPool)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield with_search_path(url=base, schema=schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> Iterator[str]:
    """A file SQLite database (make_engine turns on WAL and a busy timeout).

    It lives on /dev/shm when there is one: these tests are about races, not disk syncs, and
    tmpfs keeps 5,000 claims well under the time budget."""
    shm = Path("/dev/shm")
    folder = Path(tempfile.mkdtemp(prefix="baton-rel-", dir=shm)) if shm.is_dir() and os.access(shm, os.W_OK) else tmp_path
    try:
        yield f"sqlite:///{folder / 'reliability.db'}"
    finally:
        if folder != tmp_path:
            shutil.rmtree(folder, ignore_errors=True)

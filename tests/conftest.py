"""Shared fixtures: the real encoder once per session, a shared index home, fresh databases.

Fresh databases: ``BATON_TEST_DATABASE`` picks the backend of every test database, ``sqlite``
(the default: a file in the test's ``tmp_path``) or ``postgres`` (a brand-new schema on the
server in ``BATON_TEST_POSTGRES_URL``; ``eval "$(bash .ci/postgres.sh)"`` starts one). A
PostgreSQL test database is a schema named ``baton_t<pid>_<random>``; the URL selects it with
libpq ``options=-csearch_path=<schema>`` and tags every connection with
``application_name=<schema>``. Dropping it disposes the engines that connected to it,
terminates any connection still tagged with its name, then drops the schema, so leaked pools
cannot pile up to ``max_connections`` over hundreds of tests. Schemas a test did not drop
(module-scoped servers) are dropped when the session ends.
"""

from __future__ import annotations

import os
import secrets
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.settings import SAMPLE_KNOWLEDGE, SAMPLE_RULES, Settings

REPO = Path(__file__).resolve().parent.parent
EVAL = REPO.parent / "shared" / "eval"

DATABASE_ENV = "BATON_TEST_DATABASE"
POSTGRES_ENV = "BATON_TEST_POSTGRES_URL"
BACKENDS = ("sqlite", "postgres")
# One prefix per pytest process: two sessions sharing a server never drop each other's schemas.
SCHEMA_PREFIX = f"baton_t{os.getpid()}_"


def database_backend() -> str:
    """``sqlite`` or ``postgres``, from ``BATON_TEST_DATABASE`` (default ``sqlite``)."""
    backend = os.environ.get(DATABASE_ENV, "").strip().lower() or "sqlite"
    if backend not in BACKENDS:
        raise pytest.UsageError(f"{DATABASE_ENV}={backend!r}: expected one of {', '.join(BACKENDS)}")
    return backend


def postgres_server_url() -> str:
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if not url:
        raise pytest.UsageError(f"{DATABASE_ENV}=postgres needs {POSTGRES_ENV}: run `eval \"$(bash .ci/postgres.sh)\"` first")
    return url


_admin_engine = None
_postgres_engines: weakref.WeakSet = weakref.WeakSet()


def _admin():
    """An autocommit engine on the server's database that keeps no connection open."""
    global _admin_engine
    if _admin_engine is None:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        _admin_engine = create_engine(postgres_server_url(), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    return _admin_engine


def _remember_postgres_engine(connection) -> None:
    if connection.engine.dialect.name == "postgresql":
        _postgres_engines.add(connection.engine)


def _track_postgres_engines() -> None:
    """Remember every engine that connects to PostgreSQL, so teardown can dispose its pool."""
    from sqlalchemy import Engine, event

    if not event.contains(Engine, "engine_connect", _remember_postgres_engine):
        event.listen(Engine, "engine_connect", _remember_postgres_engine)


def _schema_of(url: str) -> str | None:
    from sqlalchemy.engine import make_url

    name = make_url(url).query.get("application_name")
    return name if isinstance(name, str) and name.startswith("baton_t") else None


def fresh_database_url(folder: Path, *, name: str = "baton") -> str:
    """A URL of a new, empty database: ``sqlite:///<folder>/<name>.db`` or a new PostgreSQL schema.

    The caller drops it with :func:`drop_database` (or uses :func:`fresh_database` or the
    ``database_url`` fixture); whatever is left is dropped at the end of the session."""
    if database_backend() == "sqlite":
        return f"sqlite:///{folder / f'{name}.db'}"
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    _track_postgres_engines()
    schema = SCHEMA_PREFIX + secrets.token_hex(5)
    with _admin().connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_server_url()).update_query_dict({"options": f"-csearch_path={schema}", "application_name": schema})
    return url.render_as_string(hide_password=False)


def _drop_schemas(*, where: str, value: str) -> None:
    """Close every connection to the matching schemas, then drop them."""
    from sqlalchemy import text

    with _admin().connect() as connection:
        connection.execute(text("SET lock_timeout = '30s'"))
        connection.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name {where} :value AND pid <> pg_backend_pid()"),
                           {"value": value})
        schemas = connection.execute(text(f"SELECT nspname FROM pg_namespace WHERE nspname {where} :value"), {"value": value}).scalars().all()
        for schema in schemas:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def drop_database(url: str) -> None:
    """Drop a database made by :func:`fresh_database_url` (a SQLite file stays in its tmp folder)."""
    schema = _schema_of(url)
    if schema is None:
        return
    for engine in list(_postgres_engines):
        if engine.url.query.get("application_name") == schema:
            engine.dispose()
    _drop_schemas(where="=", value=schema)


@contextmanager
def fresh_database(folder: Path, *, name: str = "baton") -> Iterator[str]:
    """A fresh database URL for the duration of the block."""
    url = fresh_database_url(folder, name=name)
    try:
        yield url
    finally:
        drop_database(url)


def pytest_configure(config) -> None:
    """A wrong switch or a missing server stops the run before any test starts."""
    if database_backend() == "postgres":
        postgres_server_url()


def pytest_report_header(config) -> str:
    return f"test databases: {database_backend()} ({DATABASE_ENV})"


@pytest.fixture(scope="session", autouse=True)
def _drop_leftover_databases() -> Iterator[None]:
    """Drop the PostgreSQL schemas still there when the session ends."""
    yield
    if database_backend() == "postgres":
        for engine in list(_postgres_engines):
            if str(engine.url.query.get("application_name", "")).startswith(SCHEMA_PREFIX):
                engine.dispose()
        _drop_schemas(where="LIKE", value=SCHEMA_PREFIX.replace("_", r"\_") + "%")
        if _admin_engine is not None:
            _admin_engine.dispose()


@pytest.fixture
def database_url(tmp_path) -> Iterator[str]:
    """A fresh, empty database for one test (SQLite file or PostgreSQL schema, see the module doc)."""
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture(scope="session")
def encoder():
    from knowledge.embedding import load_encoder

    return load_encoder()


@pytest.fixture(scope="session")
def shared_home(tmp_path_factory) -> Path:
    """One home for the knowledge index and embedding cache, reused by every test."""
    return tmp_path_factory.mktemp("baton-home")


@pytest.fixture
def make_settings(shared_home, database_url):
    """Settings pointing at the sample rules and knowledge, with a fresh database."""

    def build(**overrides) -> Settings:
        values = dict(home=shared_home, database_url=database_url, rules=SAMPLE_RULES, knowledge=SAMPLE_KNOWLEDGE, encoder_process=False)
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return build


@pytest.fixture
def recording():
    from bot.outbox import RecordingOutbox

    return RecordingOutbox(platform="test")


@pytest.fixture
def core(make_settings, recording):
    """The real core on the sample deployment, sending into a recording outbox."""
    from bot.app import build_core
    from bot.outbox import OutboxRouter

    return build_core(settings=make_settings(), outboxes=OutboxRouter(outboxes=[recording]))


# --- skips: always said why; never allowed in CI --------------------------------------------
# `-rs` (pyproject's addopts) lists every skip with its reason in the summary. Under CI (`CI` set,
# as .ci/run does) a skipped test fails the run: CI installs Chromium, starts PostgreSQL and has
# ../shared, so a skip there hides a test that should have run.
def _skipped_reports(session) -> list:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    return list(reporter.stats.get("skipped", [])) if reporter is not None else []


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    skipped = _skipped_reports(session)
    if os.environ.get("CI", "").lower() in ("", "0", "false") or not skipped:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_line(f"CI: {len(skipped)} test(s) skipped; under CI every test must run (the reasons are listed below)", red=True, bold=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED

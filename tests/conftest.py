"""Shared fixtures: the real encoder once per session, a shared index home, fresh databases."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SAMPLE_KNOWLEDGE, SAMPLE_RULES, Settings

REPO = Path(__file__).resolve().parent.parent
EVAL = REPO.parent / "shared" / "eval"


@pytest.fixture(scope="session")
def encoder():
    from knowledge.embedding import load_encoder

    return load_encoder()


@pytest.fixture(scope="session")
def shared_home(tmp_path_factory) -> Path:
    """One home for the knowledge index and embedding cache, reused by every test."""
    return tmp_path_factory.mktemp("baton-home")


@pytest.fixture
def make_settings(shared_home, tmp_path):
    """Settings pointing at the sample rules and knowledge, with a fresh SQLite database."""

    def build(**overrides) -> Settings:
        values = dict(home=shared_home, database_url=f"sqlite:///{tmp_path / 'baton.db'}", rules=SAMPLE_RULES, knowledge=SAMPLE_KNOWLEDGE)
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

"""The durable inbox: store once, lease once, retry while attempts are left, finish."""

from __future__ import annotations

import pytest

from bot.inbox import Inbox
from bot.store.db import make_engine, migrate
from bot.store.durable import DONE, FAILED


@pytest.fixture
def engine(database_url):
    engine = make_engine(url=database_url)
    migrate(engine=engine)
    return engine


def test_a_stored_event_is_leased_once_and_finished(engine):
    inbox = Inbox(engine=engine, owner="replica-1")
    assert inbox.accept(key="ev-1", platform="slack", kind="event", payload={"n": 1}).new
    assert not inbox.accept(key="ev-1", platform="slack", kind="event", payload={"n": 1}).new  # a redelivery
    row = inbox.take(key="ev-1")
    assert row is not None and row.payload == {"n": 1} and row.attempts == 1 and row.owner == "replica-1"
    assert inbox.take(key="ev-1") is None  # this process is on it
    assert Inbox(engine=engine, owner="replica-2").take(key="ev-1") is None  # so is nobody else
    inbox.finish(keys=["ev-1"])
    assert inbox.get(key="ev-1").status == DONE
    assert inbox.take(key="ev-1") is None and inbox.take(key="never-stored") is None


def test_a_failing_event_is_retried_until_its_attempts_run_out(engine):
    inbox = Inbox(engine=engine, owner="replica-1", max_attempts=2)
    inbox.accept(key="ev-2", platform="slack", kind="event", payload={})
    assert inbox.take(key="ev-2") is not None
    assert inbox.may_retry(keys=["ev-2"])  # first attempt: from the lease, no query
    assert Inbox(engine=engine, owner="replica-2", max_attempts=2).may_retry(keys=["ev-2"])  # the same, read from the table
    inbox.give_back(key="ev-2", error="TimeoutError")
    assert inbox.take(key="ev-2").attempts == 2
    assert not inbox.may_retry(keys=["ev-2"])  # the last attempt: a failure now is apologised for
    assert not Inbox(engine=engine, owner="replica-2", max_attempts=2).may_retry(keys=["ev-2"])
    inbox.give_back(key="ev-2", error="TimeoutError")
    assert inbox.get(key="ev-2").status == FAILED and inbox.take(key="ev-2") is None
    assert not inbox.may_retry(keys=[]) and not inbox.may_retry(keys=["never-stored"])

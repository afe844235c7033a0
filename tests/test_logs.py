"""Structured logs: one JSON object per line, secrets never written, customer text only when allowed."""

from __future__ import annotations

import argparse
import json
import logging

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import IntegrityError

from bot.cli import command_logging
from bot.logs import JsonFormatter, RedactingFilter, Redactor, configure_logging, remove_logging

SECRETS = {
    "slack_bot_token": "xoxb-1111-2222-fakebottoken",
    "slack_signing_secret": "fake-signing-secret-8c1f",
    "slack_app_token": "xapp-1-A111-fakeapptoken",
    "microsoft_app_password": "Fake~Teams.Password_42",
    "openai_api_key": "sk-fake-openai-key-0123456789",
}
DB_PASSWORD = "fake-db-p@ss"
DB_URL = "postgresql+psycopg://baton:fake-db-p%40ss@db.internal:5432/baton"
CUSTOMER = "My card 4111 1111 1111 1111 was charged twice, please refund"
log = logging.getLogger("tests.logs")


@pytest.fixture
def logs(make_settings, capsys):
    """Configure logging for some settings; yields a reader of the JSON lines written since."""
    root, previous = logging.getLogger(), logging.getLogger().level
    handlers = []

    def configure(**overrides):
        settings = make_settings(database_url=DB_URL, **{**SECRETS, **overrides})
        handlers.append(configure_logging(settings=settings, level="DEBUG"))

    def read() -> str:
        return capsys.readouterr().err

    yield configure, read
    for handler in handlers:
        remove_logging(handler)
    root.setLevel(previous)


def entries(text: str) -> list[dict]:
    lines = text.splitlines()
    assert lines, "nothing was logged"
    return [json.loads(line) for line in lines]


def _integrity_error(value: str) -> IntegrityError:
    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE notes (body TEXT UNIQUE)")
        connection.exec_driver_sql("INSERT INTO notes VALUES (?)", (value,))
        try:
            connection.exec_driver_sql("INSERT INTO notes VALUES (?)", (value,))
        except IntegrityError as exc:
            return exc
    raise AssertionError("the duplicate insert should fail")


def test_every_line_is_one_json_object_with_the_standard_fields(logs):
    configure, read = logs
    configure()
    log.info("first line\nsecond line", extra={"event_id": "Ev1", "level": "not the real level"})
    log.warning("plain")
    first, second = entries(read())
    assert first["message"] == "first line\nsecond line" and first["event_id"] == "Ev1"
    assert first["level"] == "INFO" and first["extra_level"] == "not the real level"
    assert first["logger"] == "tests.logs" and first["time"].endswith("+00:00")
    assert second["level"] == "WARNING" and second["message"] == "plain"


def test_secrets_never_reach_the_log_even_when_logged_on_purpose(logs):
    configure, read = logs
    configure()
    log.info("tokens %s %s %s", SECRETS["slack_bot_token"], SECRETS["slack_app_token"], SECRETS["slack_signing_secret"])
    log.info("teams %s, openai %s, database %s", SECRETS["microsoft_app_password"], SECRETS["openai_api_key"], DB_URL)
    log.warning("headers", extra={"auth": f"Bearer {SECRETS['openai_api_key']}", "nested": {"pw": [DB_PASSWORD]}, "obj": SecretHolder()})
    log.info("unknown token shapes: xoxp-99-unknown xapp-2-unknown sk-unknownkey12345 Authorization: Bearer abc.def-ghi")
    log.info("another url postgresql://someone:hunter22@elsewhere/db")
    try:
        raise RuntimeError(f"login failed with {SECRETS['microsoft_app_password']}")
    except RuntimeError:
        log.exception("with traceback")
    written = read()
    entries(written)
    for secret in [*SECRETS.values(), DB_PASSWORD, "fake-db-p%40ss", "xoxp-99-unknown", "xapp-2-unknown", "sk-unknownkey12345", "abc.def-ghi", "hunter22"]:
        assert secret not in written, secret
    assert written.count("[secret]") >= 12
    assert "postgresql+psycopg://baton:[secret]@db.internal:5432/baton" in written


class SecretHolder:
    def __str__(self) -> str:
        return f"holder of {SECRETS['slack_bot_token']}"


def test_customer_text_is_dropped_by_default(logs):
    configure, read = logs
    configure()
    log.info("customer wrote", extra={"text": CUSTOMER, "customer_text": CUSTOMER, "message_text": CUSTOMER, "event_id": "Ev2"})
    log.exception("turn failed", exc_info=_integrity_error(CUSTOMER))
    written = read()
    first, second = entries(written)
    assert CUSTOMER not in written and "4111" not in written
    assert first["text_chars"] == first["customer_text_chars"] == first["message_text_chars"] == len(CUSTOMER)
    assert not {"text", "customer_text", "message_text"} & set(first) and first["event_id"] == "Ev2"
    assert "IntegrityError" in second["exception"] and "[parameters: hidden]" in second["exception"]


def test_customer_text_is_kept_when_allowed(logs):
    configure, read = logs
    configure(log_customer_text=True)
    log.info("customer wrote", extra={"text": CUSTOMER})
    log.exception("turn failed", exc_info=_integrity_error(CUSTOMER))
    first, second = entries(read())
    assert first["text"] == CUSTOMER and "text_chars" not in first
    assert CUSTOMER in second["exception"]


def test_text_format_is_masked_too(logs):
    configure, read = logs
    configure(log_format="text")
    log.warning("token %s", SECRETS["slack_bot_token"])
    written = read()
    assert "WARNING tests.logs: token [secret]" in written and SECRETS["slack_bot_token"] not in written


def test_arguments_that_do_not_fit_the_format_never_raise_from_the_filter():
    record = logging.makeLogRecord({"msg": "two placeholders %s %s", "args": (SECRETS["openai_api_key"],)})
    assert RedactingFilter(redactor=Redactor(secrets=[]), keep_customer_text=False).filter(record)
    assert record.getMessage() == "two placeholders %s %s ('[secret]',)"


def _formatter_of(command: str, *, verbose: bool = False) -> tuple[logging.Formatter, int]:
    with command_logging(argparse.Namespace(command=command, verbose=verbose)):
        [handler] = [h for h in logging.getLogger().handlers if h.filters]
        return handler.formatter, logging.getLogger().level


def test_serve_logs_json_and_other_commands_text_unless_configured(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.delenv("BATON_LOG_FORMAT", raising=False)
    previous = logging.getLogger().level
    try:
        serve, serve_level = _formatter_of("serve")
        ask, ask_level = _formatter_of("ask")
        _, verbose_level = _formatter_of("ask", verbose=True)
        monkeypatch.setenv("BATON_LOG_FORMAT", "JSON")
        forced, _ = _formatter_of("ask")
    finally:
        logging.getLogger().setLevel(previous)
    assert isinstance(serve, JsonFormatter) and serve_level == logging.INFO
    assert not isinstance(ask, JsonFormatter) and ask_level == logging.WARNING and verbose_level == logging.INFO
    assert isinstance(forced, JsonFormatter)
    assert not [h for h in logging.getLogger().handlers if h.filters and isinstance(h.formatter, JsonFormatter)]

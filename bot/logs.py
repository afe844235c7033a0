"""Logging: one JSON object per line (or plain text), secrets masked, customer text kept out.

``configure_logging`` puts one handler on the root logger. Its ``RedactingFilter`` runs before
any formatting, whatever the format:

* every known secret value (the settings' ``SecretStr`` fields, the database password) and
  anything shaped like a token (``xoxb-...``, ``xapp-...``, ``Bearer ...``, ``sk-...``,
  ``scheme://user:password@``) becomes ``[secret]`` in the message, its arguments, the extra
  fields and tracebacks;
* unless ``log_customer_text`` is set, the extra fields ``text``, ``customer_text`` and
  ``message_text`` are replaced by their length (``text_chars: 42``), and the statement
  parameters SQLAlchemy prints in database errors (``[parameters: ...]``) are hidden.

A JSON line holds ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, the extra fields,
and ``exception`` / ``stack`` when present.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, quote_plus

from pydantic import SecretStr

from bot.settings import Settings

MASK = "[secret]"
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"
CUSTOMER_TEXT_FIELDS = frozenset({"text", "customer_text", "message_text"})
MIN_SECRET_CHARS = 4  # shorter values would mask ordinary words
TOKEN_PATTERNS = (
    r"\bxox[a-z]-[A-Za-z0-9-]+",
    r"\bxapp-[A-Za-z0-9-]+",
    r"\bsk-[A-Za-z0-9_-]{8,}",
    r"\bBearer\s+[A-Za-z0-9._~+/=-]+",
)
URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@/\s]+(?=@)", re.IGNORECASE)
SQL_PARAMETERS = re.compile(r"^\[parameters: .*$", re.MULTILINE)
RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
JSON_FIELDS = ("time", "level", "logger", "message", "exception", "stack")


def database_password(url: str) -> str | None:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).password
    except Exception:  # an unparsable URL fails elsewhere, with its own message
        return None


def secret_values(*, settings: Settings) -> list[str]:
    """Every secret the settings hold, as written and URL-encoded, longest first."""
    values = [v.get_secret_value() for v in settings.model_dump().values() if isinstance(v, SecretStr)]
    values.append(database_password(settings.effective_database_url) or "")
    found = {form for v in values if len(v) >= MIN_SECRET_CHARS for form in (v, quote(v, safe=""), quote_plus(v))}
    return sorted(found, key=len, reverse=True)


class Redactor:
    """Replaces known secret values and token-shaped strings with ``[secret]``."""

    def __init__(self, *, secrets: list[str]) -> None:
        self.pattern = re.compile("|".join([*(re.escape(s) for s in secrets), *TOKEN_PATTERNS]))

    def __call__(self, text: str) -> str:
        return URL_PASSWORD.sub(rf"\g<head>{MASK}", self.pattern.sub(MASK, text))

    def value(self, value: Any) -> Any:
        """A log field with every string inside it redacted (other objects become strings)."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {self(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple, set)):
            return [self.value(v) for v in value]
        if value is None or isinstance(value, (bool, int, float)):
            return value
        return self(str(value))


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a call added with ``extra=``."""
    return {k: v for k, v in vars(record).items() if k not in RECORD_FIELDS and not k.startswith("_")}


class RedactingFilter(logging.Filter):
    """Masks secrets everywhere in a record and keeps customer text out unless allowed."""

    def __init__(self, *, redactor: Redactor, keep_customer_text: bool) -> None:
        super().__init__()
        self.redact = redactor
        self.keep_customer_text = keep_customer_text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.redact(self._hide_parameters(_message(record))), None
        for name, value in extra_fields(record).items():
            if name in CUSTOMER_TEXT_FIELDS and not self.keep_customer_text:
                delattr(record, name)
                setattr(record, f"{name}_chars", len(str(value)))
            else:
                setattr(record, name, self.redact.value(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(self._hide_parameters(record.exc_text))
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True

    def _hide_parameters(self, text: str) -> str:
        return text if self.keep_customer_text else SQL_PARAMETERS.sub("[parameters: hidden]", text)


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # arguments that do not fit the format: keep both, never raise from a log call
        return f"{record.msg} {record.args!r}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, extra fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in extra_fields(record).items():
            entry[f"extra_{name}" if name in JSON_FIELDS else name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (test captures replace it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure_logging(*, settings: Settings, default_format: str = "json", level: str | int | None = None) -> logging.Handler:
    """Replace Baton's root handler with one for these settings; returns it (see remove_logging).

    The format is ``settings.log_format``, or ``default_format`` when that is ``auto``; the level
    is ``level``, or ``settings.log_level``.
    """
    chosen = default_format if settings.log_format == "auto" else settings.log_format
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if chosen == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RedactingFilter(redactor=Redactor(secrets=secret_values(settings=settings)), keep_customer_text=settings.log_customer_text))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, StderrHandler)]:
        remove_logging(old)
    root.addHandler(handler)
    root.setLevel(level or settings.log_level)
    return handler


def remove_logging(handler: logging.Handler) -> None:
    logging.getLogger().removeHandler(handler)
    handler.close()

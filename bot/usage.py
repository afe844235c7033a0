"""What every command shares: the error a user can fix, and settings read with a clear message."""

from __future__ import annotations

from pydantic import ValidationError

from bot.settings import Settings


class CliError(Exception):
    """A problem the user can fix; printed without a traceback (exit 2)."""


def load_settings() -> Settings:
    """Settings from the environment; a bad value is a CliError naming the setting."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise CliError(f"invalid settings: {problems}") from None

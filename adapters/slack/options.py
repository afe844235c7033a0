"""Slack tuning knobs that are not secrets: debounce, pacing, turn concurrency, note markers.

They are read from the settings when the core's ``Settings`` grows these fields
(``slack_debounce_seconds``, ``slack_post_interval_seconds``, ``slack_max_turns``), else from
the environment (``BATON_SLACK_DEBOUNCE_SECONDS``, ``BATON_SLACK_POST_INTERVAL_SECONDS``,
``BATON_SLACK_MAX_TURNS``), else the defaults.
Tests set 0 to decide at once; production keeps Slack's pace of about one message a second.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_DEBOUNCE_SECONDS = 1.5
DEFAULT_POST_INTERVAL_SECONDS = 1.0
DEFAULT_MAX_TURNS = 8
INTERNAL_PREFIXES = ("note:", "//", "[internal]")


@dataclass(frozen=True, slots=True)
class SlackOptions:
    """How the adapter paces itself and which card-thread replies stay internal."""

    debounce_seconds: float = DEFAULT_DEBOUNCE_SECONDS
    post_interval_seconds: float = DEFAULT_POST_INTERVAL_SECONDS
    max_turns: int = DEFAULT_MAX_TURNS
    internal_prefixes: tuple[str, ...] = INTERNAL_PREFIXES


def options_from(*, settings: Any, environ: Mapping[str, str] | None = None) -> SlackOptions:
    """Settings fields first, then environment variables, then the defaults."""
    env = os.environ if environ is None else environ
    return SlackOptions(
        debounce_seconds=_number(settings, env, "slack_debounce_seconds", DEFAULT_DEBOUNCE_SECONDS),
        post_interval_seconds=_number(settings, env, "slack_post_interval_seconds", DEFAULT_POST_INTERVAL_SECONDS),
        max_turns=max(1, int(_number(settings, env, "slack_max_turns", DEFAULT_MAX_TURNS))),
    )


def _number(settings: Any, env: Mapping[str, str], name: str, default: float) -> float:
    """A non-negative float from ``settings.<name>`` or ``BATON_<NAME>``."""
    value = getattr(settings, name, None)
    if value is None:
        value = env.get(f"BATON_{name.upper()}", "")
    try:
        number = float(value) if value != "" else default
    except (TypeError, ValueError):
        raise ValueError(f"BATON_{name.upper()} must be a number of seconds, not {value!r}") from None
    if number < 0:
        raise ValueError(f"BATON_{name.upper()} must not be negative")
    return number

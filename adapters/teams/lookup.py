"""Which queue a Teams channel serves: a channel set up from inside Teams, else the rules file."""

from __future__ import annotations

from typing import Any

from adapters.teams.convert import PLATFORM


def queue_of_channel(*, conversations: Any, rules: Any, channel: str) -> str | None:
    """The queue whose Teams channel is ``channel`` (stored reference or rules file), else None."""
    for name, config in rules.queues.items():
        stored = conversations.queue_channel(platform=PLATFORM, queue=name)
        if (stored.channel if stored is not None else config.teams) == channel:
            return name
    return None

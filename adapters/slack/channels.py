"""The start-up check of the queue channels: each one must exist and have Baton in it.

A channel id copied wrong into the rules, a deleted channel, or a private channel nobody invited
Baton to would otherwise show up only when the first card fails. Each problem is logged as one
clear error at start-up naming the queue, the channel and the fix; the channel is then skipped,
so that queue's cards go to the default queue (with a note) until the fix and a restart.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

if TYPE_CHECKING:
    from bot.app import Core

log = logging.getLogger(__name__)
MISSING = {"channel_not_found", "is_archived"}


def queue_channel_ids(core: Core) -> dict[str, str]:
    """queue name -> the Slack channel its cards go to (a stored reference wins over the rules)."""
    found = {}
    for name, queue in core.rules.queues.items():
        stored = core.conversations.queue_channel(platform="slack", queue=name)
        channel = stored.channel if stored is not None else getattr(queue, "slack", None)
        if channel:
            found[name] = channel
    return found


async def check_queue_channels(*, core: Core, client: Any) -> list[str]:
    """One sentence per queue channel that cannot take cards; those channels are skipped."""
    problems = []
    for name, channel in queue_channel_ids(core).items():
        problem = await _problem_of(client=client, name=name, channel=channel, rules=str(core.settings.rules))
        if problem:
            problems.append(problem)
            core.desk.unreachable.add(("slack", channel))
            log.error(problem)
    return problems


async def _problem_of(*, client: Any, name: str, channel: str, rules: str) -> str | None:
    try:
        info = (await client.conversations_info(channel=channel)).get("channel") or {}
    except SlackApiError as exc:
        error = exc.response.get("error", "")
        if error in MISSING:
            return (f"Slack queue '{name}': channel {channel} does not exist or is private without Baton in it ({error}). "
                    f"Fix its id in {rules} (right-click the channel > View channel details > the id at the bottom) "
                    f"or invite @Baton, then restart. Until then its cards go to the default queue.")
        log.warning("could not check Slack queue channel %s of %s: %s", channel, name, error or type(exc).__name__)
        return None
    except Exception as exc:  # network trouble at start-up: cards will tell later; never block the start
        log.warning("could not check Slack queue channel %s of %s: %s", channel, name, type(exc).__name__)
        return None
    if info.get("is_member") is False:
        return f"Slack queue '{name}': Baton is not in #{info.get('name', channel)} ({channel}). Run /invite @Baton in that channel, then restart."
    return None

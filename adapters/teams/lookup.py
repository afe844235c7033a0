"""Store look-ups the Teams adapter needs that the core does not offer (yet).

``card_ticket`` scans tickets for the one whose card is a given Teams message: fine for the
hundreds of open tickets a support team has; a core ``Store.ticket_by_card`` (an indexed
query) should replace it (see the adapter's report).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from adapters.teams.convert import PLATFORM
from bot.store.repo import OPEN_STATES
from bot.types import utcnow

RESOLVED_LOOKBACK = timedelta(days=30)


def card_ticket(*, store: Any, message_id: str | None) -> Any:
    """The ticket whose Teams card is the message ``message_id``: open tickets first, then
    tickets resolved in the last 30 days; None when it is no card of ours."""
    if not message_id:
        return None
    searches = ((OPEN_STATES, None), (("resolved",), utcnow() - RESOLVED_LOOKBACK))
    for statuses, since in searches:
        for ticket in store.tickets(statuses=statuses, since=since):
            refs = ticket.card_refs or {}
            if refs.get("platform") == PLATFORM and refs.get("message_id") == message_id:
                return ticket
    return None


def queue_of_channel(*, store: Any, rules: Any, channel: str) -> str | None:
    """The queue whose Teams channel is ``channel`` (stored reference or rules file), else None."""
    for name, config in rules.queues.items():
        stored = store.channel_ref(platform=PLATFORM, name=name)
        if (stored.channel if stored is not None else config.teams) == channel:
            return name
    return None

"""The re-post job: a ticket whose card reached no queue is posted again until it is visible.

A card can fail everywhere (its queue's channel and the default queue's both refuse it, or the
platform is down past every retry). The ticket is kept, and the customer has not been promised
a person yet: this job posts the card as soon as a queue takes it, then sends the holding reply
that was kept back. Safe in every replica: the delivery log posts each card at most once.
"""

from __future__ import annotations

import asyncio
import logging

from bot.store.repo import OPEN_STATES

log = logging.getLogger(__name__)
EVERY_SECONDS = 60.0


async def repost_missing_cards(*, desk) -> int:
    """Post every open ticket's missing card; returns how many went up this time."""
    posted = 0
    for ticket in desk.store.tickets(statuses=OPEN_STATES):
        if ticket.card_refs or await desk.queue_target(queue=ticket.queue) is None:
            continue
        fresh = await desk.ensure_card(ticket=ticket)
        if fresh.card_refs:
            posted += 1
            await desk.pay_owed_replies(ticket=fresh)
    return posted


async def run_card_reposts(*, desk, stop: asyncio.Event, every: float = EVERY_SECONDS) -> None:
    """Run the job every ``every`` seconds until ``stop`` is set; a failing pass is logged."""
    while not stop.is_set():
        try:
            if posted := await repost_missing_cards(desk=desk):
                log.info("re-posted %d card(s) that had reached no queue", posted)
        except Exception:
            log.exception("the card re-post pass failed; it runs again in %.0f s", every)
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except asyncio.TimeoutError:
            pass

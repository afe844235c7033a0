"""Extractive conversation summaries for handoff cards (no generation offline).

The summary names the customer's ask in their own words, keeps the earlier customer turns in
short quoted form and counts the bot's and agents' replies, so an agent sees the thread at a
glance instead of rereading it.
"""

from __future__ import annotations

from bot.types import Conversation, Role

_MAX_QUOTE = 160


def clip(text: str, *, limit: int = _MAX_QUOTE) -> str:
    """One line, at most ``limit`` characters, cut at a word boundary."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[: limit - 1].rsplit(" ", 1)[0] + "…"


def summarise(*, conversation: Conversation, intent: str) -> str:
    """'<who> asks about <intent>: "<latest>". Earlier: "<turn>"; "<turn>". (2 bot replies)'."""
    who = "Customer"
    if conversation.author is not None:
        who = conversation.author.display_name or conversation.author.platform_id or who
        if conversation.author.organisation:
            who += f" ({conversation.author.organisation})"
    parts = [f'{who} asks about {intent}: "{clip(conversation.text)}".']
    earlier = conversation.customer_turns()[-3:]
    if earlier:
        parts.append("Earlier: " + "; ".join(f'"{clip(t, limit=100)}"' for t in earlier) + ".")
    bot_turns = sum(1 for t in conversation.history if t.role == Role.BOT)
    agent_turns = sum(1 for t in conversation.history if t.role == Role.AGENT)
    if bot_turns or agent_turns:
        parts.append(f"({bot_turns} bot and {agent_turns} agent replies so far.)")
    return " ".join(parts)

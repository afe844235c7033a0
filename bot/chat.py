"""`baton chat`: talk to the core in a terminal; you are the customer and, when asked, the agent.

A handoff prints its card. Agent commands work on the newest ticket: ``claim``, ``reply TEXT``,
``send`` (the suggested reply), ``note TEXT`` (internal), ``release``, ``resolve``, ``quit``.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from typing import Any, Callable

from bot.cards import card_text, status_line
from bot.outbox import OutboxRouter, QueueTarget
from bot.types import ConversationRef, HandoffCard, InboundMessage, Person, Reply

HELP = """Type a question as the customer. Agent commands act on the newest ticket:
  claim | reply TEXT | send | note TEXT | release | resolve | help | quit"""


class TerminalOutbox:
    """Prints replies and cards to a stream instead of a chat platform."""

    platform = "cli"

    def __init__(self, *, stream=None) -> None:
        self.stream = stream or sys.stdout
        self._ids = itertools.count(1)

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    async def send_reply(self, reply: Reply) -> str | None:
        who = reply.author_name if reply.kind == "agent" else "Baton"
        self._print(f"\n{who}: {reply.text}")
        if reply.buttons:
            self._print("   [" + "] [".join(b.label for b in reply.buttons) + "]")
        return f"cli-{next(self._ids)}"

    async def post_card(self, *, target: QueueTarget, card: HandoffCard) -> dict[str, Any]:
        self._print(f"\n===== handoff card in queue '{target.name}' =====\n{card_text(card)}\n" + "=" * 40)
        return {"platform": self.platform, "channel": target.channel, "message_id": f"cli-card-{next(self._ids)}"}

    async def update_card(self, *, card_ref: dict[str, Any], card: HandoffCard) -> None:
        self._print(f"[card {card.ticket_id}] {status_line(card)}")

    async def post_in_card_thread(self, *, card_ref: dict[str, Any], text: str) -> None:
        self._print(f"[card thread] {text}")

    async def notify_agent(self, *, card_ref: dict[str, Any], agent_id: str, text: str) -> None:
        self._print(f"[to {agent_id}] {text}")


async def _agent_command(core: Any, line: str, ticket_id: str | None) -> bool:
    """Run an agent command on the newest ticket; False when the line is not a command."""
    word, _, rest = line.partition(" ")
    commands: dict[str, Callable[[], Any]] = {
        "claim": lambda: core.desk.claim(ticket_id=ticket_id, agent_id="agent-cli", agent_name="You (agent)"),
        "reply": lambda: core.desk.agent_reply(ticket_id=ticket_id, agent_id="agent-cli", agent_name="You (agent)", text=rest),
        "note": lambda: core.desk.agent_reply(ticket_id=ticket_id, agent_id="agent-cli", agent_name="You (agent)", text=rest, internal=True),
        "send": lambda: core.desk.send_suggested(ticket_id=ticket_id, agent_id="agent-cli", agent_name="You (agent)"),
        "release": lambda: core.desk.release(ticket_id=ticket_id, agent_id="agent-cli"),
        "resolve": lambda: core.desk.resolve(ticket_id=ticket_id, agent_id="agent-cli"),
    }
    word = word.lower().lstrip("/")
    if word not in commands or (word not in ("reply", "note") and rest):
        return False
    if ticket_id is None:
        print("(no ticket yet: agent commands act on the newest handoff)")
        return True
    result = await commands[word]()
    print(f"({result.message})")
    return True


async def run_chat(*, settings: Any, build: Callable[..., Any]) -> int:
    """The interactive loop; reads stdin until 'quit' or end of input."""
    outbox = TerminalOutbox()
    print("Loading the knowledge base and models...", flush=True)
    core = build(settings, outboxes=OutboxRouter(outboxes=[outbox]))
    print(f"Baton chat · knowledge: {settings.knowledge} · rules: {settings.rules}\n{HELP}")
    ref = ConversationRef(platform="cli", channel="terminal", thread=f"chat-{id(core)}")
    me = Person(platform_id="cli-customer", display_name="You (customer)")
    ticket_id, counter = None, itertools.count(1)
    while True:
        try:
            line = (await asyncio.to_thread(input, "\nyou> ")).strip()
        except EOFError:
            return 0
        if line.lower() in ("quit", "exit", "/quit"):
            return 0
        if line.lower() in ("help", "/help") or not line:
            print(HELP)
            continue
        if await _agent_command(core, line, ticket_id):
            continue
        result = await core.dialogue.handle(InboundMessage(event_id=f"cli-{ref.thread}-{next(counter)}", ref=ref, author=me, text=line))
        ticket_id = result.ticket_id or ticket_id

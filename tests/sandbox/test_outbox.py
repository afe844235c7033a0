"""The sandbox outbox records what the core sends, per conversation and per queue."""

from __future__ import annotations

from adapters.sandbox import SandboxOutbox
from bot.cards import card_from_ticket
from bot.dialogue import ANSWER_BUTTONS
from bot.outbox import OutboxRouter, QueueTarget
from bot.store.models import TicketRow
from bot.types import ConversationRef, Reply, Source


async def test_replies_cards_notes_and_version():
    outbox = SandboxOutbox()
    router = OutboxRouter(outboxes=[outbox])
    assert router.for_platform("sandbox") is outbox
    ref = ConversationRef(platform="sandbox", channel="chat-1")
    source = Source("faq#4", "Logo", "", "https://help.example/logo", 0.9)
    message_id = await outbox.send_reply(Reply(ref=ref, text="Upload it.", sources=(source,), buttons=ANSWER_BUTTONS))
    [sent] = outbox.sent_to(conversation_key=ref.key)
    assert message_id and sent.message_id == message_id and sent.sources == (source,) and sent.buttons[0]["action"] == "helpful"

    card = card_from_ticket(ticket=TicketRow(id="T-1", conversation_id=ref.key, queue="billing", triggers=[], sources=[]))
    card_ref = await outbox.post_card(target=QueueTarget("billing", "sandbox", "billing"), card=card)
    assert card_ref["platform"] == "sandbox" and card_ref["ticket_id"] == "T-1" and outbox.cards["billing"]["T-1"] is card
    await outbox.post_in_card_thread(card_ref=card_ref, text="Sam wrote: hello?")
    await outbox.notify_agent(card_ref=card_ref, agent_id="dana", text="New urgent ticket")
    await outbox.update_card(card_ref=card_ref, card=card)
    assert outbox.notes_for(ticket_id="T-1") == ["Sam wrote: hello?"]
    assert outbox.notices[0]["agent_id"] == "dana"
    assert outbox.version == 5

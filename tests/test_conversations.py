"""The conversation policy every channel shares, through the core's Conversations service."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from bot.types import ConversationRef, InboundMessage, Person

_ids = itertools.count(1)
CUSTOMER = Person(platform_id="U-cust", display_name="Casey", external=True)
TEAMMATE = Person(platform_id="U-staff", display_name="Dana", external=False)


def said(text: str, *, by: Person, thread: str = "t1") -> InboundMessage:
    ref = ConversationRef(platform="test", channel="C-shared", thread=thread)
    return InboundMessage(event_id=f"cv-{next(_ids)}", ref=ref, author=by, text=text, message_id=f"m-{next(_ids)}")


async def test_a_teammate_writing_in_a_customers_thread_takes_it_over_and_the_bot_goes_quiet(core, recording):
    escalated = await core.conversations.receive(message=said("Someone hacked my account and changed our bank details", by=CUSTOMER))
    assert escalated.status == "escalated"
    key = said("", by=CUSTOMER).ref.key
    assert not (await core.conversations.bot_may_reply(conversation_id=key))  # a ticket is open: no 'working' sign
    reply = said("Hi Casey, I'm on it: locking the account now.", by=TEAMMATE)
    assert (await core.conversations.is_takeover(conversation_id=key, author=TEAMMATE))
    assert not (await core.conversations.is_takeover(conversation_id=key, author=CUSTOMER))
    await core.conversations.take_over(conversation_id=key, author=TEAMMATE, text=reply.text, platform_message_id=reply.message_id)
    assert recording.of_kind("card_thread")[-1].payload == "Dana replied in the customer's thread: Hi Casey, I'm on it: locking the account now."
    history = core.reads.chat(conversation_id=key, history_limit=50)
    assert history.human_active and history.history[-1].text.startswith("Hi Casey")
    assert core.reads.ticket(ticket_id=escalated.ticket_id).first_agent_reply_at is not None
    replies_before = len(recording.replies())
    await core.desk.resolve(ticket_id=escalated.ticket_id, agent_id="U-staff")
    assert (await core.conversations.bot_may_reply(conversation_id=key))
    answered = await core.conversations.receive(message=said("How do I add my company logo to invoices?", by=CUSTOMER))
    assert answered.status == "answered" and len(recording.replies()) == replies_before + 1


async def test_a_person_from_another_organisation_never_takes_a_thread_over(core):
    await core.conversations.receive(message=said("How do I add my company logo to invoices?", by=CUSTOMER, thread="t2"))
    partner = Person(platform_id="U-other", display_name="Robin", external=True)
    key = said("", by=CUSTOMER, thread="t2").ref.key
    assert not (await core.conversations.is_takeover(conversation_id=key, author=partner))
    assert (await core.conversations.bot_may_reply(conversation_id=key))


async def test_a_thread_nobody_wrote_in_yet_has_nobody_to_take_over_from(core):
    key = said("", by=CUSTOMER, thread="t-new").ref.key
    assert not (await core.conversations.is_takeover(conversation_id=key, author=TEAMMATE))
    assert (await core.conversations.bot_may_reply(conversation_id=key)) and not core.conversations.is_known(conversation_id=key)


async def test_the_customer_writing_again_is_never_a_takeover(core):
    await core.conversations.receive(message=said("How do I add my company logo to invoices?", by=TEAMMATE, thread="t3"))
    again = said("And how do I connect Slack?", by=TEAMMATE, thread="t3")  # a teammate who is this thread's customer
    assert not (await core.conversations.is_takeover(conversation_id=again.ref.key, author=TEAMMATE))
    assert (await core.conversations.receive(message=again)).status == "answered"


async def test_an_edit_of_a_customer_message_on_an_open_ticket_is_told_on_the_card(core, recording):
    first = said("I was charged twice this month and I want my money back", by=CUSTOMER, thread="t4")
    await core.conversations.receive(message=first)
    await core.conversations.edited(platform_message_id=first.message_id, text="I was charged three times this month")
    assert recording.of_kind("card_thread")[-1].payload == "Casey edited their message: I was charged three times this month"
    core.conversations.deleted(platform_message_id=first.message_id)
    history = core.reads.chat(conversation_id=first.ref.key, history_limit=50).history
    assert all("charged" not in turn.text for turn in history)


async def test_queue_channels_set_up_inside_a_platform_are_remembered(core):
    assert core.conversations.queue_channel(platform="teams", queue="billing") is None
    core.conversations.remember_queue_channel(platform="teams", queue="billing", channel="19:abc@thread.tacv2", native={"tenant_id": "T1"})
    stored = core.conversations.queue_channel(platform="teams", queue="billing")
    assert (stored.channel, stored.native) == ("19:abc@thread.tacv2", {"tenant_id": "T1"})


async def test_read_models_are_frozen_views_of_the_queue(core):
    escalated = await core.conversations.receive(message=said("Someone hacked my account and changed our bank details", by=CUSTOMER, thread="t5"))
    [view] = [t for t in core.reads.open_tickets() if t.id == escalated.ticket_id]
    assert view.card.ticket_id == view.id and view.status == "open" and view.reasons
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.status = "resolved"
    assert core.reads.ticket(ticket_id=view.id).status == "open"

"""Teams conversations beyond the 1:1 chat: shared channels, group chats, installs, buttons, bad input."""

from __future__ import annotations

from teams.harness import AGENTS, BILLING_CHANNEL, CUSTOMER_CHAT, SUPPORT_CHANNEL, card_of, install_activity

GLOBEX_TENANT = "6f1c0c1e-0000-4000-8000-000000000001"  # Globex (enterprise) in the sample rules
SHARED = "19:shared-with-globex@thread.tacv2"


async def test_external_user_in_a_shared_channel_is_mapped_to_their_organisation(teams):
    await teams.set_queue(queue="support", channel=SUPPORT_CHANNEL)
    thread = f"{SHARED};messageid=1700000000500"
    post = teams.message("How do I connect Slack?", conversation_id=thread, conversation_type="channel", mention_bot=True, tenant_id=GLOBEX_TENANT, from_id="29:jane-globex", from_name="Jane Globex", activity_id="1700000000500")
    await teams.say_raw(post)
    [holding] = teams.sent(thread)
    assert "a person" in holding["text"] or "our team" in holding["text"]
    [card] = teams.cards_in(SUPPORT_CHANNEL)
    content = str(card_of(card.activity))
    assert "How do I connect Slack?" in content and "<at>" not in content and "teams.microsoft.com/l/message/" in content
    assert "matched by Teams tenant 6f1c0c1e" in content and "enterprise)" in content
    assert "Jane Globex (Globex, enterprise)" in content
    row = teams.core.store.conversation(conversation_id=f"teams:{SHARED}:1700000000500")
    assert (row.external, row.tier, row.customer_name) == (True, "enterprise", "Jane Globex")


async def test_group_chat_question_is_answered_in_the_chat(teams):
    await teams.say("How do I add my company logo to invoices?", conversation_id="19:group@thread.v2", conversation_type="groupChat")
    [answer] = teams.sent("19:group@thread.v2")
    assert card_of(answer)["actions"][0]["data"]["baton"] == "helpful"


async def test_install_in_a_team_makes_its_channel_the_default_queue(teams):
    general = "19:support-general@thread.tacv2"
    await teams.say_raw(install_activity(team_channel=general, service_url=teams.connector.service_url))
    stored = teams.core.store.channel_ref(platform="teams", name="support")
    assert stored.channel == general and stored.native["reference"]["serviceUrl"] == teams.connector.service_url
    assert "support" in teams.sent(general)[0]["text"]
    await teams.say_raw(install_activity(team_channel="19:other@thread.tacv2", service_url=teams.connector.service_url))
    assert teams.core.store.channel_ref(platform="teams", name="support").channel == general  # set once, not overwritten
    await teams.say("Can I talk to a real person please")
    assert len(teams.cards_in(general)) == 1


async def test_queue_from_the_rules_borrows_the_default_queues_service_url(teams):
    await teams.set_queue(queue="support", channel=SUPPORT_CHANNEL)
    await teams.say("I was charged twice this month and I want my money back")  # billing: no stored channel
    [card] = teams.cards_in(BILLING_CHANNEL)  # the channel id configured in the sample rules
    assert card_of(card.activity)["refresh"]["action"]["verb"] == "refresh"


async def test_without_any_queue_channel_the_ticket_is_kept_and_the_customer_still_hears_back(teams, caplog):
    await teams.say("Can I talk to a real person please")
    assert "a person" in teams.sent(CUSTOMER_CHAT)[-1]["text"]
    assert teams.core.store.tickets()[0].card_refs == {}
    assert "No Teams channel is known for queue support" in caplog.text


async def test_queue_command_errors_are_explained(teams):
    await teams.say_raw(teams.message("use this channel as the sales queue", conversation_id="19:x@thread.tacv2", conversation_type="channel", mention_bot=True))
    assert "don't know a queue called **sales**" in teams.sent("19:x@thread.tacv2")[-1]["text"]
    await teams.say("use this channel as the billing queue")
    assert "team channels" in teams.sent(CUSTOMER_CHAT)[-1]["text"]
    assert teams.core.store.channel_ref(platform="teams", name="billing") is None


async def test_answer_buttons_record_feedback_and_hand_off(teams):
    await teams.set_queue(queue="support", channel=SUPPORT_CHANNEL)
    await teams.say("How do I add my company logo to invoices?")
    answer = card_of(teams.sent(CUSTOMER_CHAT)[-1])
    helpful, _, person = (a["data"] for a in answer["actions"])
    await teams.say_raw(teams.message("", value=helpful))
    assert [f.kind for f in teams.core.store.feedback()] == ["helpful"]
    assert teams.core.store.feedback()[0].decision_id is not None
    await teams.say_raw(teams.message("", value=person))
    assert len(teams.cards_in(SUPPORT_CHANNEL)) == 1
    assert "a person" in teams.sent(CUSTOMER_CHAT)[-1]["text"]


async def test_redelivered_activity_is_answered_once(teams):
    activity = teams.message("How do I add my company logo to invoices?", activity_id="1700000000900")
    await teams.say_raw(activity)
    await teams.say_raw(activity)
    assert len(teams.sent(CUSTOMER_CHAT)) == 1


async def test_malformed_activities_get_400_and_the_app_stays_up(teams):
    for body, content_type in ((b"{not json", "application/json"), (b"[1, 2]", "application/json"), (b'{"text": "no type"}', "application/json"), (b"hello", "text/plain")):
        response = await teams.client.post("/api/messages", data=body, headers={"Content-Type": content_type})
        assert response.status == 400, body
        assert "error" in await response.json()
    assert (await teams.client.get("/healthz")).status == 200
    await teams.say("How do I add my company logo to invoices?")
    assert len(teams.sent(CUSTOMER_CHAT)) == 1


async def test_people_from_other_organisations_cannot_act_on_cards(teams):
    await teams.set_queue(queue="billing", channel=BILLING_CHANNEL)
    await teams.say("I was charged twice this month and I want my money back")
    [card] = teams.cards_in(BILLING_CHANNEL)
    # botbuilder 4.17.1 looks members up on the activity's conversation id (the card's thread)
    teams.connector.add_member(card.conversation_id, id="29:outsider-mallory", name="Mallory", tenant_id=GLOBEX_TENANT)
    status, response = await teams.click("claim", card=card, agent="Mallory")
    assert status == 200 and "Only members of the support team" in str(response["value"])
    before = len(teams.sent(CUSTOMER_CHAT))
    await teams.say_raw(teams.in_card_thread("Send me your card number", card=card, agent="Mallory"))
    assert len(teams.sent(CUSTOMER_CHAT)) == before
    ticket = teams.core.store.tickets()[0]
    assert ticket.claimed_by is None and teams.core.store.history(conversation_id=ticket.conversation_id)[-1].text != "Send me your card number"
    shared = f"{SHARED};messageid=1700000000700"
    teams.connector.add_member(shared, id="29:outsider-mallory", name="Mallory", tenant_id=GLOBEX_TENANT)
    await teams.say_raw(teams.message("use this channel as the billing queue", conversation_id=shared, conversation_type="channel", mention_bot=True, from_id="29:outsider-mallory", from_name="Mallory"))
    assert teams.core.store.channel_ref(platform="teams", name="billing").channel == BILLING_CHANNEL
    assert "Only members of the support team" in teams.sent(shared)[-1]["text"]


async def test_the_claimer_is_mentioned_for_real_in_the_card_thread(teams):
    """Issue 13: not only 'Claimed by Dana' in plain text; a mention entity with her Teams id,
    so two Danas are told apart and a rename never goes stale."""
    await teams.set_queue(queue="billing", channel=BILLING_CHANNEL)
    await teams.say("I was charged twice this month and I want my money back")
    [card] = teams.cards_in(BILLING_CHANNEL)
    await teams.click("claim", card=card, agent="Dana")
    mentions = [m for m in teams.sent(card.conversation_id) if m.get("entities")]
    assert [m["text"] for m in mentions] == ["<at>Dana</at> claimed this ticket and is on it."]
    assert mentions[0]["entities"][0]["mentioned"] == {"id": AGENTS["Dana"], "name": "Dana"}
    await teams.click("claim", card=card, agent="Eli")  # the loser of the race is not announced
    assert len([m for m in teams.sent(card.conversation_id) if m.get("entities")]) == 1


def test_a_display_name_cannot_break_out_of_the_mention():
    from adapters.teams.outbox import mention_activity

    activity = mention_activity(agent_id="29:x", agent_name="Eve</at> <at>Everyone", text="claimed")
    assert activity.text == "<at>Eve/at atEveryone</at> claimed" and activity.entities[0].text == "<at>Eve/at atEveryone</at>"


async def test_notify_agent_mentions_the_owner_in_the_card_thread(teams):
    await teams.set_queue(queue="billing", channel=BILLING_CHANNEL)
    await teams.say("I was charged twice this month and I want my money back")
    [card] = teams.cards_in(BILLING_CHANNEL)
    await teams.click("claim", card=card, agent="Dana")
    ticket = teams.core.store.tickets()[0]
    await teams.core.outboxes.for_platform("teams").notify_agent(card_ref=ticket.card_refs, agent_id=AGENTS["Dana"], text="first response is due in 10 minutes")
    last = teams.sent(card.conversation_id)[-1]
    assert last["text"] == "<at>Dana</at> first response is due in 10 minutes"
    assert last["entities"][0]["mentioned"] == {"id": AGENTS["Dana"], "name": "Dana"}


async def test_edit_and_send_release_and_no_person_needed(teams, assert_valid_card):
    await teams.set_queue(queue="billing", channel=BILLING_CHANNEL)
    await teams.say("I was charged twice this month and I want my money back")
    [card] = teams.cards_in(BILLING_CHANNEL)
    await teams.click("claim", card=card, agent="Dana")
    status, response = await teams.click("edit_send", card=card, agent="Dana", reply_text="Refund on its way, sorry!")
    assert status == 200 and teams.sent(CUSTOMER_CHAT)[-1]["text"] == "**Dana** (support team): Refund on its way, sorry!"
    status, response = await teams.click("release", card=card, agent="Eli")
    assert "Only the agent who claimed" in str(response["value"])
    status, response = await teams.click("release", card=card, agent="Dana")
    assert "Released, waiting for an agent" in str(card_of(teams.updates_of(card)[-1]))
    status, response = await teams.click("no_person_needed", card=card, agent="Eli")
    assert_valid_card(response["value"])
    ticket = teams.core.store.tickets()[0]
    assert (ticket.status, ticket.needed_person) == ("resolved", False)
    status, response = await teams.click("feedback_card_missing", card=card, agent="Eli", missing_field="sources")
    assert teams.core.store.ticket(ticket_id=ticket.id).missing_field == "sources"

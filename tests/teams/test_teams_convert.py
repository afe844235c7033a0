"""Pure conversions: Teams activities -> the core's InboundMessage, Person and ConversationRef."""

from __future__ import annotations

from botbuilder.schema import Activity

from adapters.teams import convert
from standins.botconnector import teams_invoke_action_execute, teams_message

HOME = "11111111-0000-4000-8000-00000000aaaa"
GLOBEX = "6f1c0c1e-0000-4000-8000-000000000001"
SERVICE = "http://127.0.0.1:9/"


def activity(text: str = "hello", **fields) -> Activity:
    values = dict(text=text, conversation_id="a:1personal", from_id="29:ada", from_name="Ada Lovelace", tenant_id=HOME, service_url=SERVICE)
    values.update(fields)
    return Activity().deserialize(teams_message(**values))


def test_personal_chat_ref_keeps_a_reference_for_proactive_messages():
    ref = convert.conversation_ref(activity())
    assert (ref.platform, ref.channel, ref.thread) == ("teams", "a:1personal", None)
    reference = convert.reference_from(ref.native)
    assert reference.service_url == SERVICE and reference.conversation.id == "a:1personal"
    assert reference.conversation.tenant_id == HOME and reference.bot.id == "28:baton-bot"
    assert ref.native["conversation_type"] == "personal" and "permalink" not in ref.native


def test_channel_mention_is_stripped_and_the_thread_is_the_reply_chain():
    top = activity("can you help?", conversation_id="19:cust@thread.tacv2;messageid=1700000000100", conversation_type="channel", mention_bot=True, activity_id="1700000000100")
    assert convert.message_text(top) == "can you help?"
    ref = convert.conversation_ref(top)
    assert (ref.channel, ref.thread) == ("19:cust@thread.tacv2", "1700000000100")
    assert convert.reference_from(ref.native).conversation.id == "19:cust@thread.tacv2;messageid=1700000000100"
    assert ref.native["permalink"].startswith("https://teams.microsoft.com/l/message/19%3Acust%40thread.tacv2/1700000000100?")
    reply = activity("any news?", conversation_id="19:cust@thread.tacv2;messageid=1700000000100", conversation_type="channel", reply_to_id="1700000000100", mention_bot=True)
    assert convert.conversation_ref(reply).key == ref.key


def test_top_level_channel_post_without_messageid_uses_its_own_id_as_root():
    post = activity("hi", conversation_id="19:cust@thread.tacv2", conversation_type="channel", activity_id="1700000000200")
    assert convert.conversation_ref(post).thread == "1700000000200"


def test_group_chat_has_no_thread():
    ref = convert.conversation_ref(activity(conversation_id="19:group@thread.v2", conversation_type="groupChat"))
    assert (ref.channel, ref.thread) == ("19:group@thread.v2", None)


def test_only_the_bots_own_mention_is_removed():
    assert convert.strip_mentions(text="<at>Baton</at> ask <at>Dana</at>  please", bot_id="28:b", bot_name="Baton") == "ask Dana please"


def test_person_from_another_tenant_is_external_with_that_tenant_as_organisation():
    shared = activity(tenant_id=GLOBEX)
    person = convert.person_of(shared, home_tenant=HOME)
    assert (person.platform_id, person.display_name, person.external, person.organisation) == ("29:ada", "Ada Lovelace", True, GLOBEX)
    ours = convert.person_of(activity(), home_tenant=HOME)
    assert (ours.external, ours.organisation) == (False, None)


def test_member_lookup_wins_for_shared_channels_and_brings_the_email():
    member = {"id": "29:ada", "name": "Ada", "tenantId": GLOBEX, "email": "ada@globex.example"}
    person = convert.person_of(activity(tenant_id=HOME), home_tenant=HOME, member=member)
    assert (person.external, person.organisation, person.email) == (True, GLOBEX, "ada@globex.example")


def test_without_a_home_tenant_the_tenant_still_names_the_organisation():
    person = convert.person_of(activity(tenant_id=GLOBEX), home_tenant=None)
    assert (person.external, person.organisation) == (False, GLOBEX)


def test_inbound_message_has_a_stable_event_id_and_timestamp():
    incoming = activity("hello", activity_id="1700000000300")
    author = convert.person_of(incoming, home_tenant=HOME)
    message = convert.inbound(incoming, text="hello", author=author, ref=convert.conversation_ref(incoming))
    assert message.event_id == convert.event_id(incoming) and message.event_id.endswith(":1700000000300")
    assert message.message_id == "1700000000300" and message.sent_at.tzinfo is not None


def test_queue_command_and_internal_note_conventions():
    assert convert.queue_command("use this channel as the Billing queue") == "billing"
    assert convert.queue_command("Use this channel as support queue please") == "support"
    assert convert.queue_command("what is the billing queue?") is None
    assert convert.is_internal("note: check Stripe") and convert.is_internal("  // later") and convert.is_internal("[internal] x")
    assert not convert.is_internal("Notes are attached")
    assert convert.without_marker("Note: check Stripe") == "check Stripe"


def test_invoke_and_submit_payloads():
    invoke = Activity().deserialize(teams_invoke_action_execute(verb="claim", data={"ticket": "T-1"}, conversation_id="c", from_id="29:d", from_name="Dana", tenant_id=HOME, service_url=SERVICE))
    assert convert.invoke_action(invoke.value) == ("claim", {"ticket": "T-1"})
    assert convert.invoke_action(None) == ("", {})
    assert convert.submitted({"baton": "helpful", "answer": "answer:e1"}) == ("helpful", {"baton": "helpful", "answer": "answer:e1"})
    assert convert.submitted({"other": 1}) is None


def test_tenant_matches_botbuilders_reading_and_the_channel_name_labels_the_card():
    from botbuilder.core.teams.teams_activity_extensions import teams_get_channel_data

    post = activity("hi", conversation_id="19:gen@thread.tacv2;messageid=7", conversation_type="channel", tenant_id=GLOBEX)
    post.channel_data["channel"]["name"] = "General"
    assert convert.tenant_of(post) == teams_get_channel_data(post).tenant.id == GLOBEX
    assert convert.conversation_ref(post).native["channel_name"] == "General"


def test_queue_channel_reference_leaves_out_the_person_who_set_it_up():
    post = activity("use this channel as the billing queue", conversation_id="19:q@thread.tacv2;messageid=8", conversation_type="channel")
    stored = convert.reference_json(post, conversation_id="19:q@thread.tacv2", keep_user=False)
    assert "user" not in stored and stored["conversation"]["id"] == "19:q@thread.tacv2" and stored["serviceUrl"] == SERVICE

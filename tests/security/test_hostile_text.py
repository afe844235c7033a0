"""Hostile text from customers and the knowledge base reaches agents as words, never as markup.

Each payload goes through the real core (it becomes the ticket's original message, summary,
evidence, a gap question) and the real renderers: Slack Block Kit cards and answers, Teams
Adaptive Cards and markdown messages, and the offline HTML report.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from bot.cards import card_from_ticket
from bot.types import ConversationRef, InboundMessage, Person, Reply, Source

HOSTILE = [
    "<!channel> urgent: everyone look", "<!here|here> please", "<!subteam^S0ADMINS> help", "<@U0ADMIN> approve my refund",
    "<#C0SECRET> read this", "<https://evil.example|Reset your password>", "[Reset your password](https://evil.example)",
    "<at>Admin</at> approve this", "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "javascript:alert(1)",
    "```\n*Priority*: urgent\n```", "&lt;!channel&gt; double escape", "![pixel](https://evil.example/p.png)",
]
SLACK_LIVE = re.compile(r"<(?:!(?!date\^\d+\^)|@|#|https?:|mailto:)")  # the bot's own <!date^...> stamps aside


def strings(value) -> list[str]:
    """Every string inside a JSON-like value (dict keys aside)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


@pytest.fixture
def hostile_ticket(core):
    async def make(text: str):
        message = InboundMessage(event_id=f"e-{abs(hash(text))}", ref=ConversationRef(platform="test", channel=f"C-{abs(hash(text))}"),
                                 author=Person(platform_id="c1", display_name=f"Eve {text[:30]}"), text=f"I want a refund now, this is a scam. {text}")
        result = await core.dialogue.handle(message)
        return core.store.ticket(ticket_id=result.ticket_id)
    return make


@pytest.mark.parametrize("payload", HOSTILE)
async def test_slack_cards_and_answers_carry_no_live_control_sequence(hostile_ticket, payload):
    from adapters.slack import render

    ticket = await hostile_ticket(payload)
    card = card_from_ticket(ticket=ticket, notes=(f"Eve wrote: {payload}",))
    own_links = {s["url"] for s in ticket.sources if s.get("url")} | ({ticket.thread_link} if ticket.thread_link else set())  # the bot's own links
    texts = strings(render.card_blocks(card)) + [render.card_fallback(card)]
    for text in texts:
        live = [m for m in SLACK_LIVE.finditer(text) if not any(text[m.start():].startswith(f"<{link}") for link in own_links)]
        assert not live, text
    assert "onerror" not in json.dumps(texts) or "&gt;" in json.dumps(texts)
    reply = Reply(ref=ConversationRef(platform="slack", channel="C1"), text=f"From the docs: {payload}", kind="answer",
                  sources=(Source(doc_id="doc", title=payload, anchor="", url="https://help.example/a", score=0.9),))
    for text in strings(render.answer_blocks(reply=reply, decision_id=1)) + [render.reply_text(reply)]:
        assert not [m for m in SLACK_LIVE.finditer(text) if not text[m.start():].startswith("<https://help.example/a")], text


@pytest.mark.parametrize("payload", HOSTILE)
async def test_teams_cards_and_messages_carry_no_link_or_mention_from_customers(hostile_ticket, payload):
    from adapters.teams import render

    ticket = await hostile_ticket(payload)
    content = render.card_to_adaptive(card_from_ticket(ticket=ticket, notes=(f"Eve wrote: {payload}",)))
    for text in strings(content):
        for label, url in re.findall(r"(?<!\\)\[([^\]]*)\]\(([^)]*)\)", text):
            assert "evil.example" not in url, text  # the only links left are the bot's own
        assert "<at>" not in text
    reply = Reply(ref=ConversationRef(platform="msteams", channel="a:1"), text=payload, kind="agent", author_name="<at>Boss</at>")
    message = render.reply_text(reply)
    assert "<at>" not in message and "<script" not in message and not re.search(r"(?<!\\)\[[^\]]*\]\(https://evil", message)
    answer = render.answer_to_adaptive(Reply(ref=reply.ref, text=payload, kind="answer", sources=(Source("d", payload, "", "https://help.example/a", 0.9),)))
    links = [url for text in strings(answer) for _, url in re.findall(r"(?<!\\)\[([^\]]*)\]\(([^)]*)\)", text)]
    assert all(url.startswith("https://help.example/a") for url in links)


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [name for name, _ in attrs]


async def test_the_html_report_escapes_every_hostile_value(core, hostile_ticket):
    from bot.ops.period import Period
    from bot.ops.report import build_report, report_html

    for payload in HOSTILE:
        await hostile_ticket(payload)
        await core.dialogue.handle(InboundMessage(event_id=f"gap-{abs(hash(payload))}", ref=ConversationRef(platform="test", channel=f"G{abs(hash(payload))}"),
                                                  author=Person(platform_id="c2", display_name="Gus"), text=f"How do I export to Sage 50? {payload}"))
    now = core.desk.clock()
    html = report_html(build_report(store=core.store, period=Period(since=now - timedelta(days=1), until=now + timedelta(days=1))))
    parsed = _Elements()
    parsed.feed(html)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert not [a for a in parsed.attributes if a.startswith("on")]
    assert "&lt;script&gt;" in html or "script" not in html.replace("&lt;script&gt;", "")

"""Pure rendering of neutral cards and replies as Slack Block Kit, within Slack's limits.

Every text that came from a person or the knowledge base is escaped (``&``, ``<``, ``>``), so it
can neither ping anyone nor fake a link; long fields are cut cleanly at Block Kit's limits
(section 3000, field 2000, header 150, button text 75, value 2000, 50 blocks) with an ellipsis.
Times are Slack date tokens, so each agent reads them in their own time zone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime, timezone

from bot.cards import REASON_LABELS, card_text, status_line
from bot.types import CardButton, HandoffCard, Reply, Source, Trigger

SECTION_LIMIT, FIELD_LIMIT, HEADER_LIMIT, CONTEXT_LIMIT = 3000, 2000, 150, 3000
BUTTON_TEXT_LIMIT, VALUE_LIMIT, MAX_BLOCKS, FALLBACK_LIMIT = 75, 2000, 50, 3000
MESSAGE_LIMIT, INPUT_LIMIT, ANSWER_SECTIONS = 39_000, 3000, 5
ELLIPSIS = "…"
EDIT_CALLBACK, EDIT_BLOCK, EDIT_ACTION = "baton_edit_send", "reply", "reply_text"
PRIORITY_MARK = {"urgent": "🔴", "high": "🟠", "normal": "🔵", "low": "⚪"}
CONFIRM = {"no_person_needed": ("Resolve without a person?", "This resolves the ticket and records that the bot could have handled it.")}


def escape(text: str) -> str:
    """Slack's three entities, so text shows as typed and never becomes markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def mrkdwn(text: str, limit: int) -> str:
    """Escaped text within ``limit`` characters, never cutting through an entity."""
    escaped = escape(text)
    raw = text
    while len(escaped) > limit:
        raw = raw[: max(0, len(raw) - (len(escaped) - limit) - 1)]
        escaped = escape(raw.rstrip()) + ELLIPSIS
    return escaped


def link(url: str | None, label: str) -> str:
    """``<url|label>`` for web and mail links, or the escaped label alone."""
    if not url or len(url) > 1000 or not url.startswith(("https://", "http://", "mailto:")):
        return escape(label)
    safe = url.replace(" ", "%20").replace("|", "%7C").replace("<", "%3C").replace(">", "%3E").replace("&", "&amp;")
    return f"<{safe}|{escape(clip(label, 200)) or safe}>"


def slack_date(when: datetime, *, token: str = "{date_short_pretty} {time}") -> str:
    """A Slack date token shown in the reader's time zone, with a UTC fallback."""
    aware = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    fallback = aware.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(aware.timestamp())}^{token}|{fallback}>"


def fit_lines(lines: list[str], *, limit: int, sep: str = "\n") -> str:
    """Already-escaped lines joined, as many as fit in ``limit``, then '…and N more'."""
    kept: list[str] = []
    for index, line in enumerate(lines):
        tail = f"{sep}…and {len(lines) - index} more"
        if len(sep.join([*kept, line])) + len(tail) > limit:
            return sep.join(kept) + tail if kept else clip(line, limit)
        kept.append(line)
    return sep.join(kept)


def section(text: str, *, block_id: str | None = None) -> dict:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_LIMIT) if text.strip() else "_none_"}}
    return block | ({"block_id": block_id} if block_id else {})


def labelled(label: str, value: str, *, limit: int = SECTION_LIMIT) -> dict:
    """A section '*Label*\\nvalue' with the value escaped and cut to fit."""
    head = f"*{label}*\n"
    return section(head + (mrkdwn(value, limit - len(head)) if value.strip() else "_none_"))


def context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, CONTEXT_LIMIT)}]}


def button(spec: CardButton, *, value: str | None) -> dict:
    """A Block Kit button for a neutral card button; the neutral action id is the action_id."""
    element = {"type": "button", "action_id": spec.action, "text": {"type": "plain_text", "text": clip(spec.label, BUTTON_TEXT_LIMIT), "emoji": True}}
    if value:
        element["value"] = clip(value, VALUE_LIMIT)
    if spec.primary or spec.danger:
        element["style"] = "primary" if spec.primary else "danger"
    if spec.action in CONFIRM:
        title, text = CONFIRM[spec.action]
        element["confirm"] = {"title": _plain(title), "text": _plain(text), "confirm": _plain("Yes"), "deny": _plain("Cancel")}
    return element


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def actions(buttons: Iterable[CardButton], *, value: str | None, block_id: str) -> dict | None:
    elements = [button(b, value=value) for b in list(buttons)[:25]]
    return {"type": "actions", "block_id": block_id, "elements": elements} if elements else None


# --- the handoff card -------------------------------------------------------------------------


def card_blocks(card: HandoffCard) -> list[dict]:
    """The whole handoff card as Block Kit: every field an agent needs, then the buttons."""
    blocks = [
        _header(card), _overview(card),
        labelled("Summary", card.summary), _original(card), labelled("Intent", card.intent),
        _reasons(card), _sources(card), labelled("Suggested reply (draft)", card.suggested_reply),
        labelled("Internal action", card.internal_action),
        *[context(mrkdwn(f"Note: {n}", CONTEXT_LIMIT)) for n in card.notes[:10]],
        context(_status(card)), actions(card.buttons, value=card.ticket_id, block_id="baton_card_actions"),
    ]
    kept = [b for b in blocks if b]
    return kept if len(kept) <= MAX_BLOCKS else kept[: MAX_BLOCKS - 2] + kept[-2:]


def card_fallback(card: HandoffCard) -> str:
    """The notification text: bot.cards.card_text, escaped and cut."""
    return mrkdwn(card_text(card), FALLBACK_LIMIT)


def _header(card: HandoffCard) -> dict:
    due = f" · due {card.sla_due.strftime('%H:%M')} UTC" if card.sla_due else ""
    mark = PRIORITY_MARK.get(card.priority.lower(), "")
    text = f"{mark} {card.title}{due}".strip() or card.ticket_id
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, HEADER_LIMIT), "emoji": True}}


def _overview(card: HandoffCard) -> dict:
    org = escape(card.organisation or "not recognised") + (f" · tier *{escape(card.tier)}*" if card.tier else "")
    where = link(card.thread_link, card.channel) if card.thread_link else escape(card.channel)
    sla = f"first response due {slack_date(card.sla_due)}" if card.sla_due else "no open SLA"
    fields = [
        f"*Customer*\n{mrkdwn(card.customer or 'unknown', 500)}", f"*Organisation*\n{org}",
        f"*Conversation*\n{where}", f"*Priority · queue*\n{escape(card.priority)} · {escape(card.queue)}\n{sla}",
    ]
    return {"type": "section", "fields": [{"type": "mrkdwn", "text": clip(f, FIELD_LIMIT)} for f in fields]}


def _original(card: HandoffCard) -> dict:
    quoted = "\n".join("&gt; " + line for line in mrkdwn(card.original_message, SECTION_LIMIT - 400).split("\n"))
    return section("*Original message*\n" + (quoted if card.original_message.strip() else "_none_"))


def reason_text(trigger: Trigger) -> str:
    evidence = f" (evidence: {', '.join(trigger.evidence)})" if trigger.evidence else ""
    return f"• *{REASON_LABELS[trigger.reason]}*: {mrkdwn(trigger.detail + evidence, 1000)}"


def _reasons(card: HandoffCard) -> dict:
    lines = [reason_text(t) for t in card.reasons] or ["• The category's automation level sends it to a person"]
    return section("*Why escalated*\n" + fit_lines(lines, limit=SECTION_LIMIT - 20))


def source_link(source: Source) -> str:
    """A cited source as a mrkdwn link to its anchor."""
    url = source.url
    if url and source.anchor and "#" not in url:
        url = f"{url}#{source.anchor}"
    return link(url, source.title or source.doc_id)


def _sources(card: HandoffCard) -> dict:
    lines = [f"• {source_link(s)} `{escape(clip(s.doc_id, 80))}` · score {s.score:.2f}" for s in card.sources]
    if card.missing_knowledge:
        lines.append("`missing-knowledge` " + ("none of these answers the question" if lines else "nothing in the knowledge base covers this"))
    return section("*Sources*\n" + fit_lines(lines, limit=SECTION_LIMIT - 20))


SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


def claimer(card: HandoffCard) -> str:
    """A real mention ('<@U123>': two Dana's told apart, renames never stale) when a Slack user
    claimed the card; the escaped name when someone elsewhere did (Teams, the sandbox)."""
    if card.claimed_by_id and SLACK_USER.match(card.claimed_by_id):
        return f"<@{card.claimed_by_id}>"
    return f"*@{escape(card.claimed_by or '')}*"


def _status(card: HandoffCard) -> str:
    """'Claimed by @Dana at <time>', with the claim time in each reader's time zone."""
    if card.status != "resolved" and card.claimed_by:
        when = f" at {slack_date(card.claimed_at, token='{time}')}" if card.claimed_at else ""
        text = f"🙋 Claimed by {claimer(card)}{when}"
    else:
        text = ("✅ " if card.status == "resolved" else "⏳ ") + escape(status_line(card))
    return f"{text} · ticket `{escape(card.ticket_id)}`"


# --- customer-facing replies ------------------------------------------------------------------


def answer_blocks(*, reply: Reply, decision_id: int | None) -> list[dict]:
    """An answer: its text, the cited sources as links, and the feedback buttons."""
    raw = reply.text
    chunks = [raw[i : i + 2000] for i in range(0, len(raw), 2000)][:ANSWER_SECTIONS]
    blocks: list[dict] = [section(mrkdwn(chunk, SECTION_LIMIT)) for chunk in chunks or [""]]
    if reply.sources:
        links = [source_link(s) for s in reply.sources]
        blocks.append(context("Sources: " + fit_lines(links, limit=CONTEXT_LIMIT - 9, sep=" · ")))
    buttons = actions(reply.buttons, value=None if decision_id is None else str(decision_id), block_id="baton_answer_actions")
    return blocks + ([buttons] if buttons else [])


def button_blocks(*, reply: Reply) -> list[dict]:
    """A message with its own buttons (for example the weekly review's verdicts)."""
    blocks = [section(mrkdwn(reply.text, SECTION_LIMIT))]
    buttons = actions(reply.buttons, value=None, block_id="baton_buttons")
    return blocks + ([buttons] if buttons else [])


def reply_text(reply: Reply) -> str:
    """The message text of a reply: agents' replies carry their name, sources follow answers."""
    if reply.kind == "agent":
        name = escape(reply.author_name or "Support")
        return clip(f"*{name} (support):* {escape(reply.text)}", MESSAGE_LIMIT)
    sources = "".join(f"\n• {source_link(s)}" for s in reply.sources)
    return clip(escape(reply.text) + (f"\nSources:{sources}" if sources else ""), MESSAGE_LIMIT)


def edit_modal(*, ticket_id: str, draft: str, card_channel: str, card_ts: str) -> dict:
    """The 'Edit and send' modal, prefilled with the suggested reply."""
    element = {"type": "plain_text_input", "action_id": EDIT_ACTION, "multiline": True, "max_length": INPUT_LIMIT}
    if draft.strip():
        element["initial_value"] = clip(draft, INPUT_LIMIT)
    return {
        "type": "modal", "callback_id": EDIT_CALLBACK,
        "title": _plain("Edit and send"), "submit": _plain("Send"), "close": _plain("Cancel"),
        "private_metadata": json.dumps({"ticket_id": ticket_id, "channel": card_channel, "ts": card_ts}),
        "blocks": [
            section(f"Reply to the customer on ticket `{escape(ticket_id)}`. It is posted in their thread with your name."),
            {"type": "input", "block_id": EDIT_BLOCK, "label": _plain("Reply"), "element": element},
        ],
    }

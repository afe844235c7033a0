"""Pure renderers: the neutral HandoffCard and customer replies as Adaptive Cards 1.5 (no I/O).

Agents act through ``Action.Execute`` (Universal Actions): Teams sends an ``adaptiveCard/action``
invoke and shows the card returned in the invoke response, and the card's ``refresh`` action
lets any viewer fetch the current state. Customers' answer buttons are ``Action.Submit``: they
arrive as a message carrying ``value`` and need no invoke response.
"""

from __future__ import annotations

from typing import Any

from bot.cards import REASON_LABELS, SEVEN_FIELDS, due_text, status_line
from bot.safe_text import html_markdown_words, link_label
from bot.safe_text import markdown_words as words
from bot.types import CardButton, HandoffCard, Reply, Source, Trigger

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA_URL = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
REPLY_INPUT = "reply_text"
MISSING_FIELD_INPUT = "missing_field"
MAX_TEXT = 3000  # Teams messages are limited to about 28 KB; keep room for every field
_PRIORITY_STYLE = {"urgent": "attention", "high": "warning"}
_BUTTON_STYLE = {(True, False): "positive", (False, True): "destructive"}


def text_block(text: str, **style: Any) -> dict[str, Any]:
    """A wrapping TextBlock (Adaptive Card markdown subset)."""
    return {"type": "TextBlock", "text": _clip(text), "wrap": True, **style}


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _heading(text: str) -> dict[str, Any]:
    return text_block(text, weight="Bolder", spacing="Medium")


def _card(*, body: list[dict], actions: list[dict], fallback: str, refresh: dict | None = None) -> dict[str, Any]:
    card: dict[str, Any] = {"type": "AdaptiveCard", "$schema": SCHEMA_URL, "version": VERSION, "body": body, "fallbackText": _clip(fallback)}
    if actions:
        card["actions"] = actions
    if refresh:
        card["refresh"] = refresh
    return card


def attachment(content: dict[str, Any]) -> dict[str, Any]:
    """An activity attachment holding an Adaptive Card."""
    return {"contentType": CARD_CONTENT_TYPE, "content": content}


# --- the handoff card ------------------------------------------------------------------------

def card_to_adaptive(card: HandoffCard) -> dict[str, Any]:
    """Every field of the neutral card, with its buttons as Action.Execute verbs."""
    body = [_header(card), _facts(card), *_conversation(card), *_reasons(card), *_sources(card), *_recommendation(card)]
    body += [text_block(words(note), color="Accent", weight="Bolder") for note in card.notes]
    refresh = {"type": "Refresh", "action": execute(verb="refresh", title="Refresh", data={"ticket": card.ticket_id}), "userIds": []}
    return _card(body=body, actions=_actions(card), fallback=f"{card.title}. {status_line(card)}.", refresh=refresh)


def _header(card: HandoffCard) -> dict[str, Any]:
    items = [
        text_block(words(card.title), size="Medium", weight="Bolder"),
        text_block(f"Status: {words(status_line(card))}", isSubtle=True, spacing="None"),
    ]
    return {"type": "Container", "style": _PRIORITY_STYLE.get(card.priority, "emphasis"), "items": items}


def customer_line(card: HandoffCard) -> str:
    """'Jane (Globex, enterprise)' style text."""
    details = [d for d in (card.organisation, card.tier) if d]
    return card.customer + (f" ({', '.join(details)})" if details else "")


def _facts(card: HandoffCard) -> dict[str, Any]:
    facts = [
        ("Priority", card.priority), ("First response due", due_text(card.sla_due)), ("Queue", card.queue),
        ("Customer", customer_line(card)), ("Where", card.channel), ("Intent", card.intent or "unknown"),
    ]
    return {"type": "FactSet", "facts": [{"title": t, "value": _clip(words(v or "n/a"))} for t, v in facts]}


def _conversation(card: HandoffCard) -> list[dict[str, Any]]:
    safe = card.thread_link if card.thread_link and card.thread_link.lower().startswith(("http://", "https://")) else None
    blocks = [text_block(f"[Open the customer's conversation]({safe.replace(')', '%29')})")] if safe else []
    return blocks + [
        _heading("Summary"), text_block(words(card.summary or "n/a")),
        _heading("Original message"), text_block(words(card.original_message), isSubtle=True),
    ]


def reason_text(trigger: Trigger) -> str:
    """'**Policy risk**: detail (evidence: a, b)'."""
    evidence = f" (evidence: {', '.join(trigger.evidence)})" if trigger.evidence else ""
    return f"**{REASON_LABELS[trigger.reason]}**: {words(trigger.detail + evidence)}"


def _reasons(card: HandoffCard) -> list[dict[str, Any]]:
    lines = [reason_text(t) for t in card.reasons] or ["Category automation level sends it to a person"]
    return [_heading("Why escalated"), *[text_block(f"- {line}", spacing="None") for line in lines]]


def source_link(source: Source) -> str:
    """A markdown link to the cited document (anchor included), or its title."""
    label = source.title or source.doc_id
    if not source.url or not source.url.lower().startswith(("http://", "https://")):
        return words(label)
    anchor = f"#{source.anchor}" if source.anchor and "#" not in source.url else ""
    target = (source.url + anchor).replace(" ", "%20").replace(")", "%29")
    return f"[{words(link_label(label))}]({target})"


def _sources(card: HandoffCard) -> list[dict[str, Any]]:
    blocks = [_heading("Sources")]
    blocks += [text_block(f"- {source_link(s)} \\[{words(link_label(s.doc_id))}\\] score {s.score:.2f}", spacing="None") for s in card.sources]
    if card.missing_knowledge:
        note = "none of these answers the question" if card.sources else "no sources found"
        blocks.append(text_block(f"**[missing-knowledge]** {note}", color="Attention"))
    return blocks


def _recommendation(card: HandoffCard) -> list[dict[str, Any]]:
    return [
        _heading("Suggested reply (draft)"), text_block(words(card.suggested_reply or "n/a")),
        _heading("Internal action"), text_block(words(card.internal_action or "n/a")),
    ]


def execute(*, verb: str, title: str, data: dict[str, Any], style: str | None = None) -> dict[str, Any]:
    """An Action.Execute (Universal Action) button."""
    action = {"type": "Action.Execute", "verb": verb, "title": title, "data": data}
    if style:
        action["style"] = style
    return action


def _actions(card: HandoffCard) -> list[dict[str, Any]]:
    return [_action(button, card) for button in card.buttons]


def _action(button: CardButton, card: HandoffCard) -> dict[str, Any]:
    data = {"ticket": card.ticket_id}
    style = _BUTTON_STYLE.get((button.primary, button.danger))
    if button.action == "edit_send":
        send = execute(verb="edit_send", title="Send to customer", data=data, style="positive")
        return _show_card(title=button.label, items=[_reply_input(card)], action=send)
    if button.action == "feedback_card_missing":
        send = execute(verb=button.action, title="Send feedback", data=data)
        return _show_card(title=button.label, items=[_missing_field_input()], action=send)
    return execute(verb=button.action, title=button.label, data=data, style=style)


def _show_card(*, title: str, items: list[dict], action: dict) -> dict[str, Any]:
    return {"type": "Action.ShowCard", "title": title, "card": {"type": "AdaptiveCard", "body": items, "actions": [action]}}


def _reply_input(card: HandoffCard) -> dict[str, Any]:
    return {
        "type": "Input.Text", "id": REPLY_INPUT, "label": "Reply to the customer", "value": card.suggested_reply,
        "isMultiline": True, "isRequired": True, "errorMessage": "Write a reply first", "maxLength": 4000,
    }


def _missing_field_input() -> dict[str, Any]:
    choices = [{"title": name, "value": name} for name in SEVEN_FIELDS]
    return {"type": "Input.ChoiceSet", "id": MISSING_FIELD_INPUT, "label": "What was missing?", "choices": choices, "value": SEVEN_FIELDS[0]}


# --- customer replies ----------------------------------------------------------------------

def answer_to_adaptive(reply: Reply) -> dict[str, Any]:
    """An answer with its sources as links and the answer buttons as Action.Submit."""
    body = [text_block(words(answer_body(reply.text, has_sources=bool(reply.sources))))]
    if reply.sources:
        body += [_heading("Sources"), *[text_block(f"- {source_link(s)}", spacing="None") for s in reply.sources]]
    actions = [_submit(button, reply) for button in reply.buttons]
    return _card(body=body, actions=actions, fallback=reply_text(reply))


def _submit(button: CardButton, reply: Reply) -> dict[str, Any]:
    data = {"baton": button.action, "answer": reply.idempotency_key or "", "ticket": reply.ticket_id or ""}
    return {"type": "Action.Submit", "title": button.label, "data": data}


def answer_body(text: str, *, has_sources: bool) -> str:
    """The answer without its trailing 'Source: ...' paragraph when the card lists sources as links."""
    if not has_sources:
        return text
    paragraphs = text.rstrip().split("\n\n")
    if len(paragraphs) > 1 and paragraphs[-1].lstrip().lower().startswith(("source:", "sources:")):
        paragraphs = paragraphs[:-1]
    return "\n\n".join(paragraphs)


def reply_text(reply: Reply) -> str:
    """Plain markdown text of a reply: the agent's name first, cited sources as links."""
    said = html_markdown_words(reply.text)
    text = f"**{html_markdown_words(reply.author_name)}** (support team): {said}" if reply.kind == "agent" and reply.author_name else said
    if reply.sources and reply.kind != "answer":
        text += "\n\nSources: " + ", ".join(source_link(s) for s in reply.sources)
    return text


def needs_card(reply: Reply) -> bool:
    """Answers (and anything with buttons) go out as a card; other replies as plain text."""
    return reply.kind == "answer" or bool(reply.buttons)


def notice_card(text: str) -> dict[str, Any]:
    """A one-line card, used as an invoke response when the ticket no longer exists."""
    return _card(body=[text_block(text)], actions=[], fallback=text)

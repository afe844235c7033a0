"""What the stand-in answers as the model: well-behaved, grounded, and compromised replies."""

from __future__ import annotations

import html
import json
import re

from bot.replies import best_sentences

_PASSAGE = re.compile(r'<passage id="(P\d+)" title="([^"]*)">(.*?)</passage>', re.DOTALL)
_MESSAGE = re.compile(r"<customer_message>(.*?)</customer_message>", re.DOTALL)

SIGNALS = {"policy_type": "none", "sentiment": 0.0, "angry": False, "refund_dispute": False, "churn": False,
           "wants_human": False, "prompt_injection": False}


def triage(**fields) -> dict:
    """A complete triage reply (every field the strict schema requires)."""
    return {"category": "none", **SIGNALS, "answer": "", "citations": [], "summary": "", "draft": "", **fields}


def handoff(**fields) -> dict:
    """A complete handoff reply."""
    return {**SIGNALS, "summary": "", "draft": "", **fields}


def schema_name(body: dict) -> str:
    return body["response_format"]["json_schema"]["name"]


def user_text(body: dict) -> str:
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


def system_text(body: dict) -> str:
    return next(m["content"] for m in body["messages"] if m["role"] == "system")


def passages_of(body: dict) -> dict[str, str]:
    """Passage id -> text, as the model was given them."""
    return {pid: html.unescape(text) for pid, _title, text in _PASSAGE.findall(user_text(body))}


def message_of(body: dict) -> str:
    found = _MESSAGE.findall(user_text(body))
    return html.unescape(found[-1]) if found else ""


def grounded(body: dict, **fields) -> dict:
    """A well-behaved model: quotes the sentence of P1 nearest the question and cites P1."""
    if schema_name(body) == "baton_handoff":
        return handoff(summary="Customer needs help from a person.", draft="Thanks for your message, I'm looking into it.", **fields)
    passages = passages_of(body)
    if not passages:
        return triage(draft="Thanks, let me check this for you.", **fields)
    quote = " ".join(best_sentences(query=message_of(body), passage=passages["P1"], limit=1))
    return triage(category=_first_category(body), answer=quote, citations=["P1"], summary="Asked a how-to question.", **fields)


def _first_category(body: dict) -> str:
    return body["response_format"]["json_schema"]["schema"]["properties"]["category"]["enum"][0]


def as_json(reply: dict) -> str:
    return json.dumps(reply)

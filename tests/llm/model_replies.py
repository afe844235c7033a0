"""What the stand-in answers as the model: well-behaved, grounded, and compromised replies."""

from __future__ import annotations

import html
import json
import re

from bot.replies import best_sentences

_PASSAGE = re.compile(r'<passage id="(P\d+)" title="([^"]*)">(.*?)</passage>', re.DOTALL)
_MESSAGE = re.compile(r"<customer_message>(.*?)</customer_message>", re.DOTALL)

SIGNALS = ("policy_type", "angry", "refund_dispute", "churn", "wants_human", "prompt_injection")


def _flags(fields: dict) -> dict:
    """Old-style keyword signals (angry=True, policy_type="security") folded into ``flags``."""
    flags = list(fields.pop("flags", []))
    policy = fields.pop("policy_type", "none")
    flags += [policy] if policy != "none" else []
    flags += [name for name in SIGNALS[1:] if fields.pop(name, False)]
    return {"flags": flags, "sentiment": fields.pop("sentiment", 0.0), **fields}


def triage(**fields) -> dict:
    """A complete triage reply (every field the strict schema requires)."""
    return {"category": "none", "answer": "", "citations": [], "summary": "", "draft": "", **_flags(fields)}


def handoff(**fields) -> dict:
    """A complete handoff reply."""
    return {"summary": "", "draft": "", **_flags(fields)}


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
        defaults = {"summary": "Customer needs help from a person.", "draft": "Thanks for your message, I'm looking into it."}
        return handoff(**{**defaults, **{k: v for k, v in fields.items() if k in SIGNALS or k in defaults or k in ("flags", "sentiment")}})
    passages = passages_of(body)
    if not passages:
        return triage(**{"draft": "Thanks, let me check this for you.", **fields})
    quote = " ".join(best_sentences(query=message_of(body), passage=passages["P1"], limit=1))
    defaults = {"category": _first_category(body), "answer": quote, "citations": ["P1"], "summary": "Asked a how-to question."}
    return triage(**{**defaults, **fields})


def _first_category(body: dict) -> str:
    return body["response_format"]["json_schema"]["schema"]["properties"]["category"]["enum"][0]


def as_json(reply: dict) -> str:
    return json.dumps(reply)


# --- a plausible model for the token benchmark ---------------------------------------------------

_CUES = {
    "angry": ("!!!", "useless", "ridiculous", "garbage", "worst", "fed up", "thanks for nothing", "annoying"),
    "wants_human": ("real person", "actual agent", "someone please call", "talk to a human"),
    "refund_dispute": ("refund", "money back", "reversed"),
    "churn": ("cancel our", "leaving", "moving to"),
}


def simulated_model(body: dict) -> dict:
    """A well-behaved model of typical verbosity: flags from plain cues, a one- or two-sentence
    answer quoted from the best passage with its citation, a one-sentence summary, a short draft.
    Both the engine and the naive baseline get the same model, so only the prompts differ."""
    text = message_of(body).lower()
    flags = {flag: any(cue in text for cue in cues) for flag, cues in _CUES.items()}
    flags["sentiment"] = -0.7 if flags["angry"] else 0.1
    summary = f"The customer asks: {message_of(body)[:120]}"
    if schema_name(body) == "baton_handoff":
        return handoff(**flags, summary=summary, draft="Thanks for your message. I'm sorry for the trouble; I'm looking into this now and will get back to you shortly.")
    passages = passages_of(body)
    if not passages or flags["angry"] or flags["wants_human"]:
        return triage(category="none", **flags, summary=summary, draft="Thanks for your question. Let me check this with the team and get back to you shortly.")
    answer = " ".join(best_sentences(query=message_of(body), passage=passages["P1"], limit=2))
    return triage(category=_first_category(body), **flags, answer=answer, citations=["P1"])  # the prompt: summary only if no answer

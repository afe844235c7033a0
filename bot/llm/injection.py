"""Prompt-injection attempts in customer text, caught by the bot itself before any LLM call.

The model is told that customer text is data, but a model can be talked round; this detector
does not depend on it. It reads every customer text that would go into the prompt (the new
message and the earlier turns sent with it, so a multi-turn set-up is caught on the turn that
uses it), after Unicode normalisation (zero-width characters removed, full-width and styled
letters folded by NFKC) and with base64 blobs decoded and read again. A hit escalates the message with a
``policy_risk`` trigger of kind ``prompt_injection`` and the LLM is not called for it at all.

Precision matters too: customers legitimately write "admin", "role", "rules" and "instructions"
(Ledgerly has admin and accountant roles, bank-feed rules, setup instructions), so each family
needs the shape of an attack (an override verb with an instruction noun, a role marker at a
line start, an authority claim *with* an action), not a single word. A false positive costs
one unnecessary handoff; ``tests/llm/test_injection.py`` measures the rate on real customer text.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass

from bot.summary import clip
from bot.types import Conversation, Reason, Role, Trigger

__all__ = ["INJECTION_KIND", "Suspicion", "injection_trigger", "scan_conversation", "scan_text"]

INJECTION_KIND = "prompt_injection"
_F = re.IGNORECASE | re.MULTILINE
_ACTIONS = r"(?:approve|authori[sz]e|grant|issue|process|override|bypass|unlock|refund|waive|credit|reset|disable|remove|give|send|transfer|cancel)"
_STAFF = r"(?:admin\w*|administrator|supervisor|manager|developer|employee|staff(?:\s+member)?|support\s+agent|agent|moderator|operator|engineer|ceo|owner|root|superuser)"

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("instruction override", re.compile(
        r"\b(?:ignore|disregard|forget|overrule)\b\s+(?:(?:all|any|the|of|everything|what)\s+)*"
        r"(?:(?:your|previous|prior|above|earlier|preceding|original|initial|system|safety|developer|these|those|other)\s+)+"
        r"(?:\w+\s+)?(?:instructions?|directions|prompts?|rules|guidelines|directives|guardrails|programming|messages?|context|constraints|polic(?:y|ies))"
        r"|\b(?:ignore|disregard|forget)\b\s+(?:(?:all|any|the|your|these)\s+)*(?:instructions|prompt|programming|guardrails|directives)\b", _F)),
    ("prompt extraction", re.compile(
        r"\b(?:system|hidden|secret|initial|original|developer|confidential|internal)\s+(?:prompt|instructions?|configuration|guidelines|message)s?\b"
        r"|\byour\s+(?:(?:full|exact|complete|first|initial|original)\s+)?(?:prompt(?!\s+(?:response|repl\w+|service|attention|action|help|support|payment|delivery|resolution|answer|reaction|follow))"
        r"|instructions|system\s+message|initial\s+message)\b"
        r"|\b(?:internal|agent|staff|private)\s+notes?\b|\bnotes?\s+(?:for|from)\s+(?:the\s+)?(?:agents?|staff)\b"
        r"|\b(?:repeat|print|output|show|reveal)\b[^.\n]{0,25}\b(?:everything|all|the\s+(?:text|words))\s+(?:above|before|preceding)\b"
        r"|\bwhat\s+(?:were|are)\s+you\s+(?:told|instructed|programmed)\b", _F)),
    ("role change", re.compile(
        r"\byou\s+are\s+now\s+(?:an?\s+|in\s+|my\s+|called\b|named\b|free\b|unrestricted|unfiltered|jailbroken|dan\b|acting|operating|the\s+(?:\w+\s+)?" + _STAFF + r")"
        r"|\byou\s+are\s+no\s+longer\s+(?:bound|restricted|limited|an?\s+(?:assistant|bot|ai)|required)"
        r"|\bfrom\s+now\s+on,?\s+(?:you|act|respond|answer|reply|always|whenever|every\s+time|if\s+i)\b"
        r"|\bpretend\s+(?:to\s+be|(?:that\s+)?you(?:'re|\s+are))\b|\brole-?\s?play\b|\blet'?s\s+play\s+a\s+game\b"
        r"|\b(?:act|behave|respond|answer)\s+as\s+(?:if\s+you\s+(?:are|were)\s+)?(?:an?\s+|my\s+|the\s+)?"
        r"(?:unrestricted|unfiltered|jailbroken|evil|different|new|" + _STAFF + r"|system|dan)\b"
        r"|(?<!#)\bjailbr[eo]a?k\w*|\bdo\s+anything\s+now\b|\bdeveloper\s+mode\b|\bgod\s+mode\b", _F)),
    ("fake role message", re.compile(
        r"^\s*[\[(<#*>\-\s]*(?:system|assistant|developer|admin\w*|support\s+agent|agent|moderator|operator|openai|baton(?:\s+bot)?|bot)\s*[\])>*]*\s*(?::|-{1,2}>)"
        r"|```\s*(?:system|instructions?|assistant|admin)\b|<\|?(?:im_start|im_end|system|endoftext)\|?>|\[/?INST\]|<</?SYS>>|#{2,}\s*(?:system|instruction|new\s+instructions)"
        r"|\b(?:end|begin)\s+of\s+(?:the\s+)?(?:user|customer|system)\s+(?:input|message|prompt)\b|\bnew\s+instructions?\s*:", _F)),
    ("delimiter spoofing", re.compile(
        r"</?\s*(?:customer_message|earlier_turn|passages?|system|instructions?|assistant|user|context|prompt|data)\b[^>]*>", _F)),
    ("markup trick", re.compile(
        r"<!--.*?-->|<\s*(?:script|iframe|img|style|svg|object|embed)\b|!\[[^\]]*\]\(\s*https?://"
        r"|display\s*:\s*none|font-size\s*:\s*0", _F | re.DOTALL)),
    ("authority claim", re.compile(
        r"\bas\s+(?:an?|the|your)\s+(?:\w+\s+)?" + _STAFF + r"\b[^.\n]{0,60}\b" + _ACTIONS + r"\b"
        r"|\b(?:i\s+am|i'm)\s+(?:an?|the|your)\s+(?:\w+\s+)?" + _STAFF + r"\s+(?:at|of|from|for)\s+(?:ledgerly|baton|openai|your\s+(?:company|team))\b"
        r"|\b(?:i|we)\s+(?:hereby\s+)?(?:authori[sz]e|allow|permit|instruct)\s+(?:you|the\s+(?:bot|assistant|ai))\s+to\b"
        r"|\byou\s+(?:have\s+been|are|were)\s+(?:now\s+)?(?:authori[sz]ed|allowed|permitted|approved)\s+to\b"
        r"|\b(?:policy|rules?)\s+(?:has|have)\s+(?:been\s+)?(?:changed|updated|lifted|suspended)\b[^.\n]{0,40}\byou\s+(?:can|may|must|should)\b", _F)),
    ("encoded instructions", re.compile(
        r"\b(?:decode|decrypt|translate|convert)\b[^.\n]{0,30}\b(?:base64|b64|rot13|hex|binary|cipher)\b"
        r"|\b(?:base64|b64|rot13)\b[^.\n]{0,40}\b(?:follow|execute|obey|run|do\s+what)\b", _F)),
    ("exfiltration", re.compile(
        r"\b(?:send|email|post|forward|upload)\s+(?:the|your|all|this)\s+(?:\w+\s+)?(?:conversation|prompt|instructions|notes|data|context)\s+to\b"
        r"|\b(?:call|invoke|use)\s+the\s+(?:\w+\s+)?(?:tool|function|api)\s+to\s+" + _ACTIONS + r"\b", _F)),
)

_ZERO_WIDTH = re.compile(r"[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{24,}={0,2}(?![A-Za-z0-9+/=])")


@dataclass(frozen=True, slots=True)
class Suspicion:
    """What the detector found: labelled snippets an agent can read on the card."""

    findings: tuple[str, ...]

    @property
    def found(self) -> bool:
        return bool(self.findings)


def normalise(text: str) -> str:
    """NFKC-folded text without zero-width or direction-override characters."""
    return _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", text or ""))


def scan_text(text: str) -> list[str]:
    """Every attack shape found in ``text`` (and in base64 blobs inside it), as 'label: snippet'."""
    clean = normalise(text)
    findings = _match_all(clean)
    for decoded in _decoded_blobs(clean):
        findings += [f"{finding} (inside base64)" for finding in _match_all(decoded)]
    return findings


def scan_conversation(*, conversation: Conversation, history_turns: int) -> Suspicion:
    """Scan the new message and the customer turns that will be sent along with it."""
    texts = [t.text for t in conversation.history[-history_turns:] if t.role == Role.CUSTOMER] if history_turns else []
    findings: list[str] = []
    for text in [*texts, conversation.text]:
        findings += [f for f in scan_text(text) if f not in findings]
    return Suspicion(tuple(findings[:4]))


def injection_trigger(*, detail: str, evidence: tuple[str, ...]) -> Trigger:
    """The card's trigger for an injection attempt (policy risk: a person must look at it)."""
    return Trigger(Reason.POLICY_RISK, detail, evidence, 1.0, INJECTION_KIND)


def _match_all(text: str) -> list[str]:
    found = []
    for label, pattern in _PATTERNS:
        match = pattern.search(text)
        if match:
            found.append(f"{label}: \"{clip(match.group(0), limit=60)}\"")
    return found


def _decoded_blobs(text: str) -> list[str]:
    """Readable text hidden in base64 runs (anything that is not mostly printable is ignored)."""
    decoded = []
    for blob in _BASE64.findall(text):
        try:
            raw = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            continue
        if raw and sum(ch.isprintable() or ch.isspace() for ch in raw) / len(raw) > 0.9:
            decoded.append(normalise(raw))
    return decoded

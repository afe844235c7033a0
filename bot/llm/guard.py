"""Checks on what the model wrote, so a compromised or confused model cannot speak for us.

The model's answer, summary and draft are all read before anything is used:

* **leaks**: the system prompt's random reference (a canary), any run of eight words copied
  from the system prompt, or talk about its own instructions, internal notes or delimiters;
* **commitments only staff may make**: "your refund has been approved", "I've unlocked your
  account", "refund granted". The bot never approves, refunds or unlocks; a sentence that says
  it did is either a hallucination or the result of an injection;
* **markup that could exfiltrate or hide text**: images pointing elsewhere, HTML tags.

Any problem discards the text and escalates with a ``prompt_injection`` trigger: whatever made
the model write it, a person should look at the conversation.
"""

from __future__ import annotations

import re

from bot.summary import clip

__all__ = ["OutputGuard"]

SHINGLE = 8
_WORD = re.compile(r"[a-z0-9']+")
_F = re.IGNORECASE

_LEAK_TALK = re.compile(
    r"\bsystem\s+(?:prompt|message|instructions)\b|\bmy\s+(?:instructions|programming|system\s+prompt)\b"
    r"|\bi\s+(?:was|am|have\s+been)\s+(?:told|instructed|programmed)\s+to\b|\binternal\s+(?:notes?|action)\b"
    r"|\bagent\s+notes?\b|</?\s*(?:customer_message|earlier_turn|passages?)\b|\buntrusted\s+data\b", _F)
_COMMITMENTS = re.compile(
    r"\byour\s+(?:full\s+|partial\s+)?(?:refund|reimbursement|credit|chargeback|exception|compensation|waiver|request)\b[^.\n]{0,30}?"
    r"\b(?:has\s+been|have\s+been|is|was|will\s+be)\s+(?:now\s+)?(?:approved|authori[sz]ed|granted|issued|processed|initiated|confirmed|accepted)\b"
    r"|\b(?:refund|reimbursement|credit|exception|waiver)\s+(?:is\s+)?(?:approved|granted|authori[sz]ed|confirmed)\b"
    r"|\b(?:i|we)(?:'ve|\s+have)\s+(?:now\s+|just\s+|already\s+)?(?:approved|authori[sz]ed|granted|issued|processed|refunded|unlocked"
    r"|reset|disabled|removed|deleted|waived|credited|reversed|cancell?ed|restored|transferred|upgraded)\b"
    r"|\b(?:i|we)(?:'ll|\s+will)\s+(?:now\s+|immediately\s+|gladly\s+)?(?:approve|authori[sz]e|grant|issue|process|refund|unlock|reset"
    r"|disable|waive|credit|reverse|transfer)\s+(?:your|the|this|a|it)\b"
    r"|\byour\s+(?:account|access|2fa|two-factor|password|subscription|workspace|data)\b[^.\n]{0,30}?"
    r"\b(?:has\s+been|is\s+now|was|will\s+be)\s+(?:unlocked|restored|reset|disabled|removed|deleted|cancell?ed|reactivated|upgraded|transferred)\b", _F)
_MARKUP = re.compile(r"!\[[^\]]*\]\(|<\s*/?\s*(?:script|img|iframe|style|svg|a|div|span|object|embed)\b|<!--", _F)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _shingles(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


class OutputGuard:
    """Knows the system prompts and the canary; finds problems in a text the model wrote."""

    def __init__(self, *, system_prompts: list[str], canary: str) -> None:
        self.canary = canary.lower()
        self._shingles: set[tuple[str, ...]] = set()
        for prompt in system_prompts:
            self._shingles |= _shingles(_words(prompt))

    def problems(self, text: str) -> list[str]:
        """Each reason ``text`` must not be used, in words an agent can read on the card."""
        if not text:
            return []
        found = []
        if self.canary and self.canary in text.lower():
            found.append("the model echoed the hidden reference of its instructions")
        if self._shingles & _shingles(_words(text)):
            found.append("the model repeated its instructions word for word")
        found += _named(_LEAK_TALK, text, "the model talked about its instructions or internal notes")
        found += _named(_COMMITMENTS, text, "the model made a commitment only staff can make")
        found += _named(_MARKUP, text, "the model's text contains markup")
        return found


def _named(pattern: re.Pattern[str], text: str, label: str) -> list[str]:
    match = pattern.search(text)
    return [f"{label}: \"{clip(match.group(0), limit=60)}\""] if match else []

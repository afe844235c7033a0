"""Personal data is redacted before any text leaves for the language model.

Card numbers (Luhn-checked, so order numbers survive), IBANs (mod-97-checked), e-mail
addresses and phone numbers become placeholders such as ``[CARD]``. The model never needs
them to triage or answer, and a provider's logs are then free of them. The checksums keep
false positives low: a 16-digit order id that fails Luhn is left alone.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["Redaction", "redact", "luhn_ok", "iban_ok"]

_CARD = re.compile(r"(?<![\w])(?:\d[ -]?){12,18}\d(?![\w])")
_IBAN = re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}", re.IGNORECASE)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\d[\d ().-]{6,18}\d"      # international: +44 20 7946 0958
    r"|\(?0\d{2,4}\)?[ .-]?\d{3,4}[ .-]?\d{3,4}"       # national with trunk 0: 020 7946 0958
    r"|\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4})(?![\w])"       # North American: (415) 555-0100
)


@dataclass(frozen=True, slots=True)
class Redaction:
    """The redacted text and how many items of each kind were replaced (never the values)."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum every payment card number satisfies."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def iban_ok(candidate: str) -> bool:
    """ISO 13616 check: move the first four characters to the end, letters to numbers, mod 97."""
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def _digit_count(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _card(match: re.Match[str]) -> str | None:
    digits = re.sub(r"\D", "", match.group(0))
    return "[CARD]" if 13 <= len(digits) <= 19 and luhn_ok(digits) else None


def _iban(match: re.Match[str]) -> str | None:
    """The longest prefix of the match that is a valid IBAN (the pattern may run into words)."""
    found = match.group(0)
    for end in range(len(found), 14, -1):
        if found[end - 1] != " " and iban_ok(found[:end]) and not found[end:end + 1].isalnum():
            return "[IBAN]" + found[end:]
    return None


def _phone(match: re.Match[str]) -> str | None:
    return "[PHONE]" if 8 <= _digit_count(match.group(0)) <= 15 else None


def _email(match: re.Match[str]) -> str | None:
    return "[EMAIL]"


_STEPS = (("card", _CARD, _card), ("iban", _IBAN, _iban), ("email", _EMAIL, _email), ("phone", _PHONE, _phone))


def redact(text: str) -> Redaction:
    """``text`` with cards, IBANs, e-mail addresses and phone numbers replaced by placeholders."""
    counts: Counter[str] = Counter()
    for kind, pattern, replace in _STEPS:
        text = _substitute(text, pattern=pattern, replace=replace, kind=kind, counts=counts)
    return Redaction(text=text, counts=dict(counts))


def _substitute(text: str, *, pattern: re.Pattern[str], replace, kind: str, counts: Counter) -> str:
    """Apply one pattern; a match whose checksum fails is kept as it was."""

    def swap(match: re.Match[str]) -> str:
        placeholder = replace(match)
        if placeholder is None:
            return match.group(0)
        counts[kind] += 1
        return placeholder

    return pattern.sub(swap, text)

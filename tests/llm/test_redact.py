"""Personal data is redacted before it leaves: checksums keep order numbers and dates intact."""

from __future__ import annotations

import pytest

from bot.llm.redact import iban_ok, luhn_ok, redact


@pytest.mark.parametrize("text, expected", [
    ("my card is 4111 1111 1111 1111, please check", "my card is [CARD], please check"),
    ("card 5500-0000-0000-0004 was charged", "card [CARD] was charged"),
    ("amex 378282246310005", "amex [CARD]"),
    ("IBAN GB82 WEST 1234 5698 7654 32 please", "IBAN [IBAN] please"),
    ("pay to DE89370400440532013000.", "pay to [IBAN]."),
    ("write to jo.doe+billing@example.co.uk today", "write to [EMAIL] today"),
    ("call +44 20 7946 0958 or 020 7946 0958", "call [PHONE] or [PHONE]"),
    ("US office (415) 555-0100", "US office [PHONE]"),
])
def test_personal_data_is_replaced(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize("text", [
    "order 1234567812345678 is late",          # 16 digits, fails Luhn
    "invoice LDG-88213 from 2024-01-15",       # ids and dates
    "we were billed for 14 users, $348",       # amounts
    "GB00 WEST 1234 5698 7654 32",             # IBAN shape with a wrong check digit
    "version 10.2.3 on build 12345",
])
def test_other_numbers_survive(text: str) -> None:
    result = redact(text)
    assert result.text == text and result.total == 0


def test_counts_never_include_values() -> None:
    result = redact("4111111111111111 and a@b.example and +1 415 555 0100")
    assert result.counts == {"card": 1, "email": 1, "phone": 1}
    assert "4111" not in repr(result.counts)


def test_checksums() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("GB82WEST12345698765432") and not iban_ok("GB83WEST12345698765432")

"""What the first screen offers: sample questions, customer identities and simulated agents.

Each sample was checked against the sample rules and knowledge base (``baton ask --json``) to
produce the outcome its label promises; ``tests/sandbox/test_samples.py`` keeps them honest.
Identities match organisations in ``bot/sample_rules.yaml`` by email domain.
"""

from __future__ import annotations

from typing import Any

IDENTITIES: tuple[dict[str, Any], ...] = (
    {"key": "sam", "label": "Sam Rivera · standard plan", "name": "Sam Rivera", "email": "sam@acme.example", "organisation": "Acme Bakery"},
    {"key": "hana", "label": "Hana Kim · Hooli (business)", "name": "Hana Kim", "email": "hana@hooli.example", "organisation": "Hooli"},
    {"key": "jane", "label": "Jane Park · Globex (enterprise)", "name": "Jane Park", "email": "jane@globex.example", "organisation": "Globex"},
    {"key": "ivan", "label": "Ivan Petrov · Initech (VIP)", "name": "Ivan Petrov", "email": "ivan@initech.example", "organisation": "Initech"},
)

SAMPLES: tuple[dict[str, Any], ...] = (
    {"key": "answer", "outcome": "Answered with sources", "text": "How do I add my company logo to invoices?", "identity": "sam", "expect": {"action": "answer"}},
    {"key": "missing", "outcome": "Low confidence · missing knowledge", "text": "How do I export my expenses to Sage 50?", "identity": "sam", "expect": {"action": "escalate", "reason": "low_confidence"}},
    {"key": "policy", "outcome": "Policy risk (security)", "text": "Someone logged into our account from another country last night and changed our bank details", "identity": "sam", "expect": {"action": "escalate", "reason": "policy_risk"}},
    {"key": "refund", "outcome": "High-value refund", "text": "Our annual plan renewed last week by mistake. Could we get a refund of the $1,188?", "identity": "sam", "expect": {"action": "escalate", "reason": "high_value"}},
    {"key": "emotional", "outcome": "Emotional", "text": "This is the third time the bank feed stopped syncing. I'm really fed up with Ledgerly.", "identity": "sam", "expect": {"action": "escalate", "reason": "emotional"}},
    {"key": "person", "outcome": "Asked for a person", "text": "Can I talk to a real person please?", "identity": "sam", "expect": {"action": "escalate", "reason": "human_requested"}},
    {"key": "enterprise", "outcome": "Enterprise customer", "text": "How do I connect Ledgerly to Slack?", "identity": "jane", "expect": {"action": "escalate", "reason": "high_value"}},
)

AGENTS: tuple[str, ...] = ("Dana", "Eli")

TALK_TO_PERSON_TEXT = "I'd like to talk to a person, please."


def identity(*, key: str) -> dict[str, Any] | None:
    """The identity preset with this key, if any."""
    return next((i for i in IDENTITIES if i["key"] == key), None)

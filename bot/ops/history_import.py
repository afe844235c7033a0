"""`baton import-history FILE`: design the workflow from past tickets or conversations.

Reads CSV or JSON lines (``text``; optional ``category``, ``created_at``, ``resolved_at``,
``resolution``), groups the messages (by their category, or by clustering them with the real
sentence encoder when none is given), runs Baton's detectors on each message, and proposes the
top categories by volume and risk with examples, the triggers each would fire and a suggested
automation level. ``bot.ops.history_write`` turns the proposal into a draft rules file and,
when categories were labelled, a routing evaluation suite for `baton eval`.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.jsonlines import json_objects
from bot.ops.fmt import duration, pct, table
from bot.ops.period import minutes_between, percentile
from bot.rules import POLICY_TYPES
from bot.types import Automation, Conversation, Reason

ALIASES = {
    "text": ("text", "message", "body", "description", "question", "subject"),
    "category": ("category", "label", "topic", "intent", "type"),
    "created_at": ("created_at", "created", "opened_at", "timestamp", "date"),
    "resolved_at": ("resolved_at", "resolved", "closed_at", "closed"),
    "resolution": ("resolution", "outcome", "answer", "reply"),
}
RISKY = (Reason.POLICY_RISK.value, Reason.HIGH_VALUE.value, Reason.HUMAN_REQUESTED.value)


class HistoryError(ValueError):
    """The history file cannot be read; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class PastTicket:
    text: str
    category: str | None = None
    created_at: datetime | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None


def _pick(record: dict[str, Any], name: str) -> Any:
    lowered = {str(k).strip().lower(): v for k, v in record.items()}
    return next((lowered[a] for a in ALIASES[name] if lowered.get(a) not in (None, "")), None)


def _when(value: Any, *, where: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise HistoryError(f"{where}: '{value}' is not an ISO date/time like 2026-11-02T09:30:00") from None


def _ticket(record: dict[str, Any], *, where: str) -> PastTicket | None:
    text = _pick(record, "text")
    if text is None or not str(text).strip():
        return None
    category = _pick(record, "category")
    return PastTicket(str(text).strip(), str(category).strip() if category is not None else None,
                      _when(_pick(record, "created_at"), where=where), _when(_pick(record, "resolved_at"), where=where),
                      str(_pick(record, "resolution") or "").strip() or None)


def _records(path: Path) -> list[tuple[str, dict]]:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        return [(f"{path}:{n}", row) for n, row in enumerate(csv.DictReader(text.splitlines()), 2)]
    return [(f"{path}:{n}", item) for n, item in json_objects(text=text, source=str(path), error=HistoryError)]


def read_history(*, path: Path) -> list[PastTicket]:
    """Every past ticket with a text; CSV by extension, JSON lines otherwise."""
    try:
        records = _records(Path(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise HistoryError(f"{path}: cannot read: {exc}") from None
    tickets = [t for where, record in records if (t := _ticket(record, where=where)) is not None]
    if not tickets:
        raise HistoryError(f"{path}: no rows with a 'text' column (also accepted: {', '.join(ALIASES['text'][1:])})")
    return tickets


@dataclass
class Proposal:
    """One proposed category with the evidence for its automation level."""

    name: str
    size: int
    share: float
    examples: list[str]
    triggers: dict[str, int]
    risk: float
    automation: Automation
    policy: str | None = None
    reason: Reason | None = None
    median_resolution_minutes: float | None = None
    resolutions: list[str] = field(default_factory=list)
    members: list[int] = field(default_factory=list)


def _shares(signals: list[list[Any]]) -> Counter:
    """How many messages fired each reason (a message counts once per reason)."""
    return Counter(reason for found in signals for reason in {s.reason.value for s in found})


def suggest(*, signals: list[list[Any]]) -> tuple[Automation, str | None, Reason | None, float]:
    """Automation level, policy type and reason from the share of messages firing each reason."""
    n, reasons = max(1, len(signals)), _shares(signals)
    risk = sum(1 for found in signals if any(s.reason.value in RISKY for s in found)) / n
    kinds = Counter(s.kind for found in signals for s in found if s.kind in POLICY_TYPES)
    policy = kinds.most_common(1)[0][0] if kinds else None
    if reasons[Reason.POLICY_RISK.value] / n >= 0.3 or reasons[Reason.HIGH_VALUE.value] / n >= 0.3:
        reason = Reason.HIGH_VALUE if reasons[Reason.HIGH_VALUE.value] > reasons[Reason.POLICY_RISK.value] else None
        return Automation.HUMAN_ONLY, policy, reason, risk
    if reasons[Reason.HUMAN_REQUESTED.value] / n >= 0.5:
        return Automation.HUMAN_ONLY, None, Reason.HUMAN_REQUESTED, risk
    if risk >= 0.15 or reasons[Reason.EMOTIONAL.value] / n >= 0.25:
        return Automation.AI_DRAFT, None, None, risk
    return Automation.AI_ANSWER, None, None, risk


def propose(*, name: str, members: list[int], tickets: list[PastTicket], signals: list[list[Any]], total: int) -> Proposal:
    """The proposal for one group of messages (``members`` ordered most typical first)."""
    found = [signals[i] for i in members]
    automation, policy, reason, risk = suggest(signals=found)
    triggers = Counter(f"{s.reason.value}:{s.kind}" for group in found for s in group)
    minutes = [m for i in members if (m := minutes_between(tickets[i].created_at, tickets[i].resolved_at)) is not None]
    resolutions = [r for r, _ in Counter(tickets[i].resolution for i in members if tickets[i].resolution).most_common(3)]
    examples = list(dict.fromkeys(tickets[i].text for i in members))[:8]
    return Proposal(name, len(members), len(members) / max(1, total), examples, dict(triggers.most_common(6)), risk,
                    automation, policy, reason, percentile(minutes, 50), resolutions, list(members))


def group_history(*, tickets: list[PastTicket], encoder: Any = None, k: int | None = None) -> tuple[dict[str, list[int]], bool]:
    """Groups of ticket indices and whether they come from labels (True) or clustering (False)."""
    labelled = sum(1 for t in tickets if t.category)
    if labelled >= 0.8 * len(tickets):
        groups: dict[str, list[int]] = {}
        for i, ticket in enumerate(tickets):
            groups.setdefault(ticket.category or "uncategorised", []).append(i)
        return groups, True
    from bot.ops.history_cluster import cluster_texts

    if encoder is None:
        from knowledge.embedding import load_encoder

        encoder = load_encoder()
    groups, _ = cluster_texts(texts=[t.text for t in tickets], encoder=encoder, k=k)
    return groups, False


def import_history(*, tickets: list[PastTicket], detectors: Any, encoder: Any = None, k: int | None = None) -> tuple[list[Proposal], bool]:
    """Proposals ranked by volume weighted by risk, and whether categories were labelled."""
    groups, labelled = group_history(tickets=tickets, encoder=encoder, k=k)
    signals = [detectors.detect(Conversation(text=t.text)) for t in tickets]
    proposals = [propose(name=name, members=members, tickets=tickets, signals=signals, total=len(tickets)) for name, members in groups.items()]
    return sorted(proposals, key=lambda p: (-p.size * (1 + p.risk), p.name)), labelled


def proposals_text(*, proposals: list[Proposal], labelled: bool, source: str) -> str:
    """The terminal summary: one row a category, then its examples and triggers."""
    total = sum(p.size for p in proposals)
    how = "by their categories" if labelled else f"by clustering into {len(proposals)} groups (no categories given)"
    rows = [[str(i), p.name, str(p.size), pct(p.share), pct(p.risk), p.automation.value, duration(p.median_resolution_minutes)] for i, p in enumerate(proposals, 1)]
    lines = [f"Read {total} past messages from {source}, grouped {how}.", "",
             table(headers=["#", "category", "volume", "share", "risk", "suggested", "median resolution"], rows=rows, left=(1, 5))]
    for i, p in enumerate(proposals, 1):
        lines += ["", f"{i}. {p.name}: {p.automation.value}" + (f" (policy {p.policy})" if p.policy else "") + (f" (reason {p.reason.value})" if p.reason else "")]
        lines += [f"   e.g. \"{e}\"" for e in p.examples[:3]]
        lines.append("   triggers: " + (", ".join(f"{k} x{v}" for k, v in p.triggers.items()) or "none"))
        lines += [f"   past resolution: {r}" for r in p.resolutions[:2]]
    return "\n".join(lines)

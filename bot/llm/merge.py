"""Combine the offline decision with what the LLM call found into the final decision.

The rules of combination, and why:

* **Union of escalation triggers.** A policy-risk, value, emotion or human-request signal from
  either side escalates; the LLM can add triggers, never remove them. A trigger both sides
  raised is kept once, with the model's agreement added to its evidence.
* **Low confidence is the one thing the LLM may resolve**, and only with an answer that passed
  citation verification: an out-of-scope guess (when the model names a category), a missing or
  competing knowledge-base match. That is where a reading model beats word statistics.
* **The stricter category wins** (human_only > ai_route > ai_draft > ai_answer), so a model
  that calls a refund demand "how_to" cannot make it answerable.
* **Policy-risk cases never carry a generated draft**: the holding reply and the internal
  action stay as the offline engine writes them (no instruction for the customer in chat).
  Other handoffs get the model's draft, marked "Draft (AI, check before sending): ...".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from bot.llm.injection import INJECTION_KIND
from bot.rules import PRIORITIES, Category, Rules
from bot.types import Action, Automation, CategoryGuess, Decision, Reason, Source, Trigger

__all__ = ["Outcome", "combine", "DRAFT_PREFIX", "POLICY_HOLDING_REPLY"]

DRAFT_PREFIX = "Draft (AI, check before sending): "
POLICY_HOLDING_REPLY = ("Thanks for your patience. I'm looking into this personally and will confirm the next steps "
                        "with you once I've verified your account.")
RESOLVABLE = {"out_of_scope", "missing_knowledge", "competing_sources", "other_language"}  # other_language: only by a verified, translated answer
_STRICTNESS = [Automation.AI_ANSWER, Automation.AI_DRAFT, Automation.AI_ROUTE, Automation.HUMAN_ONLY]
_RAISE_TO = {"security": "high", "account_access": "high", "legal": "high", "payment": "high", INJECTION_KIND: "high"}
_QUEUE_FOR_KIND = {INJECTION_KIND: "security"}


@dataclass(slots=True)
class Outcome:
    """What the LLM step contributes; empty fields leave the offline decision's values."""

    triggers: list[Trigger] = field(default_factory=list)
    category: str | None = None
    answer: str | None = None
    sources: tuple[Source, ...] = ()
    summary: str = ""
    draft: str = ""
    tokens: int = 0
    engine: str = "llm"


def combine(*, offline: Decision, outcome: Outcome, rules: Rules) -> Decision:
    """The final decision: offline fields, overridden and extended by the outcome."""
    decision = dataclasses.replace(offline, triggers=list(offline.triggers), sources=list(offline.sources), scores=dict(offline.scores))
    category = _pick_category(decision=decision, outcome=outcome, rules=rules)
    decision.triggers = _union(_kept(offline=offline, outcome=outcome, category=category), outcome.triggers)
    decision.automation = category.automation if category else offline.automation
    escalate = bool(decision.triggers) or decision.automation != Automation.AI_ANSWER or outcome.answer is None
    decision.action = Action.ESCALATE if escalate else Action.ANSWER
    decision.missing_knowledge = any(t.kind == "missing_knowledge" for t in decision.triggers)
    _route(decision=decision, offline=offline, category=category, rules=rules)
    decision.tokens, decision.engine = offline.tokens + outcome.tokens, outcome.engine
    _texts(decision=decision, offline=offline, outcome=outcome)
    return decision


def _texts(*, decision: Decision, offline: Decision, outcome: Outcome) -> None:
    """Summary, and either the verified answer with its sources or the handoff texts."""
    decision.summary = f"AI summary: {outcome.summary}" if outcome.summary else offline.summary
    if outcome.answer is not None:
        decision.scores["llm_verified_answer"] = 1.0
    if decision.escalated:
        decision.answer = None
        decision.suggested_reply, decision.internal_action = _handoff_texts(decision=decision, offline=offline, outcome=outcome)
    else:
        decision.answer, decision.sources = outcome.answer, list(outcome.sources)
        decision.suggested_reply = decision.internal_action = ""


def _pick_category(*, decision: Decision, outcome: Outcome, rules: Rules) -> Category | None:
    """The offline category, unless the model names a stricter one or the offline had none."""
    mine = rules.category(decision.category.name)
    theirs = rules.category(outcome.category) if outcome.category else None
    if theirs is None or (mine is not None and _rank(theirs) <= _rank(mine)):
        return mine
    decision.category = CategoryGuess(theirs.name, decision.category.confidence, decision.category.name, decision.category.confidence)
    decision.intent = f"{theirs.name}: {theirs.description}" if theirs.description else theirs.name
    return theirs


def _rank(category: Category) -> int:
    return _STRICTNESS.index(category.automation)


def _kept(*, offline: Decision, outcome: Outcome, category: Category | None) -> list[Trigger]:
    """Offline triggers, minus low-confidence ones a verified answer has resolved."""
    if outcome.answer is None:
        return list(offline.triggers)
    named = outcome.category is not None and category is not None
    return [t for t in offline.triggers if not _resolved(t, named=named)]


def _resolved(trigger: Trigger, *, named: bool) -> bool:
    if trigger.reason != Reason.LOW_CONFIDENCE or trigger.kind not in RESOLVABLE:
        return False
    return named or trigger.kind != "out_of_scope"


def _union(first: list[Trigger], second: list[Trigger]) -> list[Trigger]:
    """Both lists, one trigger per (reason, kind); agreement is noted in the evidence."""
    merged = {(t.reason, t.kind): t for t in first}
    for trigger in second:
        key = (trigger.reason, trigger.kind)
        if key in merged:
            old = merged[key]
            merged[key] = dataclasses.replace(old, evidence=(*old.evidence, "the language model agrees"))
        else:
            merged[key] = trigger
    return list(merged.values())


def _route(*, decision: Decision, offline: Decision, category: Category | None, rules: Rules) -> None:
    """Queue, priority and SLA for the combined triggers."""
    changed = decision.triggers != offline.triggers or decision.category.name != offline.category.name
    decision.queue = _queue(decision=decision, category=category, rules=rules) if changed else offline.queue
    rank = PRIORITIES.index(offline.priority) if offline.priority in PRIORITIES else PRIORITIES.index("normal")
    for trigger in decision.triggers:
        if trigger.kind in _RAISE_TO:
            rank = min(rank, PRIORITIES.index(_RAISE_TO[trigger.kind]))
    decision.priority = PRIORITIES[rank]
    sla = rules.sla_for(decision.priority)
    decision.sla_first_response_minutes, decision.sla_resolution_minutes = sla.first_response, sla.resolution


def _queue(*, decision: Decision, category: Category | None, rules: Rules) -> str:
    """An injection attempt goes to the security queue (when there is one); else as offline."""
    special = [_QUEUE_FOR_KIND[t.kind] for t in decision.triggers if t.kind in _QUEUE_FOR_KIND]
    if special and special[0] in rules.queues:
        return special[0]
    if category is not None and category.queue:
        return category.queue
    kinds = [t.kind for t in decision.triggers if t.kind and t.kind in rules.queues]
    return kinds[0] if kinds else rules.default_queue


def _handoff_texts(*, decision: Decision, offline: Decision, outcome: Outcome) -> tuple[str, str]:
    """(suggested reply, internal action) for an escalation."""
    kinds = sorted({t.kind for t in decision.triggers if t.reason == Reason.POLICY_RISK and t.kind})
    if kinds:
        return _policy_texts(offline=offline, kinds=kinds)
    action = offline.internal_action if offline.escalated and offline.internal_action else _action_for(decision)
    if outcome.draft:
        return DRAFT_PREFIX + outcome.draft, action
    fallback = _draft_from(outcome.answer) or offline.suggested_reply or _draft_from(offline.answer)
    return fallback or "Thanks for reaching out, I'm looking into this now.", action


def _policy_texts(*, offline: Decision, kinds: list[str]) -> tuple[str, str]:
    """Holding reply and internal action for policy risk; the offline wording when it had one."""
    if INJECTION_KIND in kinds:
        return POLICY_HOLDING_REPLY, ("Possible prompt-injection attempt: do not act on instructions in the customer's text. "
                                      "Reply personally and verify any request through the official process.")
    if offline.escalated and Reason.POLICY_RISK in offline.reasons and offline.internal_action:
        return offline.suggested_reply, offline.internal_action
    return POLICY_HOLDING_REPLY, (f"Policy risk ({', '.join(kinds)}): verify the customer's identity through the official "
                                  "process and follow the written procedure; do not give the instruction in chat.")


def _action_for(decision: Decision) -> str:
    kinds = {t.kind for t in decision.triggers}
    if "unsupported_answer" in kinds:
        return "The AI answer failed the citation check and was not sent: answer personally (the sources may help)."
    if decision.missing_knowledge:
        return "Answer personally; no article covers this, so it was logged as a knowledge gap."
    return "Review the conversation and reply to the customer."


def _draft_from(answer: str | None) -> str:
    """An answer that was not sent (verified, or the offline extractive one) as the agent's draft."""
    return f"{DRAFT_PREFIX}{answer}" if answer else ""

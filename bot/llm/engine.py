"""The LLM engine: a wrapper around the offline engine that makes at most one call per message.

``decide`` has the offline engine's interface (synchronous, a Conversation in, a Decision out,
never raising), so the core and ``baton eval`` use either one. Per message it:

1. runs the offline engine (detectors, category, knowledge search) and the local
   prompt-injection detector; an injection attempt escalates at once, without a call;
2. plans the call by what it could still change:

   * **skip** when the offline engine found a policy risk: the case goes to a person with a
     fixed holding reply whatever the model says, so a call could only reword the summary,
     and the customer's text then does not leave at all;
   * **handoff** (signals, summary and draft; at most two trimmed passages) when the offline
     engine escalates for a reason the model cannot undo (a person was asked for, high value,
     emotion, or a category that is not ai_answer) *and* a generated text is worth its cost:
     the category is ai_draft (the draft is the point) or the conversation has earlier turns
     to summarise. A single-message handoff keeps the offline summary and reply: the card
     shows the message itself. ``LLMConfig.handoff_drafts`` turns handoff calls off;
   * **triage** otherwise: category, signals and a grounded answer from the top passages;

3. checks the reply (output guard, citation verification), combines it with the offline
   decision (:mod:`bot.llm.merge`) and counts the tokens (budget, conversation).

When the budget is spent or the call fails after its retries, the offline decision is used
(``engine="offline-fallback"``); a refusal also escalates, since the model saw something odd.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import time
from typing import Any

from bot.engine import retrieval_query
from bot.language import language_name
from bot.llm.answer import format_answer, translation_problems, verify_answer
from bot.llm.budget import DailyBudget
from bot.llm.client import LLMClient, LLMUnavailable
from bot.llm.config import LLMConfig, client_options
from bot.llm.guard import OutputGuard
from bot.llm.injection import Suspicion, injection_trigger, scan_conversation
from bot.llm.merge import RESOLVABLE, Outcome, combine
from bot.llm.prompts import Prompt, PromptBook
from bot.llm.retrieval import install_memo, select_passages
from bot.llm.triage import LLMReply, handoff_schema, llm_triggers, parse_reply, triage_schema
from bot.types import Action, Automation, Conversation, Decision, Reason, Trigger

log = logging.getLogger(__name__)

__all__ = ["LLMEngine", "Mode", "plan_mode", "wrap_engine"]

HARD_REASONS = {Reason.HUMAN_REQUESTED, Reason.HIGH_VALUE, Reason.EMOTIONAL}
HANDOFF_PASSAGES = 2


class Mode(enum.Enum):
    """What one message's call is for."""

    SKIP = "skip"
    HANDOFF = "handoff"
    TRIAGE = "triage"


def plan_mode(*, offline: Decision, conversation: Conversation, handoff_drafts: bool = True) -> Mode:
    """Skip, handoff or triage, by what a call could still change (see the module docstring)."""
    reasons = set(offline.reasons)
    if Reason.POLICY_RISK in reasons:
        return Mode.SKIP
    soft = all(t.reason == Reason.LOW_CONFIDENCE and t.kind in RESOLVABLE for t in offline.triggers)
    if not (reasons & HARD_REASONS) and soft and offline.automation == Automation.AI_ANSWER:
        return Mode.TRIAGE
    return _handoff_or_skip(offline=offline, conversation=conversation, handoff_drafts=handoff_drafts)


def _handoff_or_skip(*, offline: Decision, conversation: Conversation, handoff_drafts: bool) -> Mode:
    """A handoff call only when its text is worth the tokens: an ai_draft category, or earlier turns."""
    worth_it = offline.automation == Automation.AI_DRAFT or bool(conversation.customer_turns())
    return Mode.HANDOFF if handoff_drafts and worth_it else Mode.SKIP


class LLMEngine:
    """Same interface as :class:`bot.engine.DecisionEngine`; decides with one LLM call at most."""

    def __init__(self, *, offline: Any, client: LLMClient, settings: Any = None, config: LLMConfig | None = None, usage_store: Any = None, budget: DailyBudget | None = None) -> None:
        self.offline = offline
        self.client = client
        self.config = config or (LLMConfig.from_settings(settings) if settings is not None else LLMConfig())
        self.usage_store = usage_store
        self.budget = budget or DailyBudget(limit=self.config.daily_token_budget, store=usage_store)
        self.search = install_memo(offline)
        self.prompts = PromptBook(rules=offline.rules)
        self.guard = OutputGuard(system_prompts=[self.prompts.triage_system, self.prompts.handoff_system], canary=self.prompts.canary)
        self._schemas = {Mode.TRIAGE: ("baton_triage", triage_schema(rules=offline.rules)), Mode.HANDOFF: ("baton_handoff", handoff_schema())}

    @property
    def rules(self) -> Any:
        """The offline engine's rules (the core reads ``engine.rules``)."""
        return self.offline.rules

    def __getattr__(self, name: str) -> Any:
        """Anything else the core reads from an engine comes from the offline one."""
        if name == "offline":
            raise AttributeError(name)
        return getattr(self.offline, name)

    # --- public ----------------------------------------------------------------------------

    def decide(self, conversation: Conversation) -> Decision:
        """Answer or escalate one conversation; never raises."""
        started = time.perf_counter()
        try:
            decision = self._decide(conversation)
        except Exception:
            log.exception("LLM engine failed; using the offline decision")
            decision = self._last_resort(conversation)
        decision.latency_ms = (time.perf_counter() - started) * 1000
        self._record_tokens(conversation=conversation, tokens=decision.tokens)
        return decision

    # --- steps -----------------------------------------------------------------------------

    def _decide(self, conversation: Conversation) -> Decision:
        offline = self.offline.decide(conversation)
        suspicion = scan_conversation(conversation=conversation, history_turns=self.config.history_turns)
        if suspicion.found:
            return self._injection(offline=offline, suspicion=suspicion)
        mode, passages = self._plan(conversation=conversation, offline=offline)
        if mode is Mode.SKIP:
            return dataclasses.replace(offline, engine="offline")
        if not self.budget.allows():
            log.info("daily LLM token budget spent; deciding offline")
            return dataclasses.replace(offline, engine="offline-fallback")
        prompt = self._prompt(mode=mode, conversation=conversation, offline=offline, passages=passages)
        return self._call(mode=mode, prompt=prompt, offline=offline)

    def _plan(self, *, conversation: Conversation, offline: Decision) -> tuple[Mode, list]:
        """The mode and the passages to send (triage without passages has nothing to answer from)."""
        mode = plan_mode(offline=offline, conversation=conversation, handoff_drafts=self.config.handoff_drafts)
        if mode is Mode.SKIP:
            return mode, []
        limit = self.config.passages if mode is Mode.TRIAGE else min(HANDOFF_PASSAGES, self.config.passages)
        passages = select_passages(hits=self._hits(conversation), query=conversation.text, limit=limit, chars=self.config.passage_chars)
        if mode is Mode.TRIAGE and not passages:  # nothing to answer from
            mode = _handoff_or_skip(offline=offline, conversation=conversation, handoff_drafts=self.config.handoff_drafts)
        return mode, passages

    def _hits(self, conversation: Conversation) -> Any:
        """The offline engine's search result for this message (memoised, so no second search)."""
        return self.search(retrieval_query(conversation), k=5) if self.search is not None else None

    def _prompt(self, *, mode: Mode, conversation: Conversation, offline: Decision, passages: list) -> Prompt:
        common = {"conversation": conversation, "passages": passages, "redact_data": self.config.redact, "history_turns": self.config.history_turns}
        if mode is Mode.TRIAGE:
            return self.prompts.triage(**common)
        return self.prompts.handoff(reasons=[r.value for r in offline.reasons] or [offline.automation.value], **common)

    def _call(self, *, mode: Mode, prompt: Prompt, offline: Decision) -> Decision:
        name, schema = self._schemas[mode]
        try:
            completion = self.client.complete(system=prompt.system, user=prompt.user, schema_name=name, schema=schema,
                                              parse=lambda text: parse_reply(text, rules=self.rules), max_tokens=self.config.max_output_tokens)
        except LLMUnavailable as failure:
            self.budget.spend(failure.tokens)
            return self._fallback(offline=offline, failure=failure)
        self.budget.spend(completion.tokens)
        outcome = self._outcome(mode=mode, reply=completion.data, prompt=prompt, offline=offline)
        outcome.tokens = completion.tokens
        return combine(offline=offline, outcome=outcome, rules=self.rules)

    # --- reading the reply -----------------------------------------------------------------

    def _outcome(self, *, mode: Mode, reply: LLMReply, prompt: Prompt, offline: Decision) -> Outcome:
        """Signals, guarded texts and (in triage) the verified answer."""
        outcome = Outcome(triggers=llm_triggers(reply=reply, rules=self.rules))
        problems = {f: self.guard.problems(getattr(reply, f)) for f in ("answer", "translation", "summary", "draft")}
        blocked = [p for found in problems.values() for p in found]
        if blocked:
            outcome.triggers.append(injection_trigger(detail="the model's reply was blocked by the bot's output checks", evidence=tuple(blocked[:3])))
        outcome.summary = "" if problems["summary"] else reply.summary
        outcome.draft = "" if problems["draft"] else reply.draft
        if mode is Mode.TRIAGE and not blocked:
            self._answer(outcome=outcome, reply=reply, prompt=prompt, offline=offline)
        return outcome

    def _answer(self, *, outcome: Outcome, reply: LLMReply, prompt: Prompt, offline: Decision) -> None:
        """Set the verified answer, or the trigger that says why there is none."""
        outcome.category = reply.category if reply.category != "none" else None
        if not reply.answer:
            if not offline.escalated:
                outcome.triggers.append(Trigger(Reason.LOW_CONFIDENCE, "the language model found no answer in the retrieved passages", (f"{len(prompt.passages)} passage(s) read",), None, "missing_knowledge"))
            return
        verdict = verify_answer(answer=reply.answer, citations=reply.citations, passages=prompt.passages)
        if verdict.ok and offline.language:
            self._translated(outcome=outcome, reply=reply, verdict=verdict, language=offline.language)
        elif verdict.ok:
            outcome.answer, outcome.sources = format_answer(answer=reply.answer, sources=verdict.sources), verdict.sources
        else:
            outcome.triggers.append(Trigger(Reason.LOW_CONFIDENCE, "the model's answer is not supported by the passages it cites", verdict.problems[:3], None, "unsupported_answer"))

    def _translated(self, *, outcome: Outcome, reply: LLMReply, verdict: Any, language: str) -> None:
        """A verified answer goes out in the customer's language only as a translation that keeps
        its numbers and links; otherwise the case stays with a person."""
        problems = translation_problems(translation=reply.translation, answer=reply.answer)
        if problems:
            outcome.triggers.append(Trigger(Reason.LOW_CONFIDENCE, f"no usable answer in {language_name(language)}", tuple(problems[:3]), None, "untranslated_answer"))
            return
        outcome.answer, outcome.sources = format_answer(answer=reply.translation, sources=verdict.sources), verdict.sources

    # --- fallbacks -------------------------------------------------------------------------

    def _injection(self, *, offline: Decision, suspicion: Suspicion) -> Decision:
        trigger = injection_trigger(detail="possible prompt-injection attempt in the customer's text", evidence=suspicion.findings)
        return combine(offline=offline, outcome=Outcome(triggers=[trigger], engine="offline"), rules=self.rules)

    def _fallback(self, *, offline: Decision, failure: LLMUnavailable) -> Decision:
        """The offline decision after a failed call; a refusal escalates as low confidence."""
        if not failure.reason.startswith("refusal"):
            return dataclasses.replace(offline, engine="offline-fallback", tokens=offline.tokens + failure.tokens)
        trigger = Trigger(Reason.LOW_CONFIDENCE, "the language model refused this message", ("model refusal",), None, "llm_refusal")
        return combine(offline=offline, outcome=Outcome(triggers=[trigger], tokens=failure.tokens, engine="offline-fallback"), rules=self.rules)

    def _last_resort(self, conversation: Conversation) -> Decision:
        """After an unexpected error: the offline decision, or a plain escalation if that fails too."""
        try:
            return dataclasses.replace(self.offline.decide(conversation), engine="offline-fallback")
        except Exception:
            log.exception("offline engine failed too; escalating")
        trigger = Trigger(Reason.LOW_CONFIDENCE, "the bot failed while deciding; a person must take this", ("internal error",), None, "error")
        return Decision(action=Action.ESCALATE, triggers=[trigger], queue=self.rules.default_queue, engine="offline-fallback",
                        summary=f'Customer wrote: "{conversation.text[:300]}" (the bot could not decide).',
                        internal_action="Read the customer's message and reply; the bot hit an internal error.")

    def _record_tokens(self, *, conversation: Conversation, tokens: int) -> None:
        """Add this decision's tokens to the conversation's total (when a store is given)."""
        if self.usage_store is None or conversation.ref is None or tokens <= 0:
            return
        try:
            self.usage_store.add_tokens(conversation_id=conversation.ref.key, tokens=tokens)
        except Exception:
            log.exception("could not record tokens for the conversation")


def wrap_engine(*, offline: Any, settings: Any, store: Any = None) -> Any:
    """An :class:`LLMEngine` when an endpoint or key is configured, else ``offline`` unchanged."""
    if not getattr(settings, "llm_enabled", False):
        return offline
    client = LLMClient(**client_options(settings))
    return LLMEngine(offline=offline, client=client, settings=settings, usage_store=store)

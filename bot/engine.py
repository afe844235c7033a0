"""The offline decision engine: one call turns a conversation into an answer or an escalation.

Every escalation carries each trigger that fired with its evidence (retrieval scores, matched
words, sentiment, tier), so the handoff card can explain it. Policy-risk escalations never
carry a final instruction for the customer: the suggested reply is a holding reply and the
instruction goes to the agent as an internal action.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol, Sequence

from bot.language import LanguageDetector, LanguageGuess, language_name
from bot.replies import extractive_answer, format_minutes
from bot.rules import PRIORITIES, Category, Rules
from bot.summary import summarise
from bot.types import (
    Action, Automation, CategoryGuess, Conversation, Decision, Person, Reason, Source, Trigger,
)


class IntentMatcher(Protocol):
    threshold: float

    def predict(self, text: str) -> Any: ...


class KnowledgeSearch(Protocol):
    def __call__(self, query: str, *, k: int = 5) -> Any: ...


class SignalDetector(Protocol):
    def detect(self, conversation: Conversation) -> list[Any]: ...


@dataclass(frozen=True, slots=True)
class CustomerValue:
    """What the rules say about the author: organisation, tier, priority, escalate-by-value."""

    organisation: str | None
    tier: str
    priority: str
    escalate: bool
    matched_by: str | None = None


_ESCALATING_POLICY_PRIORITY = {"security": "high", "account_access": "high", "legal": "high", "payment": "high"}


class DecisionEngine:
    """Combines category matching, knowledge search and signal detectors under the rules."""

    def __init__(self, *, rules: Rules, detectors: SignalDetector, intents: IntentMatcher | None = None, knowledge: KnowledgeSearch | None = None, knowledge_size: int = 0, encoder: Any = None, language: LanguageDetector | None = None) -> None:
        self.rules = rules
        self.language = language
        self.detectors = detectors
        self.intents = intents if rules.categories else None
        self.knowledge = knowledge if knowledge_size else None
        self.encoder = encoder

    # --- public ----------------------------------------------------------------------------

    def decide(self, conversation: Conversation) -> Decision:
        """Answer or escalate one conversation; never raises for ordinary text."""
        started = time.perf_counter()
        value = customer_value(rules=self.rules, person=conversation.author)
        foreign = self.language.foreign(conversation.text) if self.language is not None else None
        if foreign is not None and not self.rules.languages.multilingual:
            return self._unread(conversation=conversation, value=value, foreign=foreign, started=started)
        query = retrieval_query(conversation)
        vector = self._shared_vector(conversation.text) if query == conversation.text else None
        guess, best, category = self._categorise(conversation.text, vector)
        hits = self._search(query, vector)
        triggers = self._triggers(conversation=conversation, value=value, guess=guess, best=best, category=category, hits=hits)
        if foreign is not None:
            triggers.append(language_trigger(foreign=foreign, known=self.language.known, multilingual=True))
        triggers, mild = _gate_mild_anger(triggers=triggers, strong=-self.rules.thresholds.strong_sentiment, answerable=_answerable(category))
        decision = self._assemble(conversation=conversation, value=value, guess=guess, category=category, hits=hits, triggers=triggers, language=foreign.code if foreign else None)
        if mild is not None:
            decision.scores["mild_negativity"] = float(mild.score or 0.0)
        decision.latency_ms = (time.perf_counter() - started) * 1000
        return decision

    def _unread(self, *, conversation: Conversation, value: CustomerValue, foreign: LanguageGuess, started: float) -> Decision:
        """A message in a language the bot does not answer in goes to a person as it is.

        The category model and the search read the knowledge base's languages only, so their
        guesses on this text would be noise on the card: no category, no sources, no draft (the
        agent replies in the customer's language); the detectors and the customer's tier still count.
        """
        nothing = CategoryGuess(None, 0.0)
        triggers = self._triggers(conversation=conversation, value=value, guess=nothing, best=nothing, category=None, hits=None, read=False)
        triggers.append(language_trigger(foreign=foreign, known=self.language.known, multilingual=False))
        decision = self._assemble(conversation=conversation, value=value, guess=nothing, category=None, hits=None, triggers=triggers, language=foreign.code)
        decision.intent = f"unknown (written in {foreign.name}, which the bot does not read)"
        decision.summary = summarise(conversation=conversation, intent=decision.intent)
        decision.suggested_reply = ""
        decision.latency_ms = (time.perf_counter() - started) * 1000
        return decision

    # --- steps -----------------------------------------------------------------------------

    def _shared_vector(self, text: str) -> Any:
        """Embed the message once when both the category model and the search need it."""
        if self.encoder is None or self.intents is None or self.knowledge is None or not hasattr(self.intents, "predict_vectors"):
            return None
        from knowledge.embedding import one_blas_thread

        with one_blas_thread():
            return self.encoder.encode([text])[0]

    def _categorise(self, text: str, vector: Any = None) -> tuple[CategoryGuess, CategoryGuess, Category | None]:
        """The in-scope category (or none) and the best candidate, kept as evidence."""
        if self.intents is None:
            nothing = CategoryGuess(None, 0.0)
            return nothing, nothing, None
        prediction = self.intents.predict_vectors(vector[None, :])[0] if vector is not None else self.intents.predict(text)
        best = CategoryGuess(prediction.name, float(prediction.confidence), prediction.runner_up, float(prediction.runner_up_confidence))
        guess = best if prediction.in_scope else CategoryGuess(None, best.confidence, best.name, best.confidence)
        return guess, best, self.rules.category(guess.name)

    def _search(self, query: str, vector: Any = None) -> Any:
        if self.knowledge is None:
            return None
        if vector is not None:
            return self.knowledge(query, k=5, query_vector=vector)
        return self.knowledge(query, k=5)

    def _triggers(self, *, conversation: Conversation, value: CustomerValue, guess: CategoryGuess, best: CategoryGuess, category: Category | None, hits: Any, read: bool = True) -> list[Trigger]:
        """Every trigger that fires; ``read=False`` (a language the models cannot read) skips the
        confidence checks, whose scores would mean nothing."""
        triggers = [_signal_trigger(s) for s in self.detectors.detect(conversation)]
        if value.escalate:
            triggers.append(Trigger(Reason.HIGH_VALUE, f"{value.tier} customer{f' ({value.organisation})' if value.organisation else ''}", (f"matched by {value.matched_by}",) if value.matched_by else (), None, "tier"))
        category_trigger = self._category_trigger(guess=guess, category=category)
        if category_trigger is not None:
            triggers.append(category_trigger)
        low = self._low_confidence(best=best, category=category, hits=hits) if read else None
        if low is not None:
            triggers.append(low)
        return _dedupe(triggers)

    def _category_trigger(self, *, guess: CategoryGuess, category: Category | None) -> Trigger | None:
        if category is None or category.escalation_reason is None or category.automation == Automation.AI_ANSWER:
            return None
        evidence = (f"category '{category.name}' matched with confidence {guess.confidence:.2f}",)
        label = category.policy or category.escalation_reason.value
        return Trigger(category.escalation_reason, f"{label.replace('_', ' ')} category: {category.description or category.name}", evidence, guess.confidence, category.policy)

    def _low_confidence(self, *, best: CategoryGuess, category: Category | None, hits: Any) -> Trigger | None:
        """No clear source: out of scope for the categories and/or unanswered by the knowledge base."""
        if hits is None and self.intents is None:
            return Trigger(Reason.LOW_CONFIDENCE, "no knowledge base or categories to answer from", ("nothing configured to answer with",), 0.0, "missing_knowledge")
        if category is not None and category.automation != Automation.AI_ANSWER:
            return None
        knowledge_trigger = _knowledge_trigger(hits) if hits is not None else None
        if self.intents is not None and category is None and (hits is None or knowledge_trigger is not None):
            evidence = (f"best category '{best.name}' at {best.confidence:.2f}, below the {self.intents.threshold:.2f} threshold",)
            if knowledge_trigger is not None:
                return Trigger(Reason.LOW_CONFIDENCE, "no category matches and " + knowledge_trigger.detail, evidence + knowledge_trigger.evidence, knowledge_trigger.score, knowledge_trigger.kind)
            return Trigger(Reason.LOW_CONFIDENCE, "no ticket category matches this message", evidence, best.confidence, "out_of_scope")
        return knowledge_trigger

    def _assemble(self, *, conversation: Conversation, value: CustomerValue, guess: CategoryGuess, category: Category | None, hits: Any, triggers: list[Trigger], language: str | None) -> Decision:
        automation = category.automation if category else Automation.AI_ANSWER
        sources = _sources(hits)
        escalate = bool(triggers) or automation != Automation.AI_ANSWER
        decision = Decision(action=Action.ESCALATE if escalate else Action.ANSWER, triggers=triggers, category=guess, automation=automation, sources=sources, tier=value.tier, language=language, rules_version=self.rules.label)
        decision.missing_knowledge = any(t.kind == "missing_knowledge" for t in triggers) or not sources
        decision.confidence = _confidence(guess=guess, hits=hits, has_categories=self.intents is not None)
        decision.scores = _scores(guess=guess, hits=hits)
        decision.intent = _intent(category=category, guess=guess, sources=sources)
        decision.queue = _queue(rules=self.rules, category=category, triggers=triggers)
        decision.priority = _priority(value=value, triggers=triggers)
        sla = self.rules.sla_for(decision.priority)
        decision.sla_first_response_minutes, decision.sla_resolution_minutes = sla.first_response, sla.resolution
        decision.summary = summarise(conversation=conversation, intent=decision.intent)
        if escalate:
            decision.suggested_reply, decision.internal_action = _recommendation(decision=decision, hits=hits, query=conversation.text, category=category)
        else:
            decision.answer = _answer(query=conversation.text, hits=hits, category=category)
        return decision


# --- helpers ---------------------------------------------------------------------------------


def retrieval_query(conversation: Conversation) -> str:
    """The text to search with: a short follow-up borrows the customer's previous turn."""
    earlier = conversation.customer_turns()
    if earlier and len(conversation.text.split()) < 5:
        return f"{earlier[-1]} {conversation.text}"
    return conversation.text


def customer_value(*, rules: Rules, person: Person | None) -> CustomerValue:
    """Organisation and tier from the rules: by user id, email domain, Slack team or Teams tenant."""
    customers = rules.customers
    default = customers.tiers[customers.default_tier]
    if person is None:
        return CustomerValue(None, customers.default_tier, default.priority, default.escalate)
    for org in customers.organisations:
        matched = _matched_by(org=org, person=person)
        if matched:
            tier = customers.tiers[org.tier]
            return CustomerValue(org.name, org.tier, tier.priority, tier.escalate, matched)
    return CustomerValue(person.organisation, customers.default_tier, default.priority, default.escalate)


def _matched_by(*, org: Any, person: Person) -> str | None:
    if person.platform_id in org.users:
        return f"user {person.platform_id}"
    domain = (person.email or "").rpartition("@")[2].lower()
    if domain and domain in [d.lower() for d in org.email_domains]:
        return f"email domain {domain}"
    if person.organisation and person.organisation in org.slack_teams:
        return f"Slack team {person.organisation}"
    if person.organisation and person.organisation in org.teams_tenants:
        return f"Teams tenant {person.organisation}"
    return None


def language_trigger(*, foreign: LanguageGuess, known: tuple[str, ...], multilingual: bool) -> Trigger:
    """Low confidence: the message is in a language the knowledge base is not written in.

    Of kind ``other_language`` when the rules let a language model answer in it (a verified
    answer resolves it), else ``unsupported_language`` (always a person).
    """
    evidence = (f"language {foreign.code} with confidence {foreign.confidence:.2f}", f"knowledge base in {', '.join(known)}")
    if multilingual:
        return Trigger(Reason.LOW_CONFIDENCE, f"written in {foreign.name} ({foreign.code}); only a verified answer in {foreign.name} may reply", evidence, foreign.confidence, "other_language")
    names = " and ".join(language_name(code) for code in known)
    return Trigger(Reason.LOW_CONFIDENCE, f"written in {foreign.name} ({foreign.code}); the bot answers in {names} only", evidence, foreign.confidence, "unsupported_language")


def _answerable(category: Category | None) -> bool:
    return category is None or category.automation == Automation.AI_ANSWER


def _gate_mild_anger(*, triggers: list[Trigger], strong: float, answerable: bool) -> tuple[list[Trigger], Trigger | None]:
    """Mild negativity alone does not hand over a message the bot can answer confidently.

    A calm problem report ("my card still hasn't arrived") reads as negative, but it is best
    answered. Anger escalates on its own only when strong (score at or above ``strong``); mild
    anger is kept on the card whenever the message escalates for another reason.
    """
    mild = [t for t in triggers if t.reason == Reason.EMOTIONAL and t.kind == "anger" and (t.score or 0.0) < strong]
    others = [t for t in triggers if t not in mild]
    if mild and not others and answerable:
        return others, mild[0]
    return triggers, None


def _knowledge_trigger(hits: Any) -> Trigger | None:
    """Low confidence from retrieval: nothing found, competing sources, or no clear answer."""
    if not hits.hits:
        return Trigger(Reason.LOW_CONFIDENCE, "the knowledge base has nothing on this", ("no passage retrieved",), 0.0, "missing_knowledge")
    top = hits.hits[0]
    if hits.competing and len(hits.hits) > 1:
        second = next((h for h in hits.hits[1:] if h.passage.doc_id != top.passage.doc_id), hits.hits[1])
        return Trigger(Reason.LOW_CONFIDENCE, "competing sources give no clear answer", (f"{top.passage.title} {top.score:.2f}", f"{second.passage.title} {second.score:.2f}"), hits.confidence, "competing_sources")
    if not hits.answerable:
        return Trigger(Reason.LOW_CONFIDENCE, "no knowledge-base article clearly answers this", (f"best match '{top.passage.title}' confidence {hits.confidence:.2f}",), hits.confidence, "missing_knowledge")
    return None


def _signal_trigger(signal: Any) -> Trigger:
    return Trigger(Reason(signal.reason), signal.detail, tuple(signal.evidence), float(signal.score), signal.kind)


def _dedupe(triggers: list[Trigger]) -> list[Trigger]:
    seen, result = set(), []
    for trigger in triggers:
        key = (trigger.reason, trigger.kind)
        if key not in seen:
            seen.add(key)
            result.append(trigger)
    return result


def _sources(hits: Any) -> list[Source]:
    if hits is None:
        return []
    sources, seen = [], set()
    for hit in hits.hits:
        passage = hit.passage
        if passage.doc_id in seen:
            continue
        seen.add(passage.doc_id)
        sources.append(Source(passage.doc_id, passage.title, passage.anchor, passage.url, float(hit.score), passage.passage_id, passage.text[:300]))
    return sources[:3]


def _confidence(*, guess: CategoryGuess, hits: Any, has_categories: bool) -> float:
    parts = []
    if has_categories:
        parts.append(guess.confidence)
    if hits is not None:
        parts.append(float(hits.confidence))
    return min(parts) if parts else 0.0


def _scores(*, guess: CategoryGuess, hits: Any) -> dict[str, float]:
    scores = {"category": guess.confidence, "category_runner_up": guess.runner_up_confidence}
    if hits is not None:
        scores["knowledge"] = float(hits.confidence)
        scores.update({f"hit:{h.passage.doc_id}": float(h.score) for h in hits.hits[:3]})
    return scores


def _intent(*, category: Category | None, guess: CategoryGuess, sources: list[Source]) -> str:
    if category is not None:
        return f"{category.name}: {category.description}" if category.description else category.name
    if sources:
        return f"question about '{sources[0].title}'"
    return "unknown (no category or article matched)"


def _queue(*, rules: Rules, category: Category | None, triggers: list[Trigger]) -> str:
    """The category's queue; otherwise a queue named after the policy type, when one exists."""
    if category is not None and category.queue:
        return category.queue
    for trigger in triggers:
        if trigger.kind and trigger.kind in rules.queues:
            return trigger.kind
    return rules.default_queue


def _priority(*, value: CustomerValue, triggers: list[Trigger]) -> str:
    """The tier's priority, raised for security/legal/payment risk and for anger."""
    rank = PRIORITIES.index(value.priority)
    for trigger in triggers:
        if trigger.kind in _ESCALATING_POLICY_PRIORITY:
            rank = min(rank, PRIORITIES.index(_ESCALATING_POLICY_PRIORITY[trigger.kind]))
        if trigger.reason == Reason.EMOTIONAL:
            rank = max(0, min(rank, PRIORITIES.index("normal")) - (1 if trigger.kind in {"threat_to_leave", "public_escalation"} else 0))
    return PRIORITIES[rank]


def _answer(*, query: str, hits: Any, category: Category | None) -> str:
    if hits is not None and hits.hits:
        top = hits.hits[0].passage
        source = Source(top.doc_id, top.title, top.anchor, top.url, float(hits.hits[0].score), top.passage_id)
        return extractive_answer(query=query, passage_text=top.text, source=source)
    if category is not None:
        return category.answer or f"This is about {category.description or category.name}."
    return ""


def recommendation(*, decision: Decision, draft: str | None = None) -> tuple[str, str]:
    """Suggested reply and internal action for a decision turned into a handoff afterwards."""
    reply, action = _recommendation(decision=decision, hits=None, query="", category=None)
    if draft and Reason.POLICY_RISK not in decision.reasons:
        reply = draft
    return reply, action


def _recommendation(*, decision: Decision, hits: Any, query: str, category: Category | None) -> tuple[str, str]:
    """A draft for the agent and an internal action; for a message in another language the
    action starts by saying which language to reply in."""
    reply, action = _recommendation_by_reason(decision=decision, hits=hits, query=query, category=category)
    if decision.language:
        name = language_name(decision.language)
        note = f"The customer wrote in {name}: reply in {name} (any draft here is in the knowledge base's language)."
        action = f"{note} {action}" if set(decision.reasons) - {Reason.LOW_CONFIDENCE} else note
    return reply, action


def _recommendation_by_reason(*, decision: Decision, hits: Any, query: str, category: Category | None) -> tuple[str, str]:
    """A draft for the agent (never a policy instruction for the customer) and an internal action."""
    reasons = set(decision.reasons)
    window = format_minutes(decision.sla_first_response_minutes)
    draft_source = ""
    if hits is not None and hits.hits and Reason.POLICY_RISK not in reasons:
        top = hits.hits[0].passage
        draft_source = extractive_answer(query=query, passage_text=top.text, source=Source(top.doc_id, top.title, top.anchor, top.url, 0.0))
    if Reason.POLICY_RISK in reasons:
        policy_kinds = sorted({t.kind for t in decision.triggers if t.reason == Reason.POLICY_RISK and t.kind})
        action = f"Policy risk ({', '.join(policy_kinds or ['policy'])}): verify the customer's identity through the official process and follow the written procedure; do not give the instruction in chat."
        reply = "Thanks for your patience. I'm looking into this personally and will confirm the next steps with you once I've verified your account."
        return reply, action
    if Reason.LOW_CONFIDENCE in reasons and decision.missing_knowledge:
        action = "Answer personally; no article covers this, so it was logged as a knowledge gap (add an article so the bot can answer next time)."
        return draft_source or "Thanks for your question. Let me check this for you and get back to you shortly.", action
    if Reason.HIGH_VALUE in reasons:
        action = f"High-value case: owner of the {decision.queue} queue to contact the customer within {window}; review account history before replying."
        return draft_source or "Thanks for reaching out. I'm reviewing your account now and will get back to you with a concrete answer shortly.", action
    if Reason.HUMAN_REQUESTED in reasons and Reason.EMOTIONAL not in reasons:
        action = "The customer asked for a person: introduce yourself and take over the conversation."
        return draft_source or "Hi, I'm taking over from the bot. How can I help?", action
    if Reason.EMOTIONAL in reasons:
        action = "Upset customer: acknowledge, apologise for the experience, and take ownership of the next step."
        return "I'm really sorry about the trouble this has caused. I've read the whole conversation and I'm taking care of it now.", action
    if category is not None and category.automation == Automation.AI_DRAFT:
        return draft_source or (category.answer or ""), "AI-draft category: review the drafted reply and send it, edited if needed."
    return draft_source or "Thanks for reaching out, I'm looking into this now.", "Review the conversation and reply to the customer."

"""Tests of the offline escalation detectors (bot/detectors.py).

The messages are written for these tests (support chat in several domains: SaaS, banking, shops,
telecom); none is copied from an evaluation suite. Each reason and kind has messages that must
fire and look-alikes that must not, because a false alarm escalates a conversation a bot could
have answered, and a miss leaves an angry or at-risk customer with a bot.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bot.detectors import DEFAULT_SENTIMENT_THRESHOLD, Detectors, Signal
from bot.types import Conversation, Reason, Role, Trigger, Turn

EVAL = Path(__file__).resolve().parent.parent.parent / "shared" / "eval"


@pytest.fixture(scope="module")
def detectors() -> Detectors:
    """One instance for the module: building the VADER analyzer is the only costly step."""
    return Detectors()


def kinds(detectors: Detectors, text: str, *,
          history: tuple[Turn, ...] = ()) -> set[tuple[str, str]]:
    """(reason, kind) pairs raised for one message."""
    signals = detectors.detect(Conversation(text=text, history=history))
    return {(s.reason.value, s.kind) for s in signals}


def reasons(detectors: Detectors, text: str, *, history: tuple[Turn, ...] = ()) -> set[str]:
    """Reasons raised for one message."""
    return {reason for reason, _kind in kinds(detectors, text, history=history)}


def customer(text: str) -> Turn:
    return Turn(role=Role.CUSTOMER, text=text)


def agent(text: str) -> Turn:
    return Turn(role=Role.AGENT, text=text)


# --------------------------------------------------------------------------- policy_risk
@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("If this isn't sorted by Friday I will contact my lawyer.", "legal"),
        ("We are prepared to take legal action over the lost shipment.", "legal"),
        ("Under GDPR I am asking you to delete my data and confirm in writing.", "compliance"),
        ("Please send me a copy of all my personal data, this is a subject access request.",
         "compliance"),
        ("Someone hacked my account and changed the email address on it.", "security"),
        ("There's an unauthorised transaction of $420 on my statement from a shop I've never used.",
         "security"),
        ("I think this is fraud, I never ordered anything from them.", "security"),
        ("I can't log in, I'm locked out and my 2FA phone was lost.", "account_access"),
        ("I forgot my password and the reset email never comes.", "account_access"),
        ("You charged me twice for the March invoice.", "payment"),
        ("The ATM swallowed my card and gave me no cash.", "payment"),
        ("I'm filing a chargeback with my bank unless this is refunded.", "financial"),
        ("The VAT on invoice 2291 is wrong, we are exempt.", "financial"),
    ],
)
def test_policy_risk_fires_with_its_kind_and_words(detectors, text, kind):
    signals = [s for s in detectors.detect(Conversation(text=text))
               if s.reason == Reason.POLICY_RISK]
    assert kind in {s.kind for s in signals}
    signal = next(s for s in signals if s.kind == kind)
    assert signal.evidence and all(word.lower() in text.lower() for word in signal.evidence)


@pytest.mark.parametrize(
    "text",
    [
        "How do I reset my password?",
        "Can I change my card PIN in the app?",
        "What is your data retention policy?",
        "Can you recommend a good accountant for my small business?",
        "Does your fraud team ever call customers?",
        "Can I get an invoice with VAT for my company?",
        "I don't think anyone else has used my account, I just want to change my email.",
    ],
)
def test_policy_risk_stays_quiet_on_how_to_questions(detectors, text):
    assert "policy_risk" not in reasons(detectors, text)


def test_security_cue_with_a_built_in_negation_is_not_cancelled(detectors):
    """"I didn't make this payment" is a fraud claim, not a negated one."""
    found = kinds(detectors, "I didn't make this payment of 89 euros, please block the card.")
    assert ("policy_risk", "security") in found


def test_lawyer_mention_must_concern_this_matter(detectors):
    assert "policy_risk" not in reasons(detectors, "Where can I find a divorce lawyer near me?")
    assert "policy_risk" in reasons(detectors, "Our legal team will be in touch about this.")


# --------------------------------------------------------------------------- high_value
@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("I want my money back, the headphones broke after two days.", "refund_dispute"),
        ("It's been three weeks and I still haven't received my refund.", "refund_dispute"),
        ("Please refund me for the duplicate order.", "refund_dispute"),
        ("Cancel my subscription, effective immediately.", "churn"),
        ("We're switching to a competitor at the end of the quarter.", "churn"),
        ("How do I close my account? I don't use it any more.", "churn"),
    ],
)
def test_high_value_fires_on_disputes_and_churn(detectors, text, kind):
    assert ("high_value", kind) in kinds(detectors, text)


@pytest.mark.parametrize(
    "text",
    [
        "What is your refund policy?",
        "How long do refunds usually take to show up?",
        "Do you offer refunds if I cancel my subscription within a month?",
        "Do you have a money back guarantee?",
        "I don't want a refund, just send the replacement please.",
        "I'm not going to cancel my subscription, I just need an invoice.",
    ],
)
def test_high_value_stays_quiet_on_policy_questions_and_negations(detectors, text):
    assert "high_value" not in reasons(detectors, text)


# --------------------------------------------------------------------------- human_requested
@pytest.mark.parametrize(
    "text",
    [
        "Can I talk to a real person please?",
        "I need to speak to a human, the bot keeps looping.",
        "Get me a representative.",
        "Representative!",
        "Please call me back on 020 7946 0123.",
        "Why can't I speak to an agent?!",
        "I'd like to escalate this to your manager.",
    ],
)
def test_human_requested_fires(detectors, text):
    assert ("human_requested", "human_requested") in kinds(detectors, text)


@pytest.mark.parametrize(
    "text",
    [
        "No need to call me, email is fine.",
        "Please don't call me, I'm at work all day.",
        "Who is the sales representative for my district?",
        "Call me Sam, by the way.",
        "How do I add a new agent seat to our team plan?",
    ],
)
def test_human_requested_respects_negation_and_other_senses(detectors, text):
    assert "human_requested" not in reasons(detectors, text)


# --------------------------------------------------------------------------- emotional
@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("This is ridiculous. Worst support I have ever dealt with.", "anger"),
        ("Still no reply after five days. Unacceptable.", "anger"),
        ("Thanks for nothing, the app still crashes every time I open it.", "anger"),
        ("Great job, my order is late AGAIN.", "anger"),
        ("I'm not happy with how this was handled at all.", "anger"),
        ("I've been on hold for over an hour and nobody picks up", "anger"),
        ("WHY IS MY ACCOUNT STILL EMPTY?!", "anger"),
        ("I really regret buying the annual plan.", "anger"),
        ("This is the third time I'm asking about the same invoice.", "repeated_complaint"),
        ("If this isn't fixed today I'll post this on twitter.", "public_escalation"),
        ("I'm leaving a one-star review on Trustpilot.", "public_escalation"),
        ("Never again. You've lost a customer.", "threat_to_leave"),
    ],
)
def test_emotional_fires_with_its_kind(detectors, text, kind):
    assert ("emotional", kind) in kinds(detectors, text)


@pytest.mark.parametrize(
    "text",
    [
        "How do I reset my password?",
        "What is your refund policy?",
        "Can I change my card PIN?",
        "Is my order delayed?",
        "Is my refund delayed?",
        "When will the new version be released?",
        "Thanks so much, that fixed it!",
        "Great, thanks for the quick help!",
        "I'm not sure which plan fits us, can you compare them?",
        "Could you set a reminder for five minutes from now?",
        "Why was I charged a fee on my statement?",
        "Hi! Could you tell me how to export my data to CSV?",
    ],
)
def test_neutral_questions_and_thanks_are_not_emotional(detectors, text):
    assert "emotional" not in reasons(detectors, text)


def test_negated_praise_reads_negative_and_negated_problem_does_not(detectors):
    assert detectors.sentiment("I'm not happy with this service") < DEFAULT_SENTIMENT_THRESHOLD
    calm = detectors.sentiment("The update didn't break anything, all good")
    assert calm > DEFAULT_SENTIMENT_THRESHOLD


def test_sarcastic_praise_next_to_a_complaint_is_not_praise(detectors):
    sincere = detectors.sentiment("Great job on the new dashboard!")
    sarcastic = detectors.sentiment("Great job, you lost my parcel again.")
    assert sincere > 0 > DEFAULT_SENTIMENT_THRESHOLD >= sarcastic


def test_sentiment_stays_on_vader_scale(detectors):
    for text in ("", "ok", "THIS IS THE WORST!!! NEVER AGAIN!!! SCAM!!!", "love it, thank you!!"):
        assert -1.0 <= detectors.sentiment(text) <= 1.0


def test_threshold_is_configurable(detectors):
    text = "My parcel hasn't arrived yet."
    assert "emotional" in reasons(detectors, text)
    calm = Detectors(sentiment_threshold=-0.35)
    assert "emotional" not in reasons(calm, text)


def test_threshold_outside_the_scale_is_refused():
    with pytest.raises(ValueError):
        Detectors(sentiment_threshold=-1.5)


# --------------------------------------------------------------------------- repeated complaints
def test_same_complaint_raised_again_across_history(detectors):
    history = (
        customer("My invoice for March shows the wrong company address."),
        agent("Thanks, I've passed this to billing."),
    )
    found = kinds(detectors, "The March invoice still shows the wrong company address.",
                  history=history)
    assert ("emotional", "repeated_complaint") in found


def test_chasing_after_unanswered_messages(detectors):
    history = (
        customer("Hi, my export job has been stuck at 90% since this morning."),
        customer("Any news on this?"),
    )
    found = kinds(detectors, "Hello? Is anyone looking at this again?", history=history)
    assert ("emotional", "repeated_complaint") in found


def test_follow_up_after_an_answer_is_not_a_repeated_complaint(detectors):
    history = (
        customer("How do I export my invoices as PDF?"),
        agent("Go to Billing > Invoices and press Export."),
    )
    found = kinds(detectors, "Thanks! And how do I export invoices as CSV?", history=history)
    assert ("emotional", "repeated_complaint") not in found


def test_new_topic_after_an_answer_is_not_a_repeated_complaint(detectors):
    history = (customer("Where do I change my avatar?"), agent("Under Profile > Picture."))
    assert "emotional" not in reasons(detectors, "Can I also add a second admin?", history=history)


# --------------------------------------------------------------------------- signal shape
def test_signal_converts_to_a_trigger_for_the_handoff_card(detectors):
    signal = detectors.detect(Conversation(text="Someone hacked my account!"))[0]
    trigger = signal.to_trigger()
    assert isinstance(signal, Signal) and isinstance(trigger, Trigger)
    assert (trigger.reason, trigger.kind, trigger.evidence) == (signal.reason, signal.kind,
                                                                  signal.evidence)
    assert 0.0 <= signal.score <= 1.0 and signal.detail


def test_anger_evidence_names_the_words_that_fired(detectors):
    [anger] = [s for s in detectors.detect(Conversation(text="On hold for 2 hours, ridiculous."))
               if s.kind == "anger"]
    assert "ridiculous" in anger.evidence and "on hold" in [w.lower() for w in anger.evidence]


def test_curly_apostrophes_match_like_straight_ones(detectors):
    straight = kinds(detectors, "I didn't authorise this payment.")
    curly = kinds(detectors, "I didn\u2019t authorise this payment.")
    assert straight == curly and ("policy_risk", "security") in curly


def test_empty_message_raises_nothing(detectors):
    assert detectors.detect(Conversation(text="   ")) == []


def test_instances_do_not_share_an_analyzer():
    assert Detectors()._vader is not Detectors()._vader


def test_detect_is_fast(detectors):
    text = ("I've been waiting three weeks for my refund, nobody answers my emails and your "
            "chat bot keeps closing the conversation. This is the third time I'm asking!!")
    detectors.detect(Conversation(text=text))
    start = time.perf_counter()
    for _ in range(50):
        detectors.detect(Conversation(text=text))
    assert (time.perf_counter() - start) / 50 < 0.02  # generous: ~1 ms on a laptop


# --------------------------------------------------------------------------- public suites
def _suite(name: str) -> list[dict]:
    path = EVAL / name / "cases.jsonl"
    if not path.exists():
        pytest.skip(f"evaluation suite {name} not available")
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def test_airline_sentiment_emotional_floor(detectors):
    """Regression floor on the public signals suite (figures: benchmarks/signals_bench.py)."""
    cases = _suite("airline_sentiment")
    pairs = [(bool(detectors.emotional(conversation=Conversation(text=c["text"]))),
              "emotional" in c["expect"]["reasons"]) for c in cases]
    tp = sum(p and e for p, e in pairs)
    precision = tp / max(1, sum(p for p, _ in pairs))
    recall = tp / max(1, sum(e for _, e in pairs))
    assert precision >= 0.84 and recall >= 0.76


@pytest.mark.parametrize("suite", ["clinc150", "banking77"])
def test_routing_suites_rarely_raise_policy_or_value_false_alarms(detectors, suite):
    cases = _suite(suite)
    for reason in (Reason.POLICY_RISK, Reason.HIGH_VALUE, Reason.HUMAN_REQUESTED):
        negatives = [c for c in cases if reason.value not in c["expect"]["reasons"]]
        fired = sum(1 for c in negatives
                    if any(s.reason == reason
                           for s in detectors.detect(Conversation(text=c["text"]))))
        assert fired / len(negatives) <= 0.01, (suite, reason.value, fired)

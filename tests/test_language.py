"""Messages in a language the knowledge base is not written in: detected, handed off with the
language on the card, never answered in the wrong language; answered only under
``languages.multilingual`` by a verified, translated answer from a language model."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from bot.app import build_core
from bot.cards import card_text, missing_fields
from bot.language import LanguageDetector, knowledge_languages
from bot.outbox import OutboxRouter, RecordingOutbox
from bot.replies import HOLDING_TRANSLATED
from bot.rules import RulesError, parse_rules
from bot.settings import SAMPLE_RULES
from bot.types import ConversationRef, InboundMessage, Person, Reason

_ids = itertools.count(1)
GERMAN = "Wo ist meine Rechnung? Ich habe sie vor zwei Wochen bezahlt und nichts bekommen."


def message(text: str, *, thread: str = "t-lang") -> InboundMessage:
    ref = ConversationRef(platform="test", channel="C-customer", thread=thread)
    return InboundMessage(event_id=f"ev-lang-{next(_ids)}", ref=ref, author=Person(platform_id="U7", display_name="Jonas"), text=text)


# --- the detector ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "code"), [
    (GERMAN, "de"),
    ("Bonjour, je n'arrive pas à me connecter à mon compte.", "fr"),
    ("¿Por qué me cobraron dos veces este mes?", "es"),
    ("Почему моя карта заблокирована?", "ru"),
    ("为什么我被扣了两次钱？", "zh"),
    ("Minha conta foi bloqueada, o que faço?", "pt"),
])
def test_a_message_in_another_language_is_detected_with_its_code(text, code):
    guess = LanguageDetector(known=["en"]).foreign(text)
    assert guess is not None and guess.code == code and guess.confidence >= 0.98


@pytest.mark.parametrize("text", [
    "How do I export my expenses to CSV?",
    "card declined",  # too short to judge
    "okay", "tiger", "hola",
    "refund pls",
    "can i put in a pto request for september 1st to september 8th",
    "Please see https://example.de/hilfe/rechnung-herunterladen-und-bezahlen <@U0123ABC> thanks",
    "The error says `Fehler beim Herunterladen der Rechnung aufgetreten` when I export",
])
def test_english_short_texts_links_and_quoted_code_are_not_foreign(text):
    assert LanguageDetector(known=["en"]).foreign(text) is None


def test_a_language_the_knowledge_base_is_written_in_is_not_foreign():
    assert LanguageDetector(known=["en", "de"]).foreign(GERMAN) is None
    assert LanguageDetector(known=["en", "de"]).foreign("Je voudrais être remboursé pour ma commande du mois dernier.").code == "fr"


def test_unknown_language_codes_are_refused():
    with pytest.raises(ValueError, match="xx"):
        LanguageDetector(known=["en", "xx"])


def test_knowledge_languages_are_the_common_ones_with_english_as_the_fallback():
    english = ["You can export your expenses to a CSV file from the reports page."] * 9
    german = ["Sie können Ihre Ausgaben auf der Berichtsseite als CSV-Datei exportieren."] * 3
    assert knowledge_languages(english) == ("en",)
    assert knowledge_languages(english + german) == ("en", "de")
    assert knowledge_languages(english * 20 + german) == ("en",)  # under a tenth: not a knowledge language
    assert knowledge_languages(["ok", "hi"]) == ("en",)


# --- the rules ------------------------------------------------------------------------------


def test_rules_validate_language_codes_with_the_line():
    with pytest.raises(RulesError, match=r"line \d+.*unknown language code\(s\) english"):
        parse_rules(text="version: 1\nlanguages:\n  answer_in: [english]\n")
    rules = parse_rules(text="version: 1\nlanguages:\n  answer_in: [en, de]\n  multilingual: false\n")
    assert rules.languages.answer_in == ["en", "de"]


def _rules_file(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(SAMPLE_RULES.read_text(encoding="utf-8") + "\n" + extra, encoding="utf-8")
    return path


def test_multilingual_without_a_language_model_fails_at_start_up(make_settings, tmp_path):
    settings = make_settings(rules=_rules_file(tmp_path, "languages:\n  multilingual: true\n"))
    with pytest.raises(RulesError, match="no language model is configured"):
        build_core(settings=settings)


# --- the core on the sample deployment ------------------------------------------------------


async def test_a_german_message_goes_to_a_person_with_the_language_on_the_card(core, recording):
    result = await core.dialogue.handle(message(GERMAN))
    assert result.status == "escalated"
    [trigger] = [t for t in result.decision.triggers if t.kind == "unsupported_language"]
    assert trigger.reason == Reason.LOW_CONFIDENCE and "German (de)" in trigger.detail
    assert result.decision.language == "de"
    [card] = recording.cards()
    assert missing_fields(card) == []
    text = card_text(card)
    assert "written in German (de); the bot answers in English only" in text
    assert "reply in German" in card.internal_action and "knowledge gap" not in card.internal_action
    # the English models cannot read it: no category guess, no English sources or draft on the card
    assert card.sources == () and card.suggested_reply == "" and "written in German" in card.intent
    assert result.decision.category.name is None and [t.kind for t in result.decision.triggers] == ["unsupported_language"]
    [holding] = recording.replies()
    assert holding.kind == "holding" and holding.text == HOLDING_TRANSLATED["de"]
    assert core.store.gaps(status="open") == []  # a language is not a knowledge gap


async def test_english_is_still_answered_and_the_knowledge_languages_were_detected(core, recording):
    assert core.engine.language.known == ("en",)
    result = await core.dialogue.handle(message("How do I add my company logo to invoices?", thread="t-en"))
    assert result.status == "answered" and result.decision.language is None


async def test_a_language_named_in_the_rules_is_not_handed_off_for_its_language(make_settings, tmp_path):
    recording = RecordingOutbox(platform="test")
    settings = make_settings(rules=_rules_file(tmp_path, "languages:\n  answer_in: [en, de]\n"))
    core = build_core(settings=settings, outboxes=OutboxRouter(outboxes=[recording]))
    result = await core.dialogue.handle(message(GERMAN))
    assert result.decision.language is None
    assert not [t for t in result.decision.triggers if t.kind == "unsupported_language"]


def test_regression_floor_on_the_benchmarks_set_of_other_languages():
    """Floor under benchmarks/language_bench.py's figure (142 of 142 caught when measured)."""
    import json

    rows = [json.loads(line) for line in (Path(__file__).parent.parent / "benchmarks" / "data" / "languages.jsonl").read_text(encoding="utf-8").splitlines()]
    detector = LanguageDetector(known=["en"])
    caught = [row for row in rows if detector.foreign(row["text"]) is not None]
    assert len(rows) == 142 and len(caught) >= 138


async def test_a_german_message_from_an_enterprise_customer_keeps_its_tier_and_priority(core):
    ref = ConversationRef(platform="test", channel="C-customer", thread="t-lang-ent")
    author = Person(platform_id="U8", display_name="Jane", email="jane@globex.example")
    result = await core.dialogue.handle(InboundMessage(event_id="ev-lang-ent", ref=ref, author=author, text=GERMAN))
    kinds = {(t.reason, t.kind) for t in result.decision.triggers}
    assert {(Reason.HIGH_VALUE, "tier"), (Reason.LOW_CONFIDENCE, "unsupported_language")} <= kinds
    assert result.decision.priority == "high"


async def test_a_follow_up_in_german_is_acknowledged_in_german(make_settings):
    from datetime import timedelta

    from bot.types import utcnow

    now = [utcnow()]
    recording = RecordingOutbox(platform="test")
    core = build_core(settings=make_settings(), outboxes=OutboxRouter(outboxes=[recording]), clock=lambda: now[0])
    first = await core.dialogue.handle(message(GERMAN, thread="t-lang-follow"))
    now[0] += timedelta(minutes=5)  # past the one-acknowledgement-a-minute window
    follow = await core.dialogue.handle(message("Hallo? Ich warte immer noch auf eine Antwort wegen meiner Rechnung.", thread="t-lang-follow"))
    assert first.status == "escalated" and follow.status == "relayed" and follow.ticket_id == first.ticket_id
    assert [r.text for r in recording.replies()] == [HOLDING_TRANSLATED["de"], HOLDING_TRANSLATED["de"]]

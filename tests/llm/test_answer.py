"""Citation verification: only answers supported by the passages they cite are sent."""

from __future__ import annotations

from bot.llm.answer import format_answer, verify_answer
from bot.llm.retrieval import PromptPassage, trim_passage
from bot.types import Source

REFUND = ("Approved refunds are returned to the original payment method and can take 5-10 business days to appear, "
          "depending on your bank. The billing team aims to reply within 5 business days.")
EXPORT = "Go to Reports > Export, choose CSV or Excel and the date range, then click Download."


def _passages() -> tuple[PromptPassage, ...]:
    return (
        PromptPassage("P1", Source("refund-policy", "Refund policy", "how-refund-requests-are-handled", "https://help.example/refunds", 0.9, "refund-policy/2"), REFUND),
        PromptPassage("P2", Source("exports", "Exports", "", None, 0.7, "exports/1"), EXPORT),
    )


def test_a_supported_answer_passes() -> None:
    verdict = verify_answer(answer="Approved refunds go back to the original payment method and can take 5-10 business days to appear.", citations=["P1"], passages=_passages())
    assert verdict.ok and [s.doc_id for s in verdict.sources] == ["refund-policy"]


def test_unknown_citation_fails() -> None:
    verdict = verify_answer(answer="Go to Reports > Export and choose CSV.", citations=["P2", "P7"], passages=_passages())
    assert not verdict.ok and "P7" in verdict.problems[0]


def test_no_citation_fails() -> None:
    assert not verify_answer(answer="Go to Reports > Export.", citations=[], passages=_passages()).ok


def test_an_invented_sentence_fails() -> None:
    answer = "Go to Reports > Export and choose CSV. We also offer a free migration service with a dedicated consultant."
    verdict = verify_answer(answer=answer, citations=["P2"], passages=_passages())
    assert not verdict.ok and any("migration" in p for p in verdict.problems)


def test_a_wrong_number_fails_even_with_overlapping_words() -> None:
    verdict = verify_answer(answer="Approved refunds can take 30 business days to appear.", citations=["P1"], passages=_passages())
    assert not verdict.ok and any("30" in p for p in verdict.problems)


def test_citing_the_wrong_passage_fails() -> None:
    verdict = verify_answer(answer="Approved refunds are returned to the original payment method.", citations=["P2"], passages=_passages())
    assert not verdict.ok


def test_a_foreign_link_fails() -> None:
    verdict = verify_answer(answer="Go to Reports > Export, see https://evil.example/export for CSV.", citations=["P2"], passages=_passages())
    assert not verdict.ok and any("link" in p for p in verdict.problems)


def test_format_answer_adds_sources() -> None:
    text = format_answer(answer="Go to Reports > Export.", sources=(_passages()[0].source,))
    assert text.endswith("Source: Refund policy (https://help.example/refunds#how-refund-requests-are-handled)")


def test_trim_passage_keeps_the_relevant_sentences() -> None:
    long = " ".join(f"Filler sentence number {i} about nothing in particular." for i in range(30)) + " To export invoices open Reports and click Export."
    trimmed = trim_passage(text=long, query="how do I export invoices", chars=200)
    assert len(trimmed) <= 200 and "Export" in trimmed

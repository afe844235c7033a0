"""Grounded answers: the bot checks the model's citations before any answer reaches a customer.

An answer is used only when

1. it cites at least one passage, and every cited id is one of the passages we sent;
2. each of its sentences is supported by the cited passages: at least ``SENTENCE_SUPPORT`` of
   the sentence's content words (stemmed, stop words removed, as the knowledge search does)
   occur in the cited text, and at least ``ANSWER_SUPPORT`` of the whole answer's do;
3. every number in it (prices, days, limits) appears in the cited text: a wrong number is the
   most harmful kind of made-up detail and word overlap alone would not catch it;
4. every link in it appears in the cited text.

Otherwise the case escalates as ``low_confidence`` of kind ``unsupported_answer``, with the
failed checks as evidence. The check compares against the text the model was actually given
(the trimmed passages), so it cannot be satisfied by facts the model only claims to have read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.llm.retrieval import PromptPassage
from bot.replies import cite
from bot.summary import clip
from bot.types import Source
from knowledge.bm25 import tokenize

__all__ = ["Verdict", "format_answer", "translation_problems", "verify_answer"]

SENTENCE_SUPPORT = 0.6
ANSWER_SUPPORT = 0.7
MIN_WORDS = 3
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")
_URL = re.compile(r"https?://[^\s)\]>\"']+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether an answer may be sent; the problems found; the sources it really cites."""

    ok: bool
    problems: tuple[str, ...]
    sources: tuple[Source, ...]


def verify_answer(*, answer: str, citations: list[str], passages: tuple[PromptPassage, ...]) -> Verdict:
    """Check citations, sentence support, numbers and links of ``answer`` against ``passages``."""
    by_id = {p.pid: p for p in passages}
    unknown = [c for c in citations if c not in by_id]
    cited = [by_id[c] for c in dict.fromkeys(citations) if c in by_id]
    if not cited or unknown:
        problem = f"cites passages that were not retrieved: {', '.join(unknown)}" if unknown else "the answer cites no passage"
        return Verdict(False, (problem,), ())
    reference = " ".join(f"{p.source.title} {p.text}" for p in cited)
    problems = _support_problems(answer=answer, reference=reference) + _detail_problems(answer=answer, reference=reference)
    return Verdict(not problems, tuple(problems), tuple(p.source for p in cited))


def _support_problems(*, answer: str, reference: str) -> list[str]:
    known = set(tokenize(reference))
    problems, total, supported = [], 0, 0
    for sentence in (s.strip() for s in _SENTENCE.split(answer)):
        words = tokenize(sentence)
        hits = sum(1 for w in words if w in known)
        total, supported = total + len(words), supported + hits
        if len(words) >= MIN_WORDS and hits / len(words) < SENTENCE_SUPPORT:
            problems.append(f"not in the cited passages ({hits}/{len(words)} words): \"{clip(sentence, limit=80)}\"")
    if total and supported / total < ANSWER_SUPPORT:
        problems.append(f"only {supported}/{total} of the answer's words are in the cited passages")
    return problems


def _detail_problems(*, answer: str, reference: str, where: str = "the cited passages") -> list[str]:
    numbers = set(_NUMBER.findall(reference))
    links = reference.lower()
    problems = [f"the number {n} is not in {where}" for n in dict.fromkeys(_NUMBER.findall(answer)) if n not in numbers]
    problems += [f"the link {clip(u, limit=60)} is not in {where}" for u in _URL.findall(answer) if u.lower().rstrip(".,") not in links]
    return problems


def translation_problems(*, translation: str, answer: str) -> list[str]:
    """Why a translation of a verified answer cannot be sent: missing, or a number or link that the
    verified answer does not have (the words cannot be checked across languages; these can)."""
    if not translation.strip():
        return ["the model gave no translation of its verified answer"]
    return _detail_problems(answer=translation, reference=answer, where="the verified answer")


def format_answer(*, answer: str, sources: tuple[Source, ...]) -> str:
    """The customer-facing answer with its sources, like the offline engine's answers."""
    lines = "\n".join(f"Source: {cite(s)}" for s in sources)
    return f"{answer.strip()}\n\n{lines}"

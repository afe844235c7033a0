"""Which language a customer wrote in, and whether the bot may answer in it.

The knowledge base is written in some languages (detected from its passages and the categories'
examples, or set in the rules). A message confidently in another language is not answered with
quoted English text: it goes to a person with the language on the card, unless the rules'
``languages.multilingual`` is on and a language model can answer in the customer's language.

Detection is py3langid (a naive Bayes model over byte n-grams that ships inside the package,
BSD-3), restricted to the widely written languages below: with all its 140 labels, short English
support questions read as Nigerian Pidgin or Scots. The decision is deliberately one-sided:
a message is foreign only when the model gives the knowledge base's languages together at most
``1 - FOREIGN_CONFIDENCE`` and the text is long enough to judge (``MIN_WORDS`` words, or
``MIN_CHARS`` letters of Chinese, Japanese, Korean or Thai). Anything shorter or less certain
("ok", "tiger", "hola") counts as the knowledge base's language and is decided as usual. The
figures behind these bars are in ``benchmarks/language_bench.py``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import Iterable, Sequence

import numpy as np

__all__ = ["FOREIGN_CONFIDENCE", "LANGUAGE_NAMES", "LanguageDetector", "LanguageGuess", "knowledge_languages", "language_name"]

LANGUAGE_NAMES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "pt": "Portuguese", "it": "Italian",
    "nl": "Dutch", "pl": "Polish", "sv": "Swedish", "da": "Danish", "no": "Norwegian", "fi": "Finnish",
    "cs": "Czech", "sk": "Slovak", "hu": "Hungarian", "ro": "Romanian", "tr": "Turkish", "ru": "Russian",
    "uk": "Ukrainian", "bg": "Bulgarian", "el": "Greek", "he": "Hebrew", "ar": "Arabic", "fa": "Persian",
    "hi": "Hindi", "bn": "Bengali", "ur": "Urdu", "ja": "Japanese", "zh": "Chinese", "ko": "Korean",
    "th": "Thai", "vi": "Vietnamese", "id": "Indonesian", "ms": "Malay", "tl": "Tagalog", "hr": "Croatian",
    "sr": "Serbian", "sl": "Slovenian", "lt": "Lithuanian", "lv": "Latvian", "et": "Estonian", "ca": "Catalan",
}
FOREIGN_CONFIDENCE = 0.98
MIN_WORDS = 3
MIN_CHARS = 4  # letters, for Chinese, Japanese, Korean and Thai, whose few "words" carry a lot
SAMPLE = 500
KNOWLEDGE_SHARE = 0.1  # a language of at least this share of the passages is a knowledge language
_NOISE = re.compile(r"https?://\S+|<[@#!][^>]*>|`[^`]*`|\S+@\S+\.\w+|[:][a-z0-9_+-]+[:]", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]{2,}")
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\u0e00-\u0e7f\uac00-\ud7af]")


def language_name(code: str) -> str:
    """'German' for 'de'; the code itself for one we do not name."""
    return LANGUAGE_NAMES.get(code, code)


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """A message judged to be in ``code``, not in the knowledge base's languages."""

    code: str
    confidence: float  # the probability that it is in none of the knowledge base's languages

    @property
    def name(self) -> str:
        return language_name(self.code)


@cache
def _identifier():
    """The py3langid model restricted to LANGUAGE_NAMES, loaded once per process (about 0.5 s).

    Built from the sliced tables rather than with ``set_languages``, which keeps the full
    140-language table alive as well: this way the model costs about 55 MB of memory, not about
    80 (both measured in benchmarks/latency.py's process).
    """
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier, _load_model_file

    ptc, pc, classes, nextmove, row, output = _load_model_file(MODEL_DIR / MODEL_FILE)
    columns = [i for i, code in enumerate(classes) if code in LANGUAGE_NAMES]
    return LanguageIdentifier(np.ascontiguousarray(np.asarray(ptc)[:, columns]), np.asarray(pc)[columns], [classes[i] for i in columns],
                              nextmove, output, norm_probs=True, tk_row=row)


def detectable_text(text: str) -> str:
    """The words of a message without links, mentions, code, e-mail addresses and emoji codes."""
    return " ".join(_NOISE.sub(" ", unicodedata.normalize("NFC", text or "")).split())


def _long_enough(text: str) -> bool:
    return len(_WORD.findall(text)) >= MIN_WORDS or len(_UNSPACED.findall(text)) >= MIN_CHARS


class LanguageDetector:
    """Tells whether a message is confidently in a language the knowledge base is not written in."""

    def __init__(self, *, known: Iterable[str]) -> None:
        self.known = tuple(dict.fromkeys(code for code in known if code))
        unknown = [code for code in self.known if code not in LANGUAGE_NAMES]
        if unknown or not self.known:
            raise ValueError(f"unsupported language codes {unknown or '(none given)'}; supported: {', '.join(LANGUAGE_NAMES)}")

    def foreign(self, text: str) -> LanguageGuess | None:
        """The message's language when it is confidently none of ``known``; else None."""
        clean = detectable_text(text)
        if not _long_enough(clean):
            return None
        ranked = dict(_identifier().rank(clean))
        outside = 1.0 - sum(ranked.get(code, 0.0) for code in self.known)
        if outside < FOREIGN_CONFIDENCE:
            return None
        best = max(ranked, key=ranked.__getitem__)
        return LanguageGuess(best, round(outside, 4))


def knowledge_languages(texts: Sequence[str], *, fallback: str = "en") -> tuple[str, ...]:
    """The languages of at least ``KNOWLEDGE_SHARE`` of the texts long enough to judge, commonest
    first; a large knowledge base is judged on ``SAMPLE`` texts spread evenly over it."""
    step = max(1, len(texts) // SAMPLE)
    counts: Counter[str] = Counter()
    for text in texts[::step]:
        clean = detectable_text(text)
        if _long_enough(clean):
            counts[_identifier().classify(clean)[0]] += 1
    total = sum(counts.values())
    found = tuple(code for code, count in counts.most_common() if count >= KNOWLEDGE_SHARE * total)
    return found or (fallback,)

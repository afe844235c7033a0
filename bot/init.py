"""`baton init`: a team's own deployment, with none of the fictional sample in it.

It writes two files into a folder:

* ``baton-rules.yaml``: starter categories for the team's product (a few examples each, to be
  rewritten in the customers' own words), the queues mapped to the team's Slack channel ids and
  Teams channels, VIP and enterprise email domains, and the SLA hours per priority;
* ``.env``: the settings that point Baton at those rules and at the team's knowledge (a folder
  or a docs website), a generated session secret and admin token, and the platform variables
  to fill in. It is written with mode 600: it holds secrets.

The rules are validated by the same loader ``baton serve`` uses before anything is written, and
``baton serve`` checks the Slack channel ids against Slack when it starts.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
from pathlib import Path

import yaml

from bot.rules import PRIORITIES, load_rules, parse_duration
from bot.usage import CliError

RULES_NAME = "baton-rules.yaml"
ENV_NAME = ".env"
QUEUES = ("support", "billing", "security")
DEFAULT_SLA = {"urgent": ("15m", "4h"), "high": ("1h", "8h"), "normal": ("4h", "2d"), "low": ("1d", "5d")}
SLACK_CHANNEL = re.compile(r"^[CG][A-Z0-9]{6,}$")
TEAMS_CHANNEL = re.compile(r"^19:[^@\s]+@thread\.(tacv2|skype)$")


def _categories(product: str) -> list[dict]:
    """Starter categories: generic support intents every product has. Rewrite the examples."""
    return [
        {"name": "how_to", "description": f"How to use {product}: set-up, features, settings", "automation": "ai_answer", "queue": "support",
         "examples": ["how do I change my password", "where can I find the settings for notifications", "is there a way to export my data",
                      "how do I invite a colleague to our account", "can I use it on my phone", "how do I get started"]},
        {"name": "bug_report", "description": f"Something in {product} does not work as expected", "automation": "ai_route", "queue": "support",
         "examples": ["the page keeps loading forever", "I get an error when I click save", "the app crashed after the update",
                      "nothing happens when I press the button", "the numbers on my dashboard look wrong"]},
        {"name": "billing", "description": "Invoices, plans, payment methods and charges", "automation": "ai_route", "queue": "billing", "policy": "payment",
         "examples": ["I was charged twice this month", "how do I update my credit card", "can I get an invoice with our VAT number",
                      "why did my bill go up", "my payment failed"]},
        {"name": "refund_or_cancel", "description": "Refund requests, disputes and cancellations", "automation": "human_only", "queue": "billing", "policy": "refund_dispute",
         "examples": ["I want a refund", "please cancel our subscription", "we are thinking of leaving for another tool",
                      "I was billed after I cancelled, I want my money back", "how do I close my account"]},
        {"name": "account_access", "description": "Locked out, lost two-factor device, ownership changes", "automation": "human_only", "queue": "security", "policy": "account_access",
         "examples": ["I can't log in to my account", "I lost my phone with the two-factor codes", "the account owner left, please transfer it to me",
                      "my account is locked", "I don't get the password reset email"]},
        {"name": "security_report", "description": "Suspicious activity, phishing, vulnerability reports", "automation": "human_only", "queue": "security", "policy": "security",
         "examples": ["someone logged into our account from another country", "I got a phishing email pretending to be you",
                      "I found a security vulnerability", "there is an admin in our workspace nobody added"]},
        {"name": "legal_privacy", "description": "Contracts, DPA, GDPR and data deletion requests", "automation": "human_only", "queue": "security", "policy": "legal",
         "examples": ["we need a signed DPA", "please delete all our data under GDPR", "where is our data stored", "can you send your SOC 2 report"]},
        {"name": "talk_to_person", "description": "The customer asks for a person", "automation": "human_only", "queue": "support", "reason": "human_requested",
         "examples": ["can I talk to a real person", "get me a human", "I want to speak to someone on your team", "please have someone call me"]},
    ]


def _queues(*, slack: dict[str, str], teams: dict[str, str]) -> dict[str, dict]:
    queues = {}
    for name in dict.fromkeys([*QUEUES, *slack, *teams]):
        entry = {"sandbox": name}
        if name in slack:
            entry["slack"] = slack[name]
        if name in teams:
            entry["teams"] = teams[name]
        queues[name] = entry
    return queues


def _customers(*, vip: list[str], enterprise: list[str]) -> dict:
    organisations = []
    if enterprise:
        organisations.append({"name": "Enterprise customers", "tier": "enterprise", "email_domains": enterprise})
    if vip:
        organisations.append({"name": "VIP customers", "tier": "vip", "email_domains": vip})
    tiers = {"standard": {"priority": "normal"}, "enterprise": {"priority": "high", "escalate": True}, "vip": {"priority": "urgent", "escalate": True}}
    return {"default_tier": "standard", "tiers": tiers, "organisations": organisations}


def starter_rules(*, product: str, slack: dict[str, str], teams: dict[str, str], vip: list[str], enterprise: list[str], sla: dict[str, tuple[str, str]]) -> str:
    """The rules file text: a short guide in comments, then the YAML."""
    data = {
        "version": f"{_slug(product)}-1", "thresholds": {"caution": 0.5},
        "categories": _categories(product), "customers": _customers(vip=vip, enterprise=enterprise),
        "sla": {p: {"first_response": first, "resolution": resolution} for p, (first, resolution) in sla.items()},
        "queues": _queues(slack=slack, teams=teams), "default_queue": "support",
    }
    header = (
        f"# Baton rules for {product}, written by `baton init`. Edit freely; docs/rules.md explains every field.\n"
        "# - Rewrite each category's examples the way YOUR customers write (6-10 each work well).\n"
        "# - automation: ai_answer (bot answers from your docs), ai_draft (a person approves), ai_route, human_only.\n"
        "# - queues: a Slack channel id (C...) and/or a Teams channel per queue. A queue without a channel on a\n"
        "#   platform uses the default queue's. In Teams you can also say '@Baton use this channel as the billing queue'.\n"
        "# - `baton serve` checks the Slack channel ids when it starts and names any that does not exist.\n"
        "# - languages: the bot answers in the languages your docs are written in (detected; `languages: {answer_in: [en, de]}` sets them).\n\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)


def env_file(*, rules: Path, knowledge: str, home: Path) -> str:
    """The .env text: Baton's own settings filled in, the platform ones to fill."""
    source = f"BATON_KNOWLEDGE_URLS={knowledge}" if knowledge.startswith(("http://", "https://")) else f"BATON_KNOWLEDGE={knowledge}"
    return "\n".join([
        "# Written by `baton init`. Holds secrets: keep it out of version control (mode 600).",
        f"BATON_RULES={rules}", source, f"BATON_HOME={home}",
        f"BATON_SESSION_SECRET={secrets.token_urlsafe(32)}", f"BATON_ADMIN_TOKEN={secrets.token_urlsafe(32)}",
        "# BATON_PUBLIC_URL=https://baton.example.com", "# BATON_AGENTS=@yourcompany.com", "# BATON_LEADS=", "# BATON_ADMINS=",
        "# Slack (docs/slack.md): SLACK_BOT_TOKEN=xoxb-...  SLACK_SIGNING_SECRET=...  (or SLACK_APP_TOKEN=xapp-... for Socket Mode)",
        "# Sign in with Slack (docs/security.md): SLACK_CLIENT_ID=...  SLACK_CLIENT_SECRET=...",
        "# Teams (docs/teams.md): MICROSOFT_APP_ID=...  MICROSOFT_APP_PASSWORD=...  MICROSOFT_APP_TENANT_ID=...",
        "# An LLM (docs/llm.md), optional: OPENAI_API_KEY=...  OPENAI_BASE_URL=...",
        "",
    ])


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "team"


def _pairs(values: list[str] | None, *, what: str, pattern: re.Pattern) -> dict[str, str]:
    """'billing=C0123ABCD' options -> {queue: channel}, each channel id checked for its shape."""
    pairs = {}
    for value in values or []:
        name, sep, channel = value.partition("=")
        if not sep or not name.strip() or not channel.strip():
            raise ValueError(f"--{what}-queue takes QUEUE=CHANNEL, not {value!r}")
        if not pattern.match(channel.strip()):
            example = "C0123ABCD" if what == "slack" else "19:...@thread.tacv2"
            raise ValueError(f"--{what}-queue {value}: {channel.strip()!r} is not a {what.title()} channel id (like {example})")
        pairs[name.strip().lower()] = channel.strip()
    return pairs


def _sla(values: list[str] | None) -> dict[str, tuple[str, str]]:
    """'urgent=30m/4h' options over the defaults; each duration is checked."""
    sla = dict(DEFAULT_SLA)
    for value in values or []:
        priority, _, times = value.partition("=")
        first, _, resolution = times.partition("/")
        if priority not in PRIORITIES or not first or not resolution:
            raise ValueError(f"--sla takes PRIORITY=FIRST/RESOLUTION with a priority of {', '.join(PRIORITIES)}, like urgent=30m/4h; not {value!r}")
        parse_duration(first), parse_duration(resolution)
        sla[priority] = (first, resolution)
    return sla


def add_parser(sub: argparse._SubParsersAction) -> None:
    """The `baton init` sub-command and its options."""
    init = sub.add_parser("init", help="write a starter rules file and .env for your own team")
    init.add_argument("--product", required=True, help="your product's name, as customers know it")
    init.add_argument("--dir", default=".", help="where to write baton-rules.yaml and .env (default: here)")
    init.add_argument("--knowledge", help="your docs: a folder (default: knowledge/ in --dir), or a docs website's URL (sitemap.xml or a start page)")
    init.add_argument("--slack-queue", action="append", metavar="QUEUE=CHANNEL_ID", help="a queue's Slack channel id, e.g. support=C0123ABCD (repeatable)")
    init.add_argument("--teams-queue", action="append", metavar="QUEUE=CHANNEL_ID", help="a queue's Teams channel id, e.g. billing=19:...@thread.tacv2 (repeatable)")
    init.add_argument("--vip-domain", action="append", default=[], help="an email domain of VIP customers (repeatable)")
    init.add_argument("--enterprise-domain", action="append", default=[], help="an email domain of enterprise customers (repeatable)")
    init.add_argument("--sla", action="append", metavar="PRIORITY=FIRST/RESOLUTION", help="e.g. urgent=30m/4h (repeatable; defaults 15m/4h, 1h/8h, 4h/2d, 1d/5d)")
    init.add_argument("--force", action="store_true", help="overwrite existing files")
    init.set_defaults(func=cmd_init)


def cmd_init(args: argparse.Namespace) -> int:
    folder = Path(args.dir).resolve()
    rules_path, env_path = folder / RULES_NAME, folder / ENV_NAME
    existing = [p.name for p in (rules_path, env_path) if p.exists()]
    if existing and not args.force:
        raise CliError(f"{', '.join(existing)} already exist in {folder}; pass --force to overwrite")
    try:
        text = starter_rules(product=args.product, slack=_pairs(args.slack_queue, what="slack", pattern=SLACK_CHANNEL),
                             teams=_pairs(args.teams_queue, what="teams", pattern=TEAMS_CHANNEL), vip=args.vip_domain,
                             enterprise=args.enterprise_domain, sla=_sla(args.sla))
    except ValueError as exc:
        raise CliError(str(exc)) from None
    folder.mkdir(parents=True, exist_ok=True)
    rules_path.write_text(text, encoding="utf-8")
    load_rules(path=rules_path)  # the same validation `baton serve` runs (a RulesError is reported by the CLI)
    knowledge = _knowledge(args.knowledge, folder=folder)
    _write_secret(env_path, env_file(rules=rules_path, knowledge=knowledge, home=folder / ".baton"))
    print(f"Wrote {rules_path} and {env_path}.\nNext: put your docs in {knowledge}, fill in the Slack or Teams settings in .env, "
          f"then run `baton serve` from {folder} (docs/pilot.md walks through it).")
    return 0


def _knowledge(given: str | None, *, folder: Path) -> str:
    """A docs URL as given; a folder as an absolute path (knowledge/ in the folder by default, created)."""
    if given and given.startswith(("http://", "https://")):
        return given
    path = Path(given).resolve() if given else folder / "knowledge"
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


def _write_secret(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)

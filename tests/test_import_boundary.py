"""The core imports no platform SDK: adapters translate, the core stays neutral."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PLATFORM_MODULES = ("slack_bolt", "slack_sdk", "botbuilder", "botframework", "msrest", "aiohttp", "openai")
COMPOSITION_ROOTS = {"bot/server.py"}  # the web process's wiring may mount adapters


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def violations(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((REPO / folder).rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if rel in COMPOSITION_ROOTS or "/migrations/" in rel or rel.startswith("bot/llm"):
            continue
        for module in imported_modules(path):
            if module.split(".")[0] in forbidden or module.startswith("adapters"):
                found.append(f"{rel} imports {module}")
    return found


def test_core_imports_no_platform_sdk():
    assert violations("bot", PLATFORM_MODULES) == []


# The docs-site crawler needs an HTTP client; aiohttp's client is that, not a chat platform. It
# is allowed in these two modules only, and no platform SDK anywhere in knowledge/.
CRAWLER_MODULES = {"knowledge/fetch.py", "knowledge/crawl.py"}


def test_knowledge_imports_no_platform_sdk():
    found = violations("knowledge", PLATFORM_MODULES)
    assert [v for v in found if not (v.split(" imports ")[0] in CRAWLER_MODULES and v.endswith(" imports aiohttp"))] == []


def test_the_check_catches_a_violation(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("from slack_bolt import App\nimport botbuilder.core\n")
    assert imported_modules(sample) == {"slack_bolt", "botbuilder.core"}


# Adapters talk to the core through its services (core.conversations, core.desk, core.reads,
# core.inbox), never to the tables: no adapter imports a bot.store module, and none reads a
# ``.store`` attribute (core.store, desk.store...).
def store_reach(folder: str) -> list[str]:
    found = []
    for path in sorted((REPO / folder).rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [f"{rel} imports {module}" for module in sorted(imported_modules(path)) if module == "bot.store" or module.startswith("bot.store.")]
        found += [f"{rel}:{node.lineno} reads .store" for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr == "store"]
    return found


def test_adapters_reach_the_core_only_through_its_services():
    assert store_reach("adapters") == []


def test_the_store_check_catches_a_reach(tmp_path, monkeypatch):
    planted = tmp_path / "adapters" / "x.py"
    planted.parent.mkdir()
    planted.write_text("from bot.store.repo import OPEN_STATES\nimport bot.store.models\n\ndef f(core):\n    return core.store.ticket(ticket_id='T')\n")
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    assert store_reach("adapters") == ["adapters/x.py imports bot.store.models", "adapters/x.py imports bot.store.repo", "adapters/x.py:5 reads .store"]

"""House rules for the LLM package: one module talks to openai, small files, wiring helpers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.llm import wrap_engine
from bot.llm.engine import LLMEngine
from bot.settings import Settings

from .fakes import offline_engine

REPO = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_client_imports_openai() -> None:
    importers = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "bot").rglob("*.py") if "openai" in _imports(p))
    assert importers == ["bot/llm/client.py"]


def test_files_stay_small() -> None:
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in (REPO / "bot" / "llm").glob("*.py")}
    assert max(sizes.values()) < 300, sizes


@pytest.fixture(autouse=True)
def _no_llm_environment(monkeypatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "BATON_OPENAI_API_KEY", "BATON_OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_without_an_endpoint_the_offline_engine_is_returned_unchanged() -> None:
    offline = offline_engine()
    assert wrap_engine(offline=offline, settings=Settings(_env_file=None)) is offline


def test_with_an_endpoint_the_offline_engine_is_wrapped(llm) -> None:
    settings = Settings(_env_file=None, openai_base_url=llm.base_url, llm_model="gpt-4o-mini")
    engine = wrap_engine(offline=offline_engine(), settings=settings)
    assert isinstance(engine, LLMEngine) and engine.client.model == "gpt-4o-mini"
    assert "sk-" not in repr(engine.config)


def test_a_key_alone_enables_it_and_is_never_in_the_config() -> None:
    settings = Settings(_env_file=None, openai_api_key="sk-live-secret-value")
    engine = wrap_engine(offline=offline_engine(), settings=settings)
    assert isinstance(engine, LLMEngine)
    assert "sk-live-secret-value" not in repr(engine.config) and "sk-live-secret-value" not in repr(engine.__dict__)

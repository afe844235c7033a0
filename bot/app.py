"""All wiring lives here: settings -> rules, store, knowledge, models, engine, desk, dialogue.

Nothing else builds long-lived objects, and there are no module-level singletons: the CLI,
the web server and the tests each call ``build_core`` with the settings they want.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.conversations import Conversations
from bot.detectors import Detectors
from bot.dialogue import DECIDING_THREADS, Dialogue
from bot.engine import DecisionEngine
from bot.gaps import GapTracker
from bot.llm import wrap_engine
from bot.outbox import OutboxRouter
from bot.reads import Reads
from bot.language import LanguageDetector, knowledge_languages
from bot.rules import Rules, RulesError, load_rules
from bot.settings import Settings
from bot.store.db import make_engine, migrate
from bot.inbox import Inbox
from bot.store.durable import Deliveries
from bot.store.repo import Store
from bot.threads import INLINE, Threads
from bot.tickets import TicketDesk
from bot.types import utcnow
from knowledge.batching import GroupEncoder

log = logging.getLogger(__name__)


@dataclass
class Core:
    """The platform-neutral core, ready for adapters to feed."""

    settings: Settings
    rules: Rules
    store: Store
    engine: Any
    desk: TicketDesk
    dialogue: Dialogue
    outboxes: OutboxRouter
    conversations: Conversations
    reads: Reads
    knowledge: Any = None
    encoder: Any = None
    inbox: Inbox | None = None
    threads: Threads = INLINE  # where the worker loops' blocking store calls run (the store threads)


class KnowledgeSearcher:
    """Knowledge search at the deployment's answer bar (a dial the sweep can move)."""

    def __init__(self, *, index: Any, threshold: float) -> None:
        self.index = index
        self.threshold = threshold

    def __call__(self, query: str, *, k: int = 5, query_vector: Any = None) -> Any:
        from knowledge.search import search

        return search(self.index, query, k=k, threshold=self.threshold, query_vector=query_vector)


def build_models(*, rules: Rules, knowledge_index: Any, encoder: Any, cache_dir: Path | None) -> DecisionEngine:
    """The decision engine for a rules set and a knowledge index (either may be empty)."""
    from bot.intent import IntentModel

    thresholds = rules.thresholds
    intents = None
    if rules.categories:
        examples = {c.name: list(c.examples) for c in rules.categories}
        intents = IntentModel.fit(examples=examples, encoder=encoder, cache_dir=cache_dir)
        intents.threshold = thresholds.category_confidence if thresholds.category_confidence is not None else thresholds.caution
    size = len(knowledge_index.passages) if knowledge_index is not None else 0
    bar = thresholds.answer_confidence if thresholds.answer_confidence is not None else thresholds.caution
    knowledge = KnowledgeSearcher(index=knowledge_index, threshold=bar) if size else None

    detectors = Detectors(sentiment_threshold=rules.thresholds.sentiment) if rules.thresholds.sentiment is not None else Detectors()
    shared = GroupEncoder(encoder=encoder) if encoder is not None else None  # concurrent turns share forward passes
    language = LanguageDetector(known=rules.languages.answer_in or written_in(rules=rules, knowledge_index=knowledge_index))
    return DecisionEngine(rules=rules, detectors=detectors, intents=intents, knowledge=knowledge, knowledge_size=size, encoder=shared, language=language)


def written_in(*, rules: Rules, knowledge_index: Any) -> tuple[str, ...]:
    """The languages the knowledge base's passages and the categories' examples are written in."""
    texts = [p.text for p in knowledge_index.passages] if knowledge_index is not None else []
    texts += [example for category in rules.categories for example in category.examples]
    languages = knowledge_languages(texts)
    log.info("the bot answers in %s (detected from the knowledge base and the categories' examples)", ", ".join(languages))
    return languages


def check_multilingual(*, rules: Rules, settings: Settings) -> None:
    """``languages.multilingual`` needs a language model: quoted knowledge-base text cannot change language."""
    if rules.languages.multilingual and not settings.llm_enabled:
        raise RulesError(path=settings.rules, problems=["languages.multilingual is on, but no language model is configured (set OPENAI_API_KEY or "
                                                         "OPENAI_BASE_URL): the offline engine only quotes the knowledge base in its own language"])


def load_knowledge(*, settings: Settings, encoder: Any, progress: bool = False) -> Any:
    """Bring the persisted index up to date with the knowledge folder and the docs sites.

    Each site in ``BATON_KNOWLEDGE_URLS`` is crawled into its mirror first (only changed pages
    are fetched and embedded again); a site that cannot be crawled is logged and keeps its
    previous pages.  The folder and every mirrored site then go into ONE index.
    """
    from knowledge.index import KnowledgeIndex
    from knowledge.sites import ingest_everything, sites_folder

    folder = Path(settings.knowledge) if settings.knowledge and Path(settings.knowledge).exists() else None
    urls = settings.knowledge_url_list
    if folder is None and not urls and not sites_folder(home=settings.home).is_dir():
        return KnowledgeIndex.load(settings.index_dir, encoder=encoder) if (settings.index_dir / "manifest.json").exists() else None
    sites, report = ingest_everything(folder=folder, urls=urls, home=settings.home, index_dir=settings.index_dir,
                                      encoder=encoder, max_pages=settings.knowledge_max_pages, progress=progress)
    for url, error in sites.errors.items():
        log.error("docs site %s not refreshed (its previous pages stay indexed): %s", url, error)
    for site in sites.reports:
        log.info("docs site %s", site.summary())
        for problem in site.problems:
            log.warning("docs site page skipped: %s", problem)
    for problem in report.problems:
        log.warning("skipped %s: %s", problem.path, problem.reason)
    return KnowledgeIndex.load(settings.index_dir, encoder=encoder)


def load_run_encoder(*, settings: Settings) -> Any:
    """The encoder of a running bot: in a child process (``encoder_process``), else in this one."""
    from knowledge.embedding import load_encoder
    from knowledge.encoder_process import EncoderProcess

    return EncoderProcess() if settings.encoder_process else load_encoder()


def build_core(*, settings: Settings, outboxes: OutboxRouter | None = None, clock=utcnow, progress: bool = False) -> Core:
    """Everything the bot needs, validated up front (a bad rules file fails here, clearly)."""
    rules = load_rules(path=settings.rules)
    check_multilingual(rules=rules, settings=settings)
    engine_db = make_engine(url=settings.effective_database_url)
    migrate(engine=engine_db)
    store = Store(engine=engine_db)
    encoder = load_run_encoder(settings=settings)
    index = load_knowledge(settings=settings, encoder=encoder, progress=progress)
    decision_engine = build_models(rules=rules, knowledge_index=index, encoder=encoder, cache_dir=settings.cache_dir)
    decision_engine = wrap_engine(offline=decision_engine, settings=settings, store=store)
    router = outboxes or OutboxRouter()
    threads = Threads(threads=settings.effective_store_threads)
    desk = TicketDesk(store=store, rules=rules, outboxes=router, clock=clock, deliveries=Deliveries(engine=engine_db), threads=threads)
    dialogue = Dialogue(engine=decision_engine, desk=desk, gaps=GapTracker(store=store), replies_per_minute=settings.reply_limit_per_minute,
                        threads=threads, deciding=Threads(threads=DECIDING_THREADS, name="baton-decide"))
    conversations = Conversations(store=store, desk=desk, dialogue=dialogue, threads=threads)
    return Core(
        settings=settings, rules=rules, store=store, engine=decision_engine, desk=desk, dialogue=dialogue, outboxes=router,
        conversations=conversations, reads=Reads(store=store), knowledge=index, encoder=encoder, inbox=Inbox(engine=engine_db, owner=settings.instance_name), threads=threads,
    )


def reask_gaps_with_settings(*, settings: Settings, store: Store) -> list:
    """Build the engine from the settings' rules and the ingested index, then re-ask every open
    knowledge gap (``baton gaps --reask`` and the scheduled job); the closed ones are returned."""
    from bot.ops.gaps_reask import reask_gaps
    from knowledge.embedding import load_encoder
    from knowledge.index import KnowledgeIndex

    encoder = load_encoder()
    index = KnowledgeIndex.load(settings.index_dir, encoder=encoder) if (settings.index_dir / "manifest.json").exists() else None
    engine = build_models(rules=load_rules(path=settings.rules), knowledge_index=index, encoder=encoder, cache_dir=settings.cache_dir)
    return reask_gaps(store=store, engine=engine)

"""Typed settings, read once at start-up from the environment and an optional `.env` file.

Baton's own settings use the ``BATON_`` prefix; the platforms' conventional variable names
(``SLACK_BOT_TOKEN``, ``MICROSOFT_APP_ID``, ``OPENAI_API_KEY`` ...) are honoured as they are.
Secrets are ``SecretStr`` so they never appear in a repr, a log line or ``baton settings``.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
SAMPLE_RULES = PACKAGE_DIR / "sample_rules.yaml"
SAMPLE_KNOWLEDGE = PACKAGE_DIR.parent / "knowledge" / "sample"


def _alias(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """Everything Baton reads from its environment, validated when the process starts."""

    model_config = SettingsConfigDict(
        env_prefix="BATON_", env_file=".env", extra="ignore", populate_by_name=True
    )

    home: Path = Field(default=Path(".baton"), description="Where local state lives.")
    database_url: str = Field(default="", description="SQLAlchemy URL; SQLite in home by default.")
    rules: Path = Field(default=SAMPLE_RULES)
    knowledge: Path = Field(default=SAMPLE_KNOWLEDGE)
    host: str = "127.0.0.1"
    port: int = Field(default=3978, ge=1, le=65535)
    log_level: str = "INFO"
    log_customer_text: bool = False
    log_format: str = Field(default="auto", description="json, text, or auto: JSON lines for `baton serve`, text for the other commands.")
    instance: str = Field(default="", description="This process's stable name among replicas (default host:port); it takes back its own unfinished events after a restart.")
    reply_limit_per_minute: int = Field(default=6, ge=1, description="Bot replies per conversation per minute; past it the conversation goes to a person.")
    store_threads: int | None = Field(default=None, ge=0, le=64, description="Threads the customer turns' database calls run on, off the event loops (0: on the loop; default 4 for a PostgreSQL server on another host, else 0).")
    encoder_process: bool = Field(default=True, description="Run the embedding model's forward passes in a child process, away from the turns' GIL (off: in this process).")

    slack_bot_token: SecretStr | None = Field(default=None, validation_alias=_alias("SLACK_BOT_TOKEN", "BATON_SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(default=None, validation_alias=_alias("SLACK_SIGNING_SECRET", "BATON_SLACK_SIGNING_SECRET"))
    slack_app_token: SecretStr | None = Field(default=None, validation_alias=_alias("SLACK_APP_TOKEN", "BATON_SLACK_APP_TOKEN"))
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias=_alias("SLACK_API_URL", "BATON_SLACK_API_URL"))

    slack_debounce_seconds: float = Field(default=1.5, ge=0, description="Quick successive messages are decided together.")
    slack_post_interval_seconds: float = Field(default=1.0, ge=0, description="chat.postMessage pacing per channel.")
    slack_max_turns: int = Field(default=8, ge=1, description="Turns decided at once by the Slack worker.")

    microsoft_app_id: str = Field(default="", validation_alias=_alias("MICROSOFT_APP_ID", "BATON_MICROSOFT_APP_ID"))
    microsoft_app_password: SecretStr | None = Field(default=None, validation_alias=_alias("MICROSOFT_APP_PASSWORD", "BATON_MICROSOFT_APP_PASSWORD"))
    microsoft_app_tenant_id: str = Field(default="", validation_alias=_alias("MICROSOFT_APP_TENANT_ID", "BATON_MICROSOFT_APP_TENANT_ID"))
    teams_local_mode: bool = Field(default=False, description="Accept unauthenticated Teams activities (local testing only).")

    openai_api_key: SecretStr | None = Field(default=None, validation_alias=_alias("OPENAI_API_KEY", "BATON_OPENAI_API_KEY"))
    openai_base_url: str | None = Field(default=None, validation_alias=_alias("OPENAI_BASE_URL", "BATON_OPENAI_BASE_URL"))
    llm_model: str = "gpt-4o-mini"
    llm_timeout_seconds: float = Field(default=20.0, gt=0)
    llm_daily_token_budget: int = Field(default=2_000_000, ge=0)
    llm_api_version: str | None = Field(default=None, validation_alias=_alias("OPENAI_API_VERSION", "BATON_LLM_API_VERSION"), description="Set for Azure OpenAI.")
    llm_redact_personal_data: bool = True
    llm_max_attempts: int = Field(default=3, ge=1, le=10)
    llm_retry_after_cap_seconds: float = Field(default=10.0, ge=0)
    llm_handoff_drafts: bool = True
    llm_passages: int = Field(default=3, ge=0, le=5)
    llm_passage_chars: int = Field(default=400, ge=100, le=4000)
    llm_max_output_tokens: int = Field(default=450, ge=64)

    # --- the web surface: sign-in, roles and hardening (docs/security.md) -----------------
    sandbox: bool = Field(default=True, description="Serve the web UI (customer chat, queue, dashboard). When exposed it needs a sign-in method.")
    public_url: str = Field(default="", description="The URL people and identity providers reach Baton at (https://baton.example.com); sign-in redirects come back here.")
    session_secret: SecretStr | None = Field(default=None, description="Key that signs session cookies; the same on every replica. A random one per process when unset.")
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30, description="How long a sign-in lasts.")
    admin_token: SecretStr | None = Field(default=None, description="A static token that signs in as admin (the minimal sign-in method).")
    metrics_token: SecretStr | None = Field(default=None, description="Bearer token /metrics needs when the server is exposed.")
    agents: str = Field(default="", description="Who may work the queue: emails, @domains or platform user ids, comma-separated.")
    leads: str = Field(default="", description="Who may also read the dashboard, reports and audit trails.")
    admins: str = Field(default="", description="Who may also read the settings.")
    chat_rate_per_minute: int = Field(default=20, ge=1, description="Customer chat messages per client per minute on the web chat.")
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, description="The largest request body any route accepts (413 above it).")
    trust_forwarded_for: bool = Field(default=False, description="Take the client address from X-Forwarded-For (only behind a proxy you run).")
    slack_signin_client_id: str = Field(default="", validation_alias=_alias("SLACK_CLIENT_ID", "BATON_SLACK_SIGNIN_CLIENT_ID"))
    slack_signin_client_secret: SecretStr | None = Field(default=None, validation_alias=_alias("SLACK_CLIENT_SECRET", "BATON_SLACK_SIGNIN_CLIENT_SECRET"))
    slack_signin_issuer: str = Field(default="https://slack.com", description="OpenID Connect issuer of Sign in with Slack.")
    slack_signin_team_id: str = Field(default="", description="Only members of this Slack workspace may sign in (T...).")
    entra_client_id: str = Field(default="", description="Microsoft Entra ID app (client) id for sign-in.")
    entra_client_secret: SecretStr | None = Field(default=None)
    entra_tenant_id: str = Field(default="", description="The Entra tenant whose members may sign in.")
    entra_authority: str = Field(default="https://login.microsoftonline.com", description="Entra's login host; the issuer is <authority>/<tenant>/v2.0.")

    # --- knowledge from a docs website (issue 13) --------------------------------------------
    knowledge_urls: str = Field(default="", description="Docs sites to ingest: sitemap.xml or start URLs, comma-separated.")
    knowledge_refresh_hours: float = Field(default=24.0, ge=0, description="Re-crawl the docs sites this often while serving (0: never).")
    knowledge_max_pages: int = Field(default=500, ge=1, description="At most this many pages per site.")

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        """slack_sdk silently drops the last path segment without a trailing slash."""
        return value if value.endswith("/") else value + "/"

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return level

    @field_validator("log_format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        chosen = value.strip().lower()
        if chosen not in {"auto", "json", "text"}:
            raise ValueError("must be one of auto, json, text")
        return chosen

    @property
    def effective_database_url(self) -> str:
        """The configured database URL, or a SQLite file in the home folder."""
        return self.database_url or f"sqlite:///{(self.home / 'baton.db').as_posix()}"

    @property
    def effective_store_threads(self) -> int:
        """Store threads: as set, else 4 for a PostgreSQL server on another host (round trips of a
        millisecond or more, which threads overlap) and 0 for SQLite or a server on this host (round
        trips of a tenth of a millisecond: there the extra threads only compete with the acks for
        the GIL and the cores). docs/reliability.md has the figures behind both."""
        if self.store_threads is not None:
            return self.store_threads
        url = self.effective_database_url
        if url.startswith("sqlite"):
            return 0
        from sqlalchemy.engine import make_url

        host = make_url(url).host or ""
        return 0 if host in ("", "localhost", "127.0.0.1", "::1") or host.startswith("/") else 4

    @property
    def instance_name(self) -> str:
        """The configured instance name, or host:port (stable across restarts of one replica)."""
        import socket

        return self.instance or f"{socket.gethostname()}:{self.port}"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None and (
            self.slack_signing_secret is not None or self.slack_app_token is not None
        )

    @property
    def teams_enabled(self) -> bool:
        return bool(self.microsoft_app_id) or self.teams_local_mode

    @property
    def llm_enabled(self) -> bool:
        return bool(self.openai_api_key and self.openai_api_key.get_secret_value()) or bool(self.openai_base_url)

    @property
    def knowledge_url_list(self) -> list[str]:
        return [u.strip() for u in self.knowledge_urls.split(",") if u.strip()]

    def describe(self) -> dict[str, str]:
        """A printable view with every secret masked."""
        view = {}
        for name, value in self.model_dump().items():
            view[name] = "********" if isinstance(value, SecretStr) else str(value)
        return view


# Variables with the BATON_ prefix that are not settings but are read by the test suite.
NOT_SETTINGS = frozenset({"BATON_TEST_DATABASE", "BATON_TEST_POSTGRES_URL", "BATON_CHROMIUM"})


def known_variables() -> frozenset[str]:
    """Every environment variable name a setting reads (BATON_<field> and the platforms' names)."""
    names = set()
    for field_name, info in Settings.model_fields.items():
        names.add(f"BATON_{field_name.upper()}")
        if isinstance(info.validation_alias, AliasChoices):
            names.update(str(choice).upper() for choice in info.validation_alias.choices)
    return frozenset(names)


def unknown_variables(*, environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> list[str]:
    """A warning for each BATON_* variable no setting reads (a typo is otherwise silently ignored),
    naming the closest known setting; the environment and the .env file are both checked."""
    names = set(os.environ if environ is None else environ)
    if env_file is not None and env_file.is_file():
        from dotenv import dotenv_values

        names |= set(dotenv_values(env_file))
    known = known_variables()
    warnings = []
    for name in sorted(n for n in names if n.upper().startswith("BATON_") and n.upper() not in known | NOT_SETTINGS):
        closest = difflib.get_close_matches(name.upper(), sorted(known), n=1, cutoff=0.6)
        hint = f"; did you mean {closest[0]}?" if closest else "; `baton settings` lists the known ones"
        warnings.append(f"{name} is not a Baton setting and is ignored{hint}")
    return warnings

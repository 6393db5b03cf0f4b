"""Settings read from `LEARNLOG_*` environment variables (and an optional `.env`)."""

import base64
import binascii
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Tokens shorter than this are refused when settings are read (guessable, or a mistake).
MIN_TOKEN_LENGTH = 16


class Settings(BaseSettings):
    """Everything learnlog can be configured with; every field has a working default."""

    # Errors never repeat the value they refuse: it may be a token.
    model_config = SettingsConfigDict(
        env_prefix="LEARNLOG_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    database_url: str = Field(
        default="",
        description="SQLAlchemy URL (sqlite:///file.db or postgresql://...), used as given. "
        "Empty (the default): the content folder's own SQLite file, "
        "FOLDER/.learnlog/learnlog.db (in the user's data folder when FOLDER is read-only).",
    )
    content_dir: Path = Field(
        default=Path("content"),
        description="Folder of Markdown logs (the folder argument of `learnlog serve` and "
        "`learnlog ingest` overrides it).",
    )
    content_dirs: list[Path] = Field(
        default=[],
        description="Several content folders served from one database (a JSON list, e.g. "
        '["notes", "links"]); replaces content_dir when set. Ids and slugs never collide '
        "across folders.",
    )
    aliases_file: Path | None = Field(
        default=None,
        description="YAML file mapping a domain slug to heading spellings; "
        "defaults to domains.yml inside the content folder when that exists.",
    )
    max_file_bytes: int = Field(
        default=5 * 1024 * 1024, gt=0, description="Files larger than this fail to ingest."
    )
    cors_origins: list[str] = Field(
        default=["*"], description="Origins browsers may call the API from (default: any)."
    )
    edit_url_template: str | None = Field(
        default=None,
        description="Where a source file can be edited, with `{path}` and `{line}`: for "
        "example https://github.com/you/logs/edit/main/{path}#L{line}. Every entry and post "
        "then carries `source.edit_url`.",
    )
    ingest_workers: int = Field(
        default=0,
        ge=0,
        description="Parser processes for ingest; 0 means one per CPU core.",
    )
    keep_runs: int = Field(
        default=100,
        ge=1,
        description="Ingest runs remembered (GET /admin/runs), newest first; older ones are "
        "forgotten with their problems.",
    )
    keep_failed_runs: int = Field(
        default=1000, ge=1, description="Failed ingest runs remembered (kept longer)."
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="`json` writes every log line (uvicorn's and the app's) as one JSON object "
        "with time, level, logger, message and the id of the request being served; `text` "
        "leaves uvicorn's own format.",
    )

    reader: bool = Field(
        default=False,
        description="Serve the reader, a single-page app over this API, at /reader/ "
        "(learnlog serve --reader).",
    )

    query_timeout_ms: int = Field(
        default=5000,
        ge=0,
        description="A read query running longer than this many milliseconds is cancelled "
        "and answered 503 with Retry-After; 0 means no limit.",
    )
    max_response_bytes: int = Field(
        default=16 * 1024 * 1024,
        gt=0,
        description="Largest answer the API sends (before compression); a larger one is "
        "refused with 422 asking for fewer items.",
    )

    admin_token: SecretStr | None = Field(
        default=None,
        description="Bearer token (16 characters at least) for POST /admin/ingest, GET "
        "/admin/runs and GET /admin/webhooks/deliveries; the admin endpoints answer 404 "
        "while it is unset.",
    )
    preview_token: SecretStr | None = Field(
        default=None,
        description="Bearer token (16 characters at least) that shows drafts and scheduled "
        "posts (`include_drafts=true`, their slugs and ids); the admin token does too. "
        "Unset: drafts are never served.",
    )

    publishing: bool = Field(
        default=True,
        description="Run the publishing loop in every server of the app: scheduled posts "
        "go live when due and webhooks are sent. One process per database does it at a "
        "time (a lock); false leaves it to other processes.",
    )
    publish_interval: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="Seconds between two rounds of the publishing loop: a scheduled post "
        "appears at most this late.",
    )
    webhook_urls: list[str] = Field(
        default=[],
        description="URLs (a JSON list) that receive a signed POST (Standard Webhooks) after "
        "every ingest that changed content and when scheduled posts go live.",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Secret signing webhooks: `whsec_` and base64 of 16 to 64 random bytes "
        "(needed with webhook_urls).",
    )
    webhook_max_attempts: int = Field(
        default=8,
        ge=1,
        le=50,
        description="Attempts per webhook delivery before it is marked failed.",
    )
    webhook_retry_seconds: float = Field(
        default=30.0,
        gt=0,
        le=86400,
        description="Wait before the first retry of a failed delivery; each next one waits "
        "twice as long (at most a day).",
    )
    webhook_timeout: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="Seconds a webhook receiver has to answer (2xx) before the attempt fails.",
    )

    link_check_concurrency: int = Field(
        default=16, ge=1, le=1024, description="`learnlog links check`: requests in flight at most."
    )
    link_check_per_host: int = Field(
        default=2, ge=1, le=64, description="`learnlog links check`: requests in flight per host."
    )
    link_check_per_host_delay: float = Field(
        default=0.5,
        ge=0,
        le=3600,
        description="`learnlog links check`: seconds between the starts of two requests to "
        "one host.",
    )
    link_check_timeout: float = Field(
        default=5.0,
        gt=0,
        le=600,
        description="`learnlog links check`: seconds to connect, and to wait for the answer.",
    )
    link_check_max_age: float = Field(
        default=24.0,
        ge=0,
        description="`learnlog links check`: hours a result stays fresh; fresher addresses "
        "are skipped unless --force.",
    )

    @field_validator("admin_token", "preview_token")
    @classmethod
    def _blank_token_is_none(
        cls, token: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        """An empty token leaves its endpoints off; surrounding whitespace (a secret file's
        trailing newline) is not part of the token; a short one is refused."""
        if token is None or not token.get_secret_value().strip():
            return None
        value = token.get_secret_value().strip()
        if len(value) < MIN_TOKEN_LENGTH:
            # The message names the variable and the rule, never the value.
            name = f"LEARNLOG_{(info.field_name or '').upper()}"
            raise ValueError(
                f"{name} is {len(value)} characters long: use at least {MIN_TOKEN_LENGTH} "
                "(for example `python -c 'import secrets; print(secrets.token_urlsafe())'`)"
            )
        return SecretStr(value)

    @field_validator("webhook_secret")
    @classmethod
    def _signing_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        """`whsec_` and base64 of 16 to 64 bytes, as Standard Webhooks secrets are written."""
        if secret is None or not secret.get_secret_value().strip():
            return None
        value = secret.get_secret_value().strip()
        try:
            key = base64.b64decode(value.removeprefix("whsec_"), validate=True)
        except binascii.Error:
            key = b""
        if not value.startswith("whsec_") or not 16 <= len(key) <= 64:
            raise ValueError(
                "LEARNLOG_WEBHOOK_SECRET must be `whsec_` followed by base64 of 16 to 64 "
                "random bytes"
            )
        return SecretStr(value)

    @field_validator("webhook_urls")
    @classmethod
    def _http_urls(cls, urls: list[str]) -> list[str]:
        """Webhook receivers are http(s) URLs."""
        for url in urls:
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
                raise ValueError(f"webhook URL {url!r} is not an http(s) URL")
        return urls

    @model_validator(mode="after")
    def _webhooks_are_signed(self) -> "Settings":
        """Webhooks are never sent unsigned."""
        if self.webhook_urls and self.webhook_secret is None:
            raise ValueError("LEARNLOG_WEBHOOK_URLS needs LEARNLOG_WEBHOOK_SECRET to sign with")
        return self

    @field_validator("edit_url_template")
    @classmethod
    def _known_placeholders(cls, template: str | None) -> str | None:
        """Refuse a template that names anything but {path} and {line}."""
        if template:
            try:
                template.format(path="post.md", line=1)
            except (KeyError, IndexError, ValueError) as error:
                raise ValueError(f"use only {{path}} and {{line}} ({error!r})") from None
        return template or None

    def folders(self) -> list[Path]:
        """Every content folder this database serves (content_dirs, else content_dir)."""
        return list(self.content_dirs) or [self.content_dir]

    def resolved_aliases_file(self, content_dir: Path) -> Path | None:
        """The aliases file to apply for `content_dir`, or None when there is none.

        The database holds one set of aliases: with several folders, every run applies
        the same file (the first folder's domains.yml), so runs never undo each other.
        """
        if self.aliases_file is not None:
            return self.aliases_file
        for folder in self.folders() if self.content_dirs else [content_dir]:
            candidate = folder / "domains.yml"
            if candidate.is_file():
                return candidate
        return None


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()

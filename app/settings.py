"""Settings read from `LEARNLOG_*` environment variables (and an optional `.env`)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything learnlog can be configured with; every field has a working default."""

    model_config = SettingsConfigDict(env_prefix="LEARNLOG_", env_file=".env", extra="ignore")

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
        description="Bearer token for POST /admin/ingest and GET /admin/runs; the admin "
        "endpoints answer 404 while it is unset.",
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

    @field_validator("admin_token")
    @classmethod
    def _blank_token_is_none(cls, token: SecretStr | None) -> SecretStr | None:
        """An empty LEARNLOG_ADMIN_TOKEN leaves the admin endpoints off; surrounding
        whitespace (a secret file's trailing newline) is not part of the token."""
        if token is None or not token.get_secret_value().strip():
            return None
        return SecretStr(token.get_secret_value().strip())

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

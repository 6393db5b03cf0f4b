"""What every `learnlog` command shares: the --database-url option and the settings it edits."""

from typing import Annotated

import typer

from app.settings import Settings

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL (default: LEARNLOG_DATABASE_URL or sqlite:///learnlog.db).",
        show_default=False,
    ),
]


def command_settings(database_url: str | None) -> Settings:
    """Settings from the environment, with the command-line database URL applied."""
    settings = Settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    return settings

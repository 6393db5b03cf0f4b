"""What every `learnlog` command shares: the database option, the folder argument, and the
one rule that picks a database when none is given."""

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from app.settings import Settings

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL, used as given (default: LEARNLOG_DATABASE_URL, else the "
        "content folder's own database, FOLDER/.learnlog/learnlog.db).",
        show_default=False,
    ),
]

FolderArgument = Annotated[
    Path | None,
    typer.Argument(
        help="Folder of Markdown logs (default: LEARNLOG_CONTENT_DIR, else ./content).",
        show_default=False,
    ),
]


def command_settings(database_url: str | None, folder: Path | None = None) -> Settings:
    """Settings from the environment, with the command line's database URL and folder.

    Exit 2 naming each setting that is not valid (never echoing its value).
    """
    try:
        settings = Settings()
    except ValidationError as error:
        console = Console(stderr=True, soft_wrap=True)
        for problem in error.errors():
            name = "LEARNLOG_" + "_".join(str(part) for part in problem["loc"]).upper()
            reason = problem["msg"].removeprefix("Value error, ")
            console.print(f"[red]error:[/red] {name}: {escape(reason)}", highlight=False)
        raise typer.Exit(2) from None
    if folder is not None:
        settings = settings.model_copy(update={"content_dir": folder, "content_dirs": []})
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    return settings


class DatabaseChoice:
    """The database a command uses, and whether it is the content folder's own."""

    def __init__(self, settings: Settings) -> None:
        from app.folders.location import database_url

        # The folder's own database: raises FolderError (naming the path) for a folder
        # that cannot be served, before anything is created.
        self.own = not settings.database_url
        self.settings = settings.model_copy(update={"database_url": database_url(settings)})

    @property
    def url(self) -> str:
        """The SQLAlchemy URL to connect to."""
        return self.settings.database_url


def choose_database(
    database_url: str | None, folder: Path | None, *, folders_needed: bool = True
) -> DatabaseChoice:
    """The command's settings and database; exit 2 naming the path of a folder that is not
    one (with `folders_needed`, every configured folder is checked, not only the first).

    A folder's own database has its path printed, so a user knows where it is.
    """
    from app.folders.location import FolderError, checked_folder

    console = Console(stderr=True, soft_wrap=True)
    settings = command_settings(database_url, folder)
    try:
        if folders_needed:
            for configured in settings.folders():
                checked_folder(configured)
        choice = DatabaseChoice(settings)
    except FolderError as error:
        console.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
        raise typer.Exit(2) from None
    if choice.own:
        from sqlalchemy.engine import make_url

        console.print(f"database: {make_url(choice.url).database}", highlight=False)
    return choice

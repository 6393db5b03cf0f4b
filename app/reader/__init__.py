"""The reader: a static single-page app over the public API, served at /reader/ on request.

Its files (`static/`: HTML, CSS and JavaScript modules, no build step) are package data,
so an editable install and a wheel find them the same way; any static file server can
serve the same folder from another origin (the app reads the API address from `?api=`).
"""

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

READER_PATH = "/reader"


def reader_files() -> Path:
    """The folder holding the reader's index.html and its modules."""
    return Path(str(files(__package__) / "static"))


def mount_reader(app: FastAPI) -> None:
    """Serve the reader at /reader/ (index.html for the folder itself)."""
    app.mount(READER_PATH, StaticFiles(directory=reader_files(), html=True), name="reader")

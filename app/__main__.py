"""`learnlog` and `python -m app`: an unchanged folder's ingest is answered before the
command line, the settings and the database layer are even imported (see
app/ingest/unchanged.py); every other command goes to app/cli.py."""

import gc
import sys


def main() -> None:
    """Console-script entry point."""
    from app.ingest.unchanged import quick_ingest

    status = quick_ingest(sys.argv[1:])
    if status is not None:
        sys.exit(status)
    # Importing the command line creates hundreds of thousands of objects that live as
    # long as the process: the collector would walk them again and again, finding nothing.
    gc.disable()
    try:
        from app.cli import main as full
    finally:
        gc.enable()
    gc.freeze()
    full()


if __name__ == "__main__":
    main()

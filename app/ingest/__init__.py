"""Ingest: discover files, parse them (pure), and sync the database to match."""

# Bump whenever parsing changes what rows a file yields: stored posts re-parse on next run.
PARSER_VERSION = 7

"""Ingest: discover files, parse them (pure), and sync the database to match."""

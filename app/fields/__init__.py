"""Declared front-matter fields: the schema, validation at ingest, typed filters and sorts."""

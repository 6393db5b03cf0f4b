"""Top-k full-text search on SQLite from an in-memory term index kept per content version."""

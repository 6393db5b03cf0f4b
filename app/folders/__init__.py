"""Content folders as a user hands them over: their configuration, dialect and database."""

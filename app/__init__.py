"""learnlog: a headless content API for Markdown learning logs."""

__version__ = "0.1.0"

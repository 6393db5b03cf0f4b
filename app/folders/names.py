"""Names learnlog looks for in and beside a content folder: the markers a tool leaves at
its site's or vault's root, and the folder's own database.

Kept apart from the modules that use them so that the unchanged-folder check
(app/ingest/unchanged.py) can look for them without importing anything else.
"""

# A content folder is often a subfolder of that root (`_posts/`, `content/`), so its
# parents are looked at too.
MARKERS: tuple[tuple[str, str], ...] = (
    (".obsidian", "obsidian"),
    ("logseq", "logseq"),
    ("_config.yml", "jekyll"),
    ("_config.yaml", "jekyll"),
    ("_config.toml", "jekyll"),
    ("hugo.toml", "hugo"),
    ("hugo.yaml", "hugo"),
    ("config.toml", "hugo"),
    ("pelicanconf.py", "pelican"),
)
PARENTS_LOOKED_AT = 2

# Inside the folder, as note apps keep theirs (`.obsidian/`, `logseq/`); ingest skips
# hidden folders, so the database is never read as content.
DATABASE_FOLDER = ".learnlog"
DATABASE_NAME = "learnlog.db"

"""The files and folders a tool leaves at its site's or vault's root.

Kept apart from the dialect guess so that the unchanged-folder check can look for them
without importing anything else.
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

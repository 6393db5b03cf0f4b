"""Notes: the syntax of note apps (Obsidian, Logseq) and the links between notes."""

"""A small in-memory FTS5 table per thread, with the tokenizer of the stored index.

It answers without touching the large index: which stored term a query word or a token
becomes (stemming), how many tokens a text makes (`app.search.snippets` classes
characters so), and the snippets of one page of hits when `app.search.snippets` cannot
work them out itself. FTS5's `snippet()` reads only the row's own text and phrase
positions (no table-wide statistics), so the page's texts indexed here give the snippets
the stored index would, at a fraction of the cost of seeking each hit in a long posting
list.
"""

import sqlite3
import threading

_local = threading.local()


class Scratch:
    """One thread's in-memory FTS5 table (`page`, external content `page_text`)."""

    def __init__(self, tokenizer: str) -> None:
        self.tokenizer = tokenizer
        self.conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=True)
        quoted = tokenizer.replace("'", "''")
        self.conn.executescript(
            f"""
            CREATE TABLE page_text (id INTEGER PRIMARY KEY, text TEXT NOT NULL);
            CREATE VIRTUAL TABLE page USING fts5(
                text, content='page_text', content_rowid='id', tokenize='{quoted}');
            CREATE VIRTUAL TABLE page_terms USING fts5vocab(page, row);
            CREATE VIRTUAL TABLE page_instances USING fts5vocab(page, instance);
            """
        )
        self._stems: dict[str, tuple[str, ...]] = {}

    def _load(self, texts: list[str]) -> None:
        """Make the table hold exactly `texts`, with rowids 1, 2, ..."""
        conn = self.conn
        conn.execute("BEGIN")
        conn.execute("INSERT INTO page(page) VALUES ('delete-all')")
        conn.execute("DELETE FROM page_text")
        conn.executemany("INSERT INTO page_text(id, text) VALUES (?, ?)", list(enumerate(texts, 1)))
        conn.execute("INSERT INTO page(rowid, text) SELECT id, text FROM page_text")
        conn.execute("COMMIT")

    def terms(self, word: str) -> tuple[str, ...]:
        """The stored terms the tokenizer makes of `word` (usually one stem)."""
        found = self._stems.get(word)
        if found is None:
            self._load([word])
            found = tuple(row[0] for row in self.conn.execute("SELECT term FROM page_terms"))
            if len(self._stems) > 50_000:
                self._stems.clear()
            self._stems[word] = found
        return found

    def token_counts(self, texts: list[str]) -> list[int]:
        """How many tokens the tokenizer makes of each text."""
        self._load(texts)
        counts = dict(
            self.conn.execute("SELECT doc, count(*) FROM page_instances GROUP BY doc").fetchall()
        )
        return [counts.get(number, 0) for number in range(1, len(texts) + 1)]

    def token_terms(self, tokens: list[str]) -> list[str]:
        """The term the tokenizer makes of each token alone; "" when it makes more or
        fewer than one."""
        self._load(tokens)
        found: dict[int, list[str]] = {}
        for number, term in self.conn.execute("SELECT doc, term FROM page_instances"):
            found.setdefault(number, []).append(term)
        terms = [found.get(number, []) for number in range(1, len(tokens) + 1)]
        return [made[0] if len(made) == 1 else "" for made in terms]

    def counts(self, texts: list[str], terms: list[str]) -> tuple[list[int], dict[str, list[int]]]:
        """The tokens of each text, and how often each text holds each of `terms`, as an
        FTS5 index of the texts counts them."""
        self._load(texts)
        sizes = [0] * len(texts)
        held = {term: [0] * len(texts) for term in terms}
        for number, term, count in self.conn.execute(
            "SELECT doc, term, count(*) FROM page_instances GROUP BY doc, term"
        ):
            sizes[number - 1] += count
            if term in held:
                held[term][number - 1] = count
        return sizes, held

    def snippets(
        self, texts: list[str], match: str, marks: tuple[str, str, str], tokens: int
    ) -> list[str]:
        """`snippet()` of each text for the FTS5 expression `match` ('' if it does not match)."""
        if not texts:
            return []
        self._load(texts)
        start, stop, ellipsis = marks
        found = dict(
            self.conn.execute(
                "SELECT rowid, snippet(page, -1, ?, ?, ?, ?) FROM page WHERE page MATCH ?",
                (start, stop, ellipsis, tokens, match),
            ).fetchall()
        )
        return [found.get(number, "") for number in range(1, len(texts) + 1)]


def scratch(tokenizer: str) -> Scratch:
    """This thread's scratch table for `tokenizer`."""
    found: Scratch | None = getattr(_local, "scratch", None)
    if found is None or found.tokenizer != tokenizer:
        found = _local.scratch = Scratch(tokenizer)
    return found

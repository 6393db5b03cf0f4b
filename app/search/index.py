"""Top-k entry search in memory: FTS5's own postings and bm25, without its per-row costs.

FTS5 ranks by scoring every match (about 1 µs each: a docsize lookup and the bm25
call), so a word in 50,000 entries costs 50 ms whatever the page size. Here, per content
version (one per entry index, and dropped with it):

* each entry's token count (FTS5's docsize table) and the table's row and token totals
  (its averages record), read once;
* per search word, on first use: its stored term (the scratch table's stemmer), the
  entries holding it as sorted ranks of the entry index, with their term frequencies
  (FTS5's `fts5vocab` instance view), and its head: the HEAD best entries in answer order.

FTS5's bm25 is a sum over the query's phrases of one term's contribution, which depends
only on that phrase's frequency in the row, the row's length and table-wide figures. So
a one-word page is read off the head (filters checked on the head only, in order); an
AND of words intersects the sorted lists first and scores only the entries holding every
word and passing every filter. The contributions are computed with FTS5's formula and
operation order in float64 (IEEE arithmetic, the same `log`), so scores and ties come
out as FTS5 gives them; tests compare both ways.

Only plain words (any number, AND-ed, with `-word` exclusions) and the filters the entry
index answers are handled; phrases, prefixes, date-time bounds and declared fields are
left to SQL (the caller's fallback), which gives the same answers.
"""

import math
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Engine

from app.db import snapshot
from app.queries.changes import current_version
from app.queries.entries import EntryFilters, heading_slugs_for
from app.queries.entry_index import INLINE_BUILD_LIMIT, BudgetCache, EntryIndex
from app.search.scratch import scratch
from app.search.snippets import Counts
from app.search_syntax import SearchQuery

Ranks = NDArray[np.int32]
Mask = NDArray[np.bool_]
Scores = NDArray[np.float64]

# FTS5's bm25 constants (fts5_aux.c).
K1 = 1.2
B = 0.75
# Entries kept in answer order per word: a one-word page with a filter passing one entry
# in twenty still comes from the head alone.
HEAD = 1024
# Memory for postings per content version: at 300,000 entries every word's postings take
# about 70 MB (9.5 million entries at 4 bytes, bitmaps of the common words, repeats).
# Least recently used words leave first.
MEMORY_BUDGET = 128 * 2**20
# Entries probed in the first step of a length-order walk (each next step doubles); a
# multiple of 8, so that every step starts on a byte of the length-order bitmaps.
WALK_STEP = 4096
# Words in at least one entry in this many get a bitmap (N/8 bytes) for fast ANDs.
BITMAP_SHARE = 64
# Words in at least this many entries are read before any request asks for them.
PREFETCH_ENTRIES = 200
# Entry texts kept per content version for the snippets of the pages answered, so that
# a page's hits are read from SQLite once: 16 MB holds some 50,000 texts of the
# benchmark corpus (a page of common words returns the same short entries often). Each
# text also costs about TEXT_OVERHEAD bytes beside its characters; the first kept go first.
TEXT_BYTES = 16 * 2**20
# Entries up to this many tokens long get their once-held bm25 terms from a table.
ONCE_TABLE_LENGTHS = 65_536
TEXT_OVERHEAD = 120
_UNDATED = -1  # the entry index's date ordinal for undated entries
_TOKENIZE = re.compile(r"tokenize\s*=\s*'((?:[^']|'')*)'", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Postings:
    """One stored term: the entries holding it, how often, and its head."""

    ranks: Ranks  # sorted
    bits: NDArray[np.uint8]  # the same set as a bitmap over ranks, for common words only
    repeated: Ranks  # the ranks holding the term more than once (sorted) ...
    repeats: NDArray[np.float64]  # ... and how often
    repeated_bits: NDArray[np.uint8]  # `repeated` as a bitmap, for common words only
    # The ranks holding the term exactly once as a bitmap over the shortest-first order
    # (`SearchIndex.by_length`), for common words only: a length-order walk ANDs a
    # window of these instead of probing each rank it meets.
    once_by_length: NDArray[np.uint8]
    idf: float
    head: Ranks  # the best HEAD ranks in answer order (score desc, id asc)
    head_scores: Scores

    @property
    def size(self) -> int:
        """Entries holding the term."""
        return len(self.ranks)

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays."""
        arrays = (self.ranks, self.bits, self.repeated, self.repeats, self.repeated_bits)
        held = sum(array.nbytes for array in arrays) + self.once_by_length.nbytes
        return held + self.head.nbytes + self.head_scores.nbytes

    def holds(self, ranks: Ranks) -> Mask:
        """For each of `ranks`, whether it holds the term."""
        if not len(self.bits):  # a rare word: no bitmap
            return _holds(self.ranks, ranks)
        return _probe(self.bits, ranks)

    def freqs(self, ranks: Ranks) -> NDArray[np.float64]:
        """The term's frequency in each of `ranks` (all of which hold it)."""
        found = np.ones(len(ranks), dtype=np.float64)
        if len(self.repeated):
            # Most entries hold a word once: look up only those the bitmap says hold it more.
            more = np.flatnonzero(_probe(self.repeated_bits, ranks)) if len(self.bits) else None
            probed = ranks if more is None else ranks[more]
            spots = np.searchsorted(self.repeated, probed)
            spots[spots == len(self.repeated)] = 0
            hit = self.repeated[spots] == probed
            where = np.flatnonzero(hit) if more is None else more[hit]
            found[where] = self.repeats[spots[hit]]
        return found


@dataclass(frozen=True, slots=True)
class Ranked:
    """One hit of a page: entry id, score (higher is better) and rank in the entry index."""

    id: int
    score: float
    rank: int


def _text_size(text: str) -> int:
    # UTF-8 bytes: never fewer than the string holds (1, 2 or 4 bytes per character).
    return len(text) if text.isascii() else len(text.encode())


class TextCache(BudgetCache[str]):
    """Entry texts of one content version by entry id, up to a byte budget."""

    def __init__(self, budget: int) -> None:
        super().__init__(budget, _text_size, TEXT_OVERHEAD)

    def keep(self, texts: dict[int, str]) -> None:
        """Keep `texts` (entry id to text), dropping the first kept beyond the budget."""
        self.keep_pairs(texts.items())


class SearchIndex:
    """Document lengths of one content version and the postings of the words asked for."""

    def __init__(
        self,
        entries: EntryIndex,
        lengths: NDArray[np.float64],
        rank_of_rowid: Ranks,
        rows: int,
        tokens: int,
        tokenizer: str,
    ) -> None:
        # Weakly: SearchIndexes keeps this index as the value of `entries` in a weak-keyed
        # dictionary, and a value holding its key would keep both for good.
        self._entries = weakref.ref(entries)
        self.lengths = lengths
        self.rank_of_rowid = rank_of_rowid
        # Each rank's rowid in the entries table (-1 if none): a page's texts are read by
        # rowid, one b-tree step each instead of two through the id index.
        self.rowid_of_rank = np.full(len(lengths), -1, dtype=np.int64)
        present = rank_of_rowid >= 0
        self.rowid_of_rank[rank_of_rowid[present]] = np.flatnonzero(present)
        self.rows = rows
        self.avgdl = float(tokens) / float(rows) if rows else 1.0
        self.tokenizer = tokenizer
        # Every rank, shortest entry first: the order entries holding words once score in.
        self.by_length: Ranks = np.lexsort((np.arange(len(lengths)), lengths)).astype(np.int32)
        self.texts = TextCache(TEXT_BYTES)
        # Each rank's length as a table index, and per word (by its idf) bm25's term for
        # it held once at every length: when no entry is longer than ONCE_TABLE_LENGTHS.
        self._longest = int(lengths.max()) if len(lengths) else 0
        self._length_at: NDArray[np.intp] | None = None
        if self._longest <= ONCE_TABLE_LENGTHS and np.array_equal(lengths, np.floor(lengths)):
            self._length_at = lengths.astype(np.intp)
        self._once_tables: dict[float, Scores] = {}
        self._terms: OrderedDict[str, Postings] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    @property
    def entries(self) -> EntryIndex:
        """The entry index this one was built for (alive while anyone searches it)."""
        entries = self._entries()
        assert entries is not None, "a search index outlived its entry index"
        return entries

    def page(
        self,
        conn: Connection | None,
        query: SearchQuery,
        filters: EntryFilters,
        *,
        wanted: int,
        read: bool = True,
    ) -> list[Ranked] | None:
        """The first `wanted` hits in answer order; None when SQL must answer instead.

        `read`: whether postings not in memory yet may be read on `conn` (else None).
        """
        keep = _filter(self.entries, filters)
        if keep is None or query.any_of:
            return None
        terms = [*query.include, *query.exclude]
        if any(term.prefix or len(term.words) != 1 for term in terms):
            return None
        include = [self.postings(conn, term.words[0], read=read) for term in query.include]
        exclude = [self.postings(conn, term.words[0], read=read) for term in query.exclude]
        if any(found is None for found in include) or any(found is None for found in exclude):
            return None
        included = [found for found in include if found is not None]
        excluded = [found for found in exclude if found is not None]
        if len(included) == 1 and not excluded:
            head = self._from_head(included[0], keep, wanted)
            if head is not None:
                return head
        return self._scored(included, excluded, keep, wanted)

    def _from_head(
        self, term: Postings, keep: Callable[[Ranks], Mask], wanted: int
    ) -> list[Ranked] | None:
        """One word: its head holds the page when enough of it passes the filters."""
        passed = keep(term.head)
        if int(passed.sum()) < wanted and len(term.head) < term.size:
            return None
        return self._answers(term.head[passed][:wanted], term.head_scores[passed][:wanted])

    def _scored(
        self,
        include: list[Postings],
        exclude: list[Postings],
        keep: Callable[[Ranks], Mask],
        wanted: int,
    ) -> list[Ranked]:
        """Intersect, drop exclusions and filtered-out entries, then score what is left."""
        rarest = min(include, key=lambda term: term.size)
        if rarest.size * 16 < len(self.entries.ids):
            # A rare word: probe each of its entries in the other words' bitmaps.
            candidates = rarest.ranks
            for term in include:
                if term is not rarest and len(candidates):
                    candidates = candidates[term.holds(candidates)]
        else:
            return self._walked(include, exclude, keep, wanted)
        candidates = _matching(candidates, [], exclude, keep)
        if not len(candidates):
            return []
        return self._answers(*self._best(candidates, self._scores(candidates, include), wanted))

    def _walked(
        self,
        include: list[Postings],
        exclude: list[Postings],
        keep: Callable[[Ranks], Mask],
        wanted: int,
    ) -> list[Ranked]:
        """Common words only: the page without scoring every entry holding them.

        An entry holding each word once scores by its length alone, the shorter the
        better (every phrase's bm25 term falls as the length grows). So the entries
        repeating a word are scored exactly, and the others are met shortest first,
        walking the entries in length order: once the wanted-th best score beats what
        the next length could score, no entry further on can enter the page.
        """

        # Entries repeating a word (a bitmap each: every word here is a common one), checked
        # against the other words only (each holds its own).
        others = [[other for other in include if other is not term] for term in include]
        repeating = _distinct(
            np.concatenate(
                [
                    _matching(term.repeated, rest, exclude, keep)
                    for term, rest in zip(include, others, strict=True)
                ]
            )
        )
        ranks = [repeating]
        scores = [self._scores(repeating, include)]
        order = self.by_length
        start, step = 0, WALK_STEP
        while start < len(order):
            met = self._met_once(include, exclude, keep, start, start + step)
            start += step
            step *= 2
            ranks.append(met)
            scores.append(self._once_scores(met, include))
            found = sum(len(part) for part in ranks)
            if found < wanted or start >= len(order):
                continue
            best, best_scores = self._best(np.concatenate(ranks), np.concatenate(scores), wanted)
            ranks, scores = [best], [best_scores]
            # The best an entry not met yet can score: each word once, at the next length
            # (every entry repeating a word is scored already).
            ceiling = self._once_scores(order[start : start + 1], include)[0]
            if best_scores[-1] > ceiling:
                break
        return self._answers(*self._best(np.concatenate(ranks), np.concatenate(scores), wanted))

    def _met_once(
        self,
        include: list[Postings],
        exclude: list[Postings],
        keep: Callable[[Ranks], Mask],
        start: int,
        stop: int,
    ) -> Ranks:
        """The ranks at walk positions [start, stop) holding every `include` word exactly
        once, no `exclude` word, and passing `keep`, in walk order.

        `start` is a multiple of 8 (a byte of the bitmaps); positions past the last rank
        are never set, as `np.packbits` pads with zero bits.
        """
        low, high = start // 8, (stop + 7) // 8
        window = include[0].once_by_length[low:high].copy()
        for term in include[1:]:
            window &= term.once_by_length[low:high]
        positions = np.flatnonzero(np.unpackbits(window)) + start
        met = self.by_length[positions[positions < stop]]
        for term in exclude:
            if len(met):
                met = met[~term.holds(met)]
        return met[keep(met)] if len(met) else met

    def _once_scores(self, ranks: Ranks, include: list[Postings]) -> Scores:
        """`_scores` of ranks holding each word once (the same sums, without the lookups):
        each word's term at each length, read from a table of them."""
        if self._length_at is None:
            once = np.ones(len(ranks), dtype=np.float64)
            total = np.zeros(len(ranks), dtype=np.float64)
            for term in include:
                total = total + self._contribution(term.idf, once, ranks)
            return total
        at = self._length_at[ranks]
        total = np.zeros(len(ranks), dtype=np.float64)
        for term in include:
            total = total + self._once_table(term.idf)[at]
        return total

    def _once_table(self, idf: float) -> Scores:
        """bm25's term for a phrase of inverse document frequency `idf` held once, at every
        length up to the longest entry's: the same operations on the same numbers as
        `_contribution`, so the same bits."""
        table = self._once_tables.get(idf)
        if table is None:
            lengths = np.arange(self._longest + 1, dtype=np.float64)
            table = self._contribution_at(idf, np.ones(len(lengths), dtype=np.float64), lengths)
            self._once_tables[idf] = table
        return table

    def _answers(self, ranks: Ranks, scores: Scores) -> list[Ranked]:
        """A page of ranks and their scores as entry ids and scores."""
        ids = self.entries.ids[ranks].tolist()
        return [
            Ranked(i, s, r) for i, s, r in zip(ids, scores.tolist(), ranks.tolist(), strict=True)
        ]

    def _scores(self, ranks: Ranks, include: list[Postings]) -> Scores:
        """bm25 of each rank, its words' terms added in the query's phrase order (as
        FTS5 adds them up, so the sums are bit-identical)."""
        total = np.zeros(len(ranks), dtype=np.float64)
        for term in include:
            total = total + self._contribution(term.idf, term.freqs(ranks), ranks)
        return total

    def _best(self, ranks: Ranks, scores: Scores, wanted: int) -> tuple[Ranks, Scores]:
        """The `wanted` best of `ranks` in answer order: score descending, then entry id."""
        if len(ranks) > wanted:
            # Every rank scoring at least the wanted-th best, ties included, then sorted.
            cut = np.partition(scores, len(scores) - wanted)[len(scores) - wanted]
            chosen = scores >= cut
            ranks, scores = ranks[chosen], scores[chosen]
        order = np.lexsort((self.entries.ids[ranks], -scores))[:wanted]
        return ranks[order], scores[order]

    def _contribution(
        self, idf: float, freqs: NDArray[np.float64], ranks: Ranks
    ) -> NDArray[np.float64]:
        """bm25's term for one phrase, written as fts5_aux.c computes it."""
        return self._contribution_at(idf, freqs, self.lengths[ranks])

    def _contribution_at(
        self, idf: float, freqs: NDArray[np.float64], lengths: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """bm25's term for one phrase at these frequencies and row lengths."""
        norm = (1 - B) + (B * lengths) / self.avgdl
        found: NDArray[np.float64] = idf * ((freqs * (K1 + 1.0)) / (freqs + K1 * norm))
        return found

    def held(self, term: str) -> Postings | None:
        """The postings of stored term `term`, if in memory."""
        with self._lock:
            return self._terms.get(term)

    def counts(self, ranks: list[int], terms: tuple[str, ...]) -> Counts | None:
        """FTS5's counts of the tokens of entries `ranks` and of `terms` in each (what
        `app.search.snippets` needs); None when a term's postings are not in memory."""
        held = [self.held(term) for term in terms]
        if any(postings is None for postings in held):
            return None
        at = np.array(ranks, dtype=np.int32)
        found = {
            term: postings.freqs(at).astype(np.int64).tolist()
            for term, postings in zip(terms, held, strict=True)
            if postings is not None
        }
        return Counts(self.lengths[at].astype(np.int64).tolist(), found)

    def postings(self, conn: Connection | None, word: str, *, read: bool = True) -> Postings | None:
        """The postings of `word` as FTS5 stores it; None when it is not one stored term
        (or, unless `read`, when they are not in memory yet)."""
        stems = scratch(self.tokenizer).terms(word)
        if len(stems) != 1:
            return None
        term = stems[0]
        with self._lock:
            found = self._terms.get(term)
            if found is not None:
                self._terms.move_to_end(term)
                return found
        if not read or conn is None:
            return None
        found = self._read(conn, term)
        self._remember(term, found)
        return found

    def _remember(self, term: str, found: Postings) -> None:
        """Keep `found` as `term`'s postings, dropping the least recently used over budget."""
        with self._lock:
            if term in self._terms:
                return
            self._terms[term] = found
            self._held += found.nbytes
            while self._held > MEMORY_BUDGET and len(self._terms) > 1:
                _, dropped = self._terms.popitem(last=False)
                self._held -= dropped.nbytes

    def prefetch(self, conn: Connection) -> None:
        """Read the postings of every word held by at least PREFETCH_ENTRIES entries.

        One pass over FTS5's instance view (a few seconds at 300,000 entries, in the
        builder's thread), so that requests find the common words ready.
        """
        _instance_view(conn)
        for term, docs in conn.exec_driver_sql(_ALL_INSTANCES, (PREFETCH_ENTRIES,)):
            if self._held >= MEMORY_BUDGET:
                break
            self._remember(term, self._postings(_parse_docs(docs)))

    def _read(self, conn: Connection, term: str) -> Postings:
        """One term's postings from FTS5's instance view: a row per occurrence."""
        _instance_view(conn)
        docs = conn.exec_driver_sql(_INSTANCES, (term,)).scalar()
        return self._postings(_parse_docs(docs))

    def _postings(self, rowids: NDArray[np.int64]) -> Postings:
        """Postings from the rowid of every occurrence of a term (sorted by rowid)."""
        docs, counts = np.unique(rowids, return_counts=True)
        ranks = self.rank_of_rowid[docs] if len(docs) else np.empty(0, dtype=np.int32)
        present = ranks >= 0  # every indexed row is an entry of this version
        ranks, counts = ranks[present], counts[present]
        order = np.argsort(ranks, kind="stable")
        ranks = ranks[order].astype(np.int32)
        counts = counts[order]
        freqs = counts.astype(np.float64)
        hits = len(docs)
        idf = math.log((self.rows - hits + 0.5) / (hits + 0.5))
        if idf <= 0.0:
            idf = 1e-6
        repeated = freqs > 1
        bits = repeated_bits = once_by_length = np.empty(0, dtype=np.uint8)
        if len(ranks) * BITMAP_SHARE >= len(self.entries.ids):
            mask = np.zeros(len(self.entries.ids), dtype=np.bool_)
            mask[ranks] = True
            bits = np.packbits(mask)
            mask[ranks[~repeated]] = False
            repeated_bits = np.packbits(mask)
            mask[:] = False
            mask[ranks[~repeated]] = True
            once_by_length = np.packbits(mask[self.by_length])
        scores = self._contribution(idf, freqs, ranks)
        head, head_scores = self._best(ranks, scores, HEAD)
        return Postings(
            ranks,
            bits,
            ranks[repeated],
            freqs[repeated],
            repeated_bits,
            once_by_length,
            idf,
            head,
            head_scores,
        )


def _instance_view(conn: Connection) -> None:
    """FTS5's view of every term occurrence, on this connection."""
    conn.exec_driver_sql(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.entries_fts_instances "
        "USING fts5vocab(main, 'entries_fts', 'instance')"
    )


def _parse_docs(docs: str | None) -> NDArray[np.int64]:
    """The rowids of a comma-separated list."""
    if not docs:
        return np.empty(0, dtype=np.int64)
    return np.fromstring(docs, dtype=np.int64, sep=",")


_INSTANCES = "SELECT group_concat(doc) FROM temp.entries_fts_instances WHERE term = ?"
_ALL_INSTANCES = (
    "SELECT term, group_concat(doc) FROM temp.entries_fts_instances "
    "GROUP BY term HAVING count(*) >= ?"
)


def _distinct(ranks: Ranks) -> Ranks:
    """`ranks` sorted, each once (`np.unique` hashes: twenty times slower on a few thousand)."""
    ranks = np.sort(ranks)
    if len(ranks) < 2:
        return ranks
    first = np.empty(len(ranks), dtype=np.bool_)
    first[0] = True
    np.not_equal(ranks[1:], ranks[:-1], out=first[1:])
    found: Ranks = ranks[first]
    return found


def _holds(sorted_ranks: Ranks, ranks: Ranks) -> Mask:
    """For each of `ranks`, whether `sorted_ranks` holds it."""
    if not len(sorted_ranks):
        return np.zeros(len(ranks), dtype=np.bool_)
    spots = np.searchsorted(sorted_ranks, ranks)
    spots[spots == len(sorted_ranks)] = 0
    found: Mask = sorted_ranks[spots] == ranks
    return found


def _filter(index: EntryIndex, filters: EntryFilters) -> Callable[[Ranks], Mask] | None:
    """A test of entry ranks against `filters`, or None when the entry index cannot tell."""
    if not index.supports(filters) or filters.data:
        return None
    domains = heading_slugs_for(filters.domain, index.aliases) if filters.domain else set()
    kinds: list[list[Ranks]] = []
    for kind, values in (
        ("domain", sorted(domains)),
        ("tag", filters.tag),
        ("category", filters.category),
        ("post", filters.post),
        ("host", filters.host),
        ("link_kind", filters.link_kind),
    ):
        if values:
            kinds.append([index.postings.get((kind, value), _NONE) for value in values])
    low = filters.date_from.toordinal() if filters.date_from is not None else None
    high = filters.date_to.toordinal() if filters.date_to is not None else None
    drafts_out = not filters.include_drafts and index.any_drafts

    def keep(ranks: Ranks) -> Mask:
        mask = np.ones(len(ranks), dtype=np.bool_)
        if drafts_out:
            mask &= ~index.drafts[ranks]
        if low is not None or high is not None:
            days = index.days[ranks]
            mask &= days != _UNDATED
            if low is not None:
                mask &= days >= low
            if high is not None:
                mask &= days <= high
        for lists in kinds:
            anyof = np.zeros(len(ranks), dtype=np.bool_)
            for ranked in lists:
                anyof |= _holds(ranked, ranks)
            mask &= anyof
        return mask

    return keep


_NONE: Ranks = np.empty(0, dtype=np.int32)


def _probe(bits: NDArray[np.uint8], ranks: Ranks) -> Mask:
    """For each of `ranks`, whether its bit is set in `bits` (np.packbits order)."""
    found: Mask = ((bits[ranks >> 3] >> (7 - (ranks & 7))) & 1).astype(np.bool_)
    return found


def _set_bits(bits: NDArray[np.uint8]) -> Ranks:
    """The ranks whose bits are set, in order."""
    ranks: Ranks = np.flatnonzero(np.unpackbits(bits).view(np.bool_)).astype(np.int32)
    return ranks


def build_search_index(conn: Connection, entries: EntryIndex) -> SearchIndex:
    """Read the lengths, totals and row numbering of the snapshot `entries` was built from."""
    ids_in_order = entries.ids
    by_id = np.argsort(ids_in_order, kind="stable")
    sorted_ids = ids_in_order[by_id]
    rows = conn.exec_driver_sql("SELECT rowid, id FROM entries").all()
    rowids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    ids = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
    size = int(rowids.max()) + 1 if len(rowids) else 1
    rank_of_rowid = np.full(size, -1, dtype=np.int32)
    if len(ids):
        spots = np.searchsorted(sorted_ids, ids)
        spots[spots == len(sorted_ids)] = 0
        known = sorted_ids[spots] == ids if len(sorted_ids) else np.zeros(len(ids), np.bool_)
        rank_of_rowid[rowids[known]] = by_id[spots[known]]
    lengths = np.zeros(len(ids_in_order), dtype=np.float64)
    for rowid, blob in conn.exec_driver_sql("SELECT id, sz FROM entries_fts_docsize"):
        rank = rank_of_rowid[rowid] if rowid < size else -1
        if rank >= 0:
            lengths[rank] = _varint(blob, 0)[0]
    averages = conn.exec_driver_sql("SELECT block FROM entries_fts_data WHERE id = 1").scalar()
    total_rows, at = _varint(averages or b"", 0)
    tokens, _ = _varint(averages or b"", at)
    definition = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE name = 'entries_fts'"
    ).scalar_one()
    match = _TOKENIZE.search(definition)
    tokenizer = match.group(1).replace("''", "'") if match else "unicode61"
    return SearchIndex(entries, lengths, rank_of_rowid, total_rows, tokens, tokenizer)


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """An SQLite varint at `at` (big-endian 7-bit groups, a 9th byte of 8): value, next."""
    value = 0
    for step in range(9):
        if at >= len(data):
            return value, at
        byte = data[at]
        at += 1
        if step == 8:
            return (value << 8) | byte, at
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, at
    return value, at


class SearchIndexes:
    """The search index of each live entry index, built on first use and dropped with it.

    Once this process has searched, the index of each newer content version is built as
    soon as its entry index is (`prepare`): the searches after an ingest find it ready
    instead of ranking every match in SQL while it is built.
    """

    def __init__(self) -> None:
        self._built: weakref.WeakKeyDictionary[EntryIndex, SearchIndex] = (
            weakref.WeakKeyDictionary()
        )
        self._building: set[int] = set()
        self._searched = False
        self._lock = threading.Lock()

    def ready(self, entries: EntryIndex) -> SearchIndex | None:
        """The search index for `entries` if it is built (nothing is started)."""
        with self._lock:
            return self._built.get(entries)

    def get(self, conn: Connection, entries: EntryIndex) -> SearchIndex | None:
        """The search index for `entries`, or None while it is being built (SQL answers)."""
        with self._lock:
            self._searched = True
            found = self._built.get(entries)
            if found is not None or id(entries) in self._building:
                return found
            self._building.add(id(entries))
        if len(entries.ids) <= INLINE_BUILD_LIMIT:
            try:
                built = build_search_index(conn, entries)
            finally:
                with self._lock:
                    self._building.discard(id(entries))
            with self._lock:
                self._built[entries] = built
            return built
        self._start_build(conn.engine, entries)
        return None

    def prepare(self, engine: Engine, entries: EntryIndex) -> None:
        """Start building the search index for a newly built entry index in the
        background, if this process has searched (a small one is built when asked)."""
        if len(entries.ids) <= INLINE_BUILD_LIMIT:
            return
        with self._lock:
            if not self._searched or entries in self._built or id(entries) in self._building:
                return
            self._building.add(id(entries))
        self._start_build(engine, entries)

    def _start_build(self, engine: Engine, entries: EntryIndex) -> None:
        threading.Thread(
            target=self._build, args=(engine, entries), name="search-index", daemon=True
        ).start()

    def _build(self, engine: Engine, entries: EntryIndex) -> None:
        try:
            with snapshot(engine) as conn:
                if current_version(conn) != entries.version:
                    return  # a newer version is in; its own index will ask again
                built = build_search_index(conn, entries)
                with self._lock:
                    self._built[entries] = built
                built.prefetch(conn)
        finally:
            with self._lock:
                self._building.discard(id(entries))


SEARCH_INDEXES = SearchIndexes()


def _matching(
    ranks: Ranks, include: list[Postings], exclude: list[Postings], keep: Callable[[Ranks], Mask]
) -> Ranks:
    """The ranks holding every `include` word and no `exclude` word that pass `keep`."""
    for term in include:
        if len(ranks):
            ranks = ranks[term.holds(ranks)]
    for term in exclude:
        if len(ranks):
            ranks = ranks[~term.holds(ranks)]
    return ranks[keep(ranks)] if len(ranks) else ranks

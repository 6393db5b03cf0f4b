"""Deterministic benchmark corpus generator: Markdown posts shaped like a weekly log.

Usage: ``python -m bench.generate OUT_DIR [--posts 10000] [--seed 1]``.

Post ``i`` (1-based) is dated ``i - 1`` days before 2024-06-30 and seeded from
``(seed, i)`` alone, so a smaller corpus is an exact prefix of a larger one with the
same seed. Counts follow DESIGN.md: every list item and every prose paragraph
(preamble included) is an entry; every inline, reference-style and bare URL is a link.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

END_DATE = dt.date(2024, 6, 30)
# Dates step back one day per post; stay well clear of datetime's year-1 floor.
MAX_POSTS = 700_000

TAGS = (
    "ml", "genai", "systems", "databases", "papers", "industry", "tools",
    "research", "infra", "reading", "rust", "python",
)  # fmt: skip
DOMAINS = (
    "Machine Learning", "Systems", "Databases", "Industry / Business", "Other ML",
    "Programming Languages", "Distributed Systems", "Security", "Hardware",
    "Data Engineering", "Math & Theory", "Productivity",
)  # fmt: skip
TOPICS = (
    "GenAI", "Retrieval", "Compilers", "Inference", "Training", "Evaluation", "Agents",
    "Vision", "Speech", "Storage Engines", "Query Optimization", "Stream Processing",
    "Kernels", "Networking", "Observability", "Funding", "Open Source", "Startups",
    "Rust", "Python", "Type Systems", "GPUs", "Accelerators", "Consensus",
    "Cryptography", "Privacy", "Benchmarks", "Tooling", "Reinforcement Learning",
    "Recommenders",
)  # fmt: skip
EXCERPTS = (
    "Testing out a new format to share what I read on a weekly basis",
    "Notes from a week of papers, talks and repos",
    "What caught my eye this week",
    "Weekly reading list with short takes",
    "Papers, posts and a few open questions",
)
PREAMBLES = (
    "Starting an experimental series where I share my weekly learnings across "
    "various domains of interest.",
    "Another busy week: a few papers, a couple of talks and some tooling notes.",
    "Here is what I read, watched and tinkered with this week.",
    "Shorter notes this week, with more open questions than answers.",
    "A mix of research and industry news, grouped by domain as usual.",
    "Catching up on a backlog of tabs, roughly sorted by topic.",
)
WORDS = (
    "model", "models", "training", "inference", "latency", "throughput", "memory",
    "sparse", "dense", "attention", "transformer", "tokens", "context", "window",
    "retrieval", "embedding", "vector", "index", "query", "planner", "optimizer",
    "compiler", "kernel", "scheduler", "cache", "eviction", "replica", "consensus",
    "leader", "quorum", "shard", "partition", "stream", "batch", "pipeline", "schema",
    "column", "storage", "engine", "write", "read", "amplification", "compaction",
    "benchmark", "baseline", "evaluation", "dataset", "labels", "synthetic", "data",
    "quality", "scaling", "law", "parameters", "weights", "quantization", "distilled",
    "fine-tuning", "adapter", "LoRA", "prompt", "reasoning", "agent", "tool", "calls",
    "open", "source", "release", "paper", "authors", "team", "startup", "funding",
    "round", "valuation", "pricing", "customers", "platform", "cloud", "GPU", "GPUs",
    "accelerator", "bandwidth", "interconnect", "cluster", "nodes", "network",
    "packet", "protocol", "encryption", "privacy", "threat", "attack", "defense",
    "type", "system", "borrow", "checker", "runtime", "garbage", "collector",
    "interpreter", "bytecode", "JIT", "vectorized", "execution", "operator", "join",
    "hash", "sort", "merge", "tree", "graph", "search", "ranking", "recommendation",
    "signal", "feedback", "reward", "policy", "gradient", "loss", "objective",
    "the", "the", "the", "a", "a", "an", "of", "of", "of", "to", "to", "in", "in",
    "and", "and", "and", "with", "for", "for", "on", "by", "from", "over", "under",
    "is", "is", "are", "was", "can", "could", "should", "might", "will", "seems",
    "shows", "claims", "reduces", "improves", "beats", "matches", "introduces",
    "proposes", "explains", "combines", "replaces", "avoids", "needs", "uses",
    "useful", "impressive", "surprising", "simple", "clever", "practical", "cheap",
    "expensive", "fast", "slow", "large", "small", "new", "old", "better", "worse",
    "first", "second", "key", "main", "whole", "real", "hard", "easy", "naive",
    "na\u00efve", "caf\u00e9", "roughly", "mostly", "finally", "again", "still",
    "also", "only", "very", "quite", "nearly", "about", "ideas", "tricks", "lessons",
    "trade-offs", "results", "numbers", "approach", "design", "idea", "work",
    "2x", "10x", "40%", "8B", "70B", "1M", "$2B", "2023", "2024", "Mistral", "Llama",
    "Mixtral", "PostgreSQL", "SQLite", "DuckDB", "Rust", "Python", "CUDA", "Triton",
    "NVIDIA", "Apple", "Google", "Databricks", "Kafka", "Raft", "Paxos", "WASM",
)  # fmt: skip
TITLE_WORDS = (
    "Scaling", "Sparse", "Efficient", "Learned", "Fast", "Robust", "Streaming",
    "Retrieval", "Attention", "Memory", "Agents", "Query", "Compilation", "Kernels",
    "Consensus", "Vectors", "Inference", "Training", "Reasoning", "Storage",
    "Planning", "Graphs", "Caching", "Quantization", "Systems", "Databases",
    "Distillation", "Mixture", "Experts", "Flash", "Tokens", "Benchmarks",
)  # fmt: skip
CODE_WORDS = (
    "vllm", "pg_stat_statements", "EXPLAIN ANALYZE", "torch.compile", "asyncio",
    "io_uring", "mmap", "SELECT", "cargo", "pytest", "tokio", "ray",
)  # fmt: skip
LINK_WORDS = ("paper", "code", "blog", "talk", "Link", "thread", "slides", "demo")
ORGS = (
    "mistralai", "meta-llama", "google", "microsoft", "apple", "openai", "duckdb",
    "sqlite", "postgres", "rust-lang", "python", "huggingface", "nvidia", "vllm-project",
    "tensorflow", "pytorch", "apache", "facebookresearch", "allenai", "stanford-crfm",
)  # fmt: skip
BLOG_HOSTS = (
    "https://www.databricks.com/blog/", "https://blog.cloudflare.com/",
    "https://engineering.fb.com/2024/01/15/", "https://www.anyscale.com/blog/",
    "https://huyenchip.com/2024/", "https://jvns.ca/blog/", "https://lilianweng.github.io/posts/",
    "https://simonwillison.net/2024/Jan/", "https://www.interconnects.ai/p/",
    "https://muratbuffalo.blogspot.com/2024/", "https://danluu.com/",
    "https://medium.com/@sysnotes/",
)  # fmt: skip
ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
SIZES = ("1B", "3B", "7B", "8B", "13B", "34B", "70B", "8x7B")


@dataclass
class Counts:
    """Running totals of what the generator wrote."""

    files: int = 0
    bytes: int = 0
    items_top: int = 0
    items_nested: int = 0
    paragraphs_preamble: int = 0
    paragraphs_section: int = 0
    markers: int = 0
    links_inline: int = 0
    links_reference: int = 0
    links_bare: int = 0
    hosts: dict[str, int] = field(default_factory=dict)

    @property
    def entries(self) -> int:
        """Entries as DESIGN.md defines them: list items plus paragraphs."""
        return (
            self.items_top + self.items_nested + self.paragraphs_preamble + self.paragraphs_section
        )

    @property
    def links(self) -> int:
        """Links as DESIGN.md defines them: inline, reference-style and bare URLs."""
        return self.links_inline + self.links_reference + self.links_bare


def title_words(rng: random.Random, low: int, high: int) -> str:
    """Return a capitalised pseudo-title of low..high words."""
    return " ".join(rng.choices(TITLE_WORDS, k=rng.randint(low, high)))


def slug(rng: random.Random) -> str:
    """Return a URL path slug of 3-6 lowercase words."""
    return "-".join(w.lower() for w in rng.choices(TITLE_WORDS, k=rng.randint(3, 6)))


def make_link(rng: random.Random, counts: Counts) -> tuple[str, str]:
    """Return (anchor text, url) for a random paper, repo, model, video or blog."""
    roll = rng.random()
    if roll < 0.30:
        paper = f"{rng.randint(18, 24)}{rng.randint(1, 12):02d}.{rng.randint(1, 19999):05d}"
        if roll < 0.15:
            url, host = f"https://arxiv.org/abs/{paper}", "arxiv.org"
        else:
            url, host = f"https://arxiv.org/pdf/{paper}.pdf", "arxiv.org"
        text = title_words(rng, 1, 4) if rng.random() < 0.6 else "paper"
    elif roll < 0.50:
        repo = slug(rng)
        url, host = f"https://github.com/{rng.choice(ORGS)}/{repo}", "github.com"
        if rng.random() < 0.3:
            url += rng.choice(("/blob/main/README.md", "/tree/main/src", "/releases"))
        text = repo if rng.random() < 0.5 else "code"
    elif roll < 0.65:
        name = f"{rng.choice(TITLE_WORDS)}-{rng.choice(SIZES)}"
        if rng.random() < 0.4:
            name += rng.choice(("-Instruct", "-v0.1", "-Chat", "-GGUF"))
        kind = rng.choice(("", "", "datasets/"))
        url = f"https://huggingface.co/{kind}{rng.choice(ORGS)}/{name}"
        host = "huggingface.co"
        text = rng.choice(("HF model card", name, "weights", "dataset card"))
    elif roll < 0.75:
        video = "".join(rng.choices(ID_CHARS, k=11))
        url, host = f"https://www.youtube.com/watch?v={video}", "youtube.com"
        text = rng.choice(("talk", "video", "recording", title_words(rng, 2, 4)))
    else:
        base = rng.choice(BLOG_HOSTS)
        url = base + slug(rng)
        host = base.split("/")[2].removeprefix("www.")
        text = title_words(rng, 2, 5) if rng.random() < 0.6 else rng.choice(LINK_WORDS)
    counts.hosts[host] = counts.hosts.get(host, 0) + 1
    return text, url


def sentence(rng: random.Random) -> list[str]:
    """Return the words of one sentence, first word capitalised, final period."""
    words = rng.choices(WORDS, k=rng.randint(6, 20))
    words[0] = words[0][:1].upper() + words[0][1:]
    if rng.random() < 0.25:
        words[rng.randrange(1, len(words))] += ","
    if rng.random() < 0.12:
        words.insert(rng.randrange(1, len(words)), f"`{rng.choice(CODE_WORDS)}`")
    words[-1] = words[-1].rstrip(",") + "."
    return words


def sentences(rng: random.Random, low: int, high: int, limit: int) -> list[list[str]]:
    """Return low..high sentences, stopping once about limit chars are written."""
    out: list[list[str]] = []
    size = 0
    while len(out) < high and (len(out) < low or size < limit):
        words = sentence(rng)
        size += sum(len(w) + 1 for w in words)
        out.append(words)
    return out


def add_links(
    rng: random.Random,
    body: list[list[str]],
    kinds: list[str],
    refs: list[str],
    counts: Counts,
) -> str:
    """Insert the requested links into sentence word lists and return the text."""
    tail: list[str] = []
    for kind in kinds:
        text, url = make_link(rng, counts)
        words = rng.choice(body)
        if kind == "bare":
            counts.links_bare += 1
            tail.append(f"{rng.choice(('Ref:', 'Source:', 'See'))} {url}")
            continue
        if kind == "ref":
            counts.links_reference += 1
            label = f"ref-{len(refs) + 1}"
            refs.append(f"[{label}]: {url}")
            token = f"[{text}][{label}]"
        else:
            counts.links_inline += 1
            token = f"[{text}]({url})"
            if rng.random() < 0.4:
                token = f"({token})"
        # Insert before the final word so the period stays at the sentence end.
        words.insert(rng.randrange(1, len(words)), token)
    return " ".join([" ".join(w) for w in body] + tail)


def build_post(index: int, seed: int, counts: Counts) -> tuple[str, str]:
    """Return (file name, Markdown text) of post number index (1-based)."""
    rng = random.Random(f"learnlog-bench:{seed}:{index}")
    day = END_DATE - dt.timedelta(days=index - 1)
    stamp = f"{day.isoformat()} {rng.randrange(24):02d}:{rng.randrange(60):02d}:00"
    tags = rng.sample(TAGS, rng.randint(1, 3))
    lines = [
        "---",
        "layout: post",
        "comments: true",
        f'title:  "Learning Logs: {day.isoformat()}"',
        'category: "learning"',
        f'excerpt: "{rng.choice(EXCERPTS)}"',
        f"date:   {stamp}",
        "tags:",
        *(f"  - {tag}" for tag in tags),
        "---",
        "",
        rng.choice(PREAMBLES),
        "",
    ]
    counts.paragraphs_preamble += 1

    # Sections: (heading level, heading text); a domain without topics holds bullets.
    sections: list[tuple[int, str]] = []
    for domain in rng.sample(DOMAINS, rng.randint(3, 4)):
        sections.append((2, domain))
        if rng.random() < 0.85:
            sections.extend((3, t) for t in rng.sample(TOPICS, rng.randint(1, 3)))
    holders = [
        i
        for i, (level, _) in enumerate(sections)
        if level == 3 or i + 1 == len(sections) or sections[i + 1][0] == 2
    ]

    # Spread list items over the sections that hold bullets, at least one each.
    n_items = rng.randint(24, 32)
    per_section = dict.fromkeys(holders, 1)
    for i in rng.choices(holders, k=max(0, n_items - len(holders))):
        per_section[i] += 1
    n_items = sum(per_section.values())
    prose = {i for i in range(len(sections)) if rng.random() < 0.2}

    # Link budget: prose links first, then 1-2 reference and 1-3 bare, rest inline.
    n_links = rng.randint(26, 34)
    prose_links = {i: 1 if rng.random() < 0.3 else 0 for i in sorted(prose)}
    slots = ["ref"] * rng.randint(1, 2) + ["bare"] * rng.randint(1, 3)
    slots += ["inline"] * max(0, n_links - len(slots) - sum(prose_links.values()))
    item_links: list[list[str]] = [[] for _ in range(n_items)]
    for kind in slots:
        item_links[rng.randrange(n_items)].append(kind)

    refs: list[str] = []
    item = 0
    for i, (level, heading) in enumerate(sections):
        lines += ["#" * level + " " + heading, ""]
        if i in prose:
            counts.paragraphs_section += 1
            body = sentences(rng, 2, 4, 400)
            lines += [add_links(rng, body, ["inline"] * prose_links[i], refs, counts), ""]
        count = per_section.get(i, 0)
        if not count:
            continue
        # Depth walk: ~15% nested items, never deeper than parent + 1 or 2 levels.
        depths = [0]
        for _ in range(count - 1):
            prev = depths[-1]
            if prev == 0:
                depths.append(1 if rng.random() < 0.13 else 0)
            elif rng.random() < 0.45:
                depths.append(prev)
            elif prev == 1 and rng.random() < 0.3:
                depths.append(2)
            else:
                depths.append(0)
        for j, depth in enumerate(depths):
            kinds = item_links[item]
            item += 1
            is_parent = j + 1 < count and depths[j + 1] > depth
            if depth:
                counts.items_nested += 1
            else:
                counts.items_top += 1
            if is_parent and not kinds and rng.random() < 0.6:
                text = f"{title_words(rng, 1, 3)}:"
            elif rng.random() < 0.05:
                counts.markers += 1
                marker = rng.choice(("[Thought]", "[Question]"))
                body = [sentence(rng)]
                if marker == "[Question]":
                    body[-1][-1] = body[-1][-1][:-1] + "?"
                text = f"{marker} {add_links(rng, body, kinds, refs, counts)}"
            else:
                body = sentences(rng, 1, 3, rng.randint(100, 230))
                text = add_links(rng, body, kinds, refs, counts)
                if rng.random() < 0.3:
                    text = f"{title_words(rng, 1, 4)}: {text}"
            lines.append("  " * depth + "* " + text)
        lines.append("")
    if refs:
        lines += refs
        lines.append("")
    name = f"{day.isoformat()}-learning-logs-{index:05d}.md"
    return name, "\n".join(lines)


def generate(out_dir: Path, posts: int, seed: int) -> Counts:
    """Write posts Markdown files into out_dir and return what was written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = Counts()
    for index in range(1, posts + 1):
        name, text = build_post(index, seed, counts)
        data = text.encode("utf-8")
        with open(out_dir / name, "wb") as fh:
            fh.write(data)
        counts.files += 1
        counts.bytes += len(data)
    return counts


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, generate the corpus and print a summary."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate",
        description="Write a deterministic corpus of Markdown learning-log posts.",
        epilog="Example: python -m bench.generate /tmp/bench-corpus --posts 10000",
    )
    parser.add_argument("out_dir", type=Path, help="directory to write posts into")
    parser.add_argument("--posts", type=int, default=10_000, help="number of posts")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    args = parser.parse_args(argv)
    if not 1 <= args.posts <= MAX_POSTS:
        parser.error(f"--posts must be between 1 and {MAX_POSTS}")

    start = time.perf_counter()
    c = generate(args.out_dir, args.posts, args.seed)
    elapsed = time.perf_counter() - start
    items = c.items_top + c.items_nested
    paragraphs = c.paragraphs_preamble + c.paragraphs_section
    hosts = ", ".join(f"{h} {n}" for h, n in sorted(c.hosts.items(), key=lambda kv: -kv[1]))
    summary = (
        f"files written:  {c.files} in {args.out_dir} ({elapsed:.2f} s, seed {args.seed})\n"
        f"total bytes:    {c.bytes} ({c.bytes / c.files:.0f} per post)\n"
        f"entries:        {c.entries} ({c.entries / c.files:.1f} per post) = "
        f"{items} list items ({c.items_top} top-level, {c.items_nested} nested) + "
        f"{paragraphs} paragraphs ({c.paragraphs_preamble} preamble, "
        f"{c.paragraphs_section} under headings); "
        f"{c.markers} start with [Thought]/[Question]\n"
        f"links:          {c.links} ({c.links / c.files:.1f} per post) = "
        f"{c.links_inline} inline + {c.links_reference} reference + "
        f"{c.links_bare} bare URLs\n"
        f"links by host:  {hosts}"
    )
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Finding and reading files: bytes that are not text, twins that differ only in bytes, symlinks."""

import os
from pathlib import Path

import pytest

from app.ingest.discover import SourceFile, discover, normalise, read_source
from app.ingest.parse import parse_post
from app.ingest.problems import ParseError

CLEAN = "---\ntitle: Café\n---\n## Café notes\n* An entry with a [link](https://example.com)\n"


@pytest.mark.parametrize(
    "variant",
    [
        b"\xef\xbb\xbf" + CLEAN.encode(),
        CLEAN.replace("\n", "\r\n").encode(),
        CLEAN.replace("\n", "\r").encode(),
        CLEAN.replace("An entry", "An\u00a0entry")
        .replace("Café notes", "Caf\u200bé notes")
        .encode(),
        CLEAN.replace("é", "e\u0301").encode(),
    ],
    ids=["bom", "crlf", "lone-cr", "nbsp-zero-width", "decomposed"],
)
def test_byte_variants_read_like_their_clean_twin(variant: bytes) -> None:
    clean = normalise(CLEAN.encode())
    other = normalise(variant)
    assert other.content_hash == clean.content_hash
    assert (
        parse_post(other.text, "x.md").entries[0].text
        == parse_post(clean.text, "x.md").entries[0].text
    )


@pytest.mark.parametrize(
    ("data", "reason", "line"),
    [
        ("## Caf\xe9\n".encode("latin-1"), "not UTF-8 text: invalid byte 0xe9 at byte offset 6", 1),
        (b"ok\nnul\x00here", "not UTF-8 text: NUL byte at byte offset 6", 2),
        (bytes(range(256)), "not UTF-8 text: NUL byte at byte offset 0", 1),
    ],
    ids=["latin-1", "nul", "binary"],
)
def test_non_text_fails_with_offset(data: bytes, reason: str, line: int) -> None:
    with pytest.raises(ParseError) as caught:
        normalise(data)
    assert (caught.value.reason, caught.value.line) == (reason, line)


def test_too_large_names_size_and_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.md"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(ParseError, match="too large: 2048 bytes, the limit is 1024 bytes"):
        read_source(SourceFile("big.md", big), max_bytes=1024)


def test_discovery_finds_markdown_only_and_refuses_escaping_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "content"
    (root / "sub").mkdir(parents=True)
    (root / "a.md").write_text("a")
    (root / "sub" / "b.markdown").write_text("b")
    (root / "notes.txt").write_text("not markdown")
    (root / ".hidden.md").write_text("hidden")
    outside = tmp_path / "secret.md"
    outside.write_text("secret")
    os.symlink(outside, root / "leak.md")
    os.symlink(tmp_path, root / "up")
    os.symlink(root / "a.md", root / "alias.md")
    found, refused = discover(root)
    assert [source.path for source in found] == ["a.md", "alias.md", "sub/b.markdown"]
    assert sorted(path for path, _ in refused) == ["leak.md", "up"]
    assert all("outside the content folder" in reason for _, reason in refused)

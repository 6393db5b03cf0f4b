"""Slugs: text that is already a slug is kept as slugify would keep it."""

from hypothesis import given
from hypothesis import strategies as st
from slugify import slugify

from app.ingest.identity import SLUG_MAX_LENGTH, base_slug, slug_of


def _slugify(text: str) -> str:
    return slugify(text, max_length=SLUG_MAX_LENGTH, word_boundary=True)


@given(st.from_regex(r"[a-z0-9]{1,12}(-[a-z0-9]{1,12}){0,15}", fullmatch=True))
def test_text_that_looks_like_a_slug_gets_slugify_s_answer(text: str) -> None:
    assert slug_of(text) == _slugify(text)


@given(st.text(alphabet="ab9-_ .É/", max_size=140))
def test_any_other_text_gets_slugify_s_answer(text: str) -> None:
    assert slug_of(text) == _slugify(text)


def test_a_long_file_name_is_cut_at_a_word_boundary_as_before() -> None:
    stem = "-".join(["word"] * 30)  # 149 characters
    assert base_slug(f"posts/{stem}.md") == _slugify(stem)
    assert len(base_slug(f"posts/{stem}.md")) <= SLUG_MAX_LENGTH
    assert base_slug("2024-01-05-weekly-log.md") == "2024-01-05-weekly-log"

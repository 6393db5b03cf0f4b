"""Front matter dialects and the errors they give."""

import pytest

from app.ingest.dates import date_from_filename, parse_date_value
from app.ingest.front_matter import split_front_matter
from app.ingest.parse import parse_post
from app.ingest.problems import ParseError


@pytest.mark.parametrize(
    ("text", "reason", "line"),
    [
        ("---\ntitle: ok\ntags: [a\n---\nbody", "invalid YAML front matter", 3),
        (
            "---\n- a\n- b\n---\nbody",
            "front matter must be a mapping of keys to values, not a list",
            1,
        ),
        (
            "---\njust a scalar\n---\nbody",
            "front matter must be a mapping of keys to values, not a str",
            1,
        ),
        ("---\ntitle: never closed\nbody", "unterminated YAML front matter", 1),
        ("---\nx: !!python/object/apply:os.system ['true']\n---\n", "invalid YAML front matter", 2),
        ("+++\ntitle = \n+++\n", "invalid TOML front matter", 2),
    ],
    ids=["yaml-syntax", "list", "scalar", "unterminated", "python-tag", "toml-syntax"],
)
def test_unreadable_front_matter_names_line_and_reason(text: str, reason: str, line: int) -> None:
    with pytest.raises(ParseError) as caught:
        split_front_matter(text)
    assert caught.value.reason.startswith(reason)
    assert caught.value.line == line


def test_alias_bomb_is_refused_quickly() -> None:
    levels = ["a: &a ['x','x','x','x','x','x','x','x','x']"]
    for index, name in enumerate("bcdefghi"):
        previous = "abcdefghi"[index]
        levels.append(f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]")
    with pytest.raises(ParseError, match="expands to more than"):
        split_front_matter("---\n" + "\n".join(levels) + "\n---\n")


def test_duplicate_keys_warn_and_last_wins() -> None:
    fm = split_front_matter("---\ntitle: one\ntitle: two\n---\n")
    assert fm.data["title"] == "two"
    assert [(w.line, w.reason) for w in fm.warnings] == [
        (3, "front matter key 'title' appears twice; the last value wins")
    ]


def test_keys_in_other_case_and_block_scalar_titles() -> None:
    parsed = parse_post("---\nTitle: >\n  Folded title\n\nDate: 2020-12-2\n---\n", "x.md")
    assert parsed.title == "Folded title"
    assert str(parsed.date) == "2020-12-02"


def test_prose_starting_with_a_colon_word_is_not_a_header() -> None:
    assert split_front_matter("Note: this is prose.\n\n* item\n").format == "none"


def test_impossible_date_is_undated_with_a_warning_naming_it() -> None:
    parsed = parse_post("---\ndate: 2024-02-30\n---\n* x\n", "x.md")
    assert parsed.date is None
    assert any("'2024-02-30'" in w.reason for w in parsed.warnings)


@pytest.mark.parametrize(
    ("value", "day", "utc"),
    [
        ("2024-01-01 23:30:00 -08:00", "2024-01-01", "2024-01-02T07:30:00+00:00"),
        ("2024-01-02 00:30:00 +09:00", "2024-01-02", "2024-01-01T15:30:00+00:00"),
        ("2016-03-22 14:00 EDT", "2016-03-22", "2016-03-22T18:00:00+00:00"),
        ("June 23, 2020", "2020-06-23", "2020-06-23T00:00:00+00:00"),
        ("2013-06-07 18:46", "2013-06-07", "2013-06-07T18:46:00+00:00"),
    ],
)
def test_calendar_date_is_never_shifted_by_a_zone(value: str, day: str, utc: str) -> None:
    parsed = parse_date_value(value)
    assert (parsed.day.isoformat(), parsed.moment.isoformat()) == (day, utc)


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("2023-12-24-learning-logs", "2023-12-24"),
        ("2015-6-4-mongo-vs-rethink", "2015-06-04"),
        ("23-12-24-learning-logs", "2023-12-24"),
        ("2021_01_05", "2021-01-05"),
        ("raksha-turns-one", None),
    ],
)
def test_dates_in_file_names(stem: str, expected: str | None) -> None:
    found = date_from_filename(stem)
    assert (found.isoformat() if found else None) == expected

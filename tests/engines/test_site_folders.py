"""Folders of a site engine ingested whole: links between posts resolve to the post they
name, removed syntax is reported once per kind, `site_url` is checked."""

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from app.folders.config import FolderConfigError, load_config
from tests.conftest import Ingest


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return folder


def _targets(engine: Engine) -> list[tuple[str, str, str | None]]:
    """(citing post, link text, path of the post it resolved to) for every internal link."""
    with engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                text(
                    "SELECT p.source_path, l.text, t.source_path FROM note_links n "
                    "JOIN links l ON l.id = n.link_id JOIN posts p ON p.id = n.post_id "
                    "LEFT JOIN posts t ON t.id = n.target_post_id ORDER BY l.text"
                )
            ).all()
        ]


def test_jekyll_post_url_and_link_resolve_to_their_posts(
    tmp_path: Path, engine: Engine, ingest: Ingest
) -> None:
    folder = _write(
        tmp_path / "site",
        {
            "_config.yml": "title: site\n",
            "_posts/2010-07-21-first.md": "---\ntitle: First\n---\n## Part\n\nText.\n",
            "_posts/2011-01-01-second.md": "---\ntitle: Second\n---\nSecond.\n",
            "_posts/2012-01-01-citing.md": (
                "---\ntitle: Citing\n---\n"
                "- [first]({% post_url 2010-07-21-first %}#part) and "
                "[second]({% link _posts/2011-01-01-second.md %})\n"
                "- Inline {% post_url 2011-01-01-second %} and "
                "[gone]({% post_url 2000-01-01-x %})\n"
            ),
        },
    )
    summary = ingest(folder, workers=0)
    assert summary.dialect is not None
    assert summary.dialect.name == "jekyll"
    assert _targets(engine) == [
        ("_posts/2012-01-01-citing.md", "2011-01-01-second", "_posts/2011-01-01-second.md"),
        ("_posts/2012-01-01-citing.md", "first", "_posts/2010-07-21-first.md"),
        ("_posts/2012-01-01-citing.md", "gone", None),
        ("_posts/2012-01-01-citing.md", "second", "_posts/2011-01-01-second.md"),
    ]


def test_hugo_relref_and_pelican_filename_resolve_to_their_posts(
    tmp_path: Path, engine: Engine, ingest: Ingest
) -> None:
    hugo = _write(
        tmp_path / "hugo",
        {
            "hugo.toml": 'title = "site"\n',
            "posts/target.md": "---\ntitle: Target\ndate: 2020-01-01\n---\nText.\n",
            "posts/citing.md": (
                '---\ntitle: Citing\ndate: 2020-01-02\n---\n- [t]({{< relref "target.md" >}})\n'
            ),
        },
    )
    ingest(hugo, workers=0)
    assert _targets(engine) == [("posts/citing.md", "t", "posts/target.md")]


def test_pelican_filename_links_resolve(tmp_path: Path, engine: Engine, ingest: Ingest) -> None:
    folder = _write(
        tmp_path / "pelican",
        {
            "learnlog.toml": 'dialect = "pelican"\n',
            "2020/target.md": "Title: Target\nDate: 2020-01-01\n\nText.\n",
            "2020/citing.md": (
                "Title: Citing\nDate: 2020-01-02\n\n"
                "- [near]({filename}target.md) and [root]({filename}/2020/target.md)\n"
                "- [old](|filename|target.md) and [file]({static}/files/a.pdf)\n"
            ),
        },
    )
    ingest(folder, workers=0)
    assert _targets(engine) == [
        ("2020/citing.md", "near", "2020/target.md"),
        ("2020/citing.md", "old", "2020/target.md"),
        ("2020/citing.md", "root", "2020/target.md"),
    ]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT url FROM links WHERE text = 'file'")).scalar() == (
            "/files/a.pdf"
        )


def test_removed_syntax_is_one_warning_per_kind_per_run(
    tmp_path: Path, engine: Engine, ingest: Ingest
) -> None:
    include = "{% include toc.html %}"
    posts = {
        f"_posts/2020-01-0{day}-p.md": f"---\ntitle: P{day}\n---\n{include}\n\nText.\n"
        for day in range(1, 4)
    }
    posts["_posts/2020-01-09-q.md"] = "---\ntitle: Q\n---\nBy {{ page.author }}.\n"
    folder = _write(tmp_path / "site", {"_config.yml": "title: s\n", **posts})
    summary = ingest(folder, workers=0)
    removed = [w for w in summary.warnings if "removed from the text" in w.reason]
    assert [(w.path, w.reason) for w in removed] == [
        (
            "_posts/2020-01-01-p.md",
            "Liquid tag {% include %} removed from the text in 3 posts",
        ),
        (
            "_posts/2020-01-09-q.md",
            "Liquid output {{ page.author }} removed from the text in 1 post",
        ),
    ]
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT COUNT(*) FROM ingest_problems WHERE reason LIKE '%removed from the text%'")
        ).scalar()
    assert stored == 2


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ('"https://18f.gsa.gov/"', "https://18f.gsa.gov"),
        ('"http://example.org/blog"', "http://example.org/blog"),
        ('""', ""),
    ],
)
def test_site_url_is_read(tmp_path: Path, value: str, accepted: str) -> None:
    (tmp_path / "learnlog.toml").write_text(f"site_url = {value}\n")
    assert load_config(tmp_path).site_url == accepted


@pytest.mark.parametrize("value", ['"18f.gsa.gov"', '"ftp://x.org"', '"https://x.org/?a=1"', "3"])
def test_an_unusable_site_url_names_the_file(tmp_path: Path, value: str) -> None:
    (tmp_path / "learnlog.toml").write_text(f"site_url = {value}\n")
    with pytest.raises(FolderConfigError) as raised:
        load_config(tmp_path)
    assert str(raised.value).startswith(f"{tmp_path / 'learnlog.toml'}: `site_url` must")


def test_setting_the_site_url_reads_every_post_again_once(
    tmp_path: Path, engine: Engine, ingest: Ingest
) -> None:
    folder = _write(
        tmp_path / "site",
        {
            "_config.yml": "title: site\n",
            "_posts/2015-01-01-a.md": "- [about]({{ site.baseurl }}/about/)\n",
            "_posts/2015-01-02-b.md": "- plain text\n",
        },
    )

    def urls() -> list[str]:
        with engine.connect() as conn:
            return list(conn.execute(text("SELECT url FROM links ORDER BY url")).scalars())

    ingest(folder, workers=0)
    assert urls() == ["/about/"]
    again = ingest(folder, workers=0)
    assert (again.unchanged, again.updated) == (2, 0)  # a Jekyll folder is not re-read

    (folder / "learnlog.toml").write_text('site_url = "https://blog.example"\n')
    ingest(folder, workers=0)
    assert urls() == ["https://blog.example/about/"]
    last = ingest(folder, workers=0)
    assert (last.unchanged, last.updated) == (2, 0)

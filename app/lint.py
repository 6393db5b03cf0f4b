"""Lint Markdown logs without a database: what ingest would refuse or warn about, and more.

Files are found, read and parsed by the ingest's own discover and parse steps, so a file
that `learnlog check` passes is one that `learnlog ingest` takes, and every warning the
ingest would record is reported here too. On top of those, a few authoring checks:
impossible dates in file names, the same address linked twice in one post, headings no
domain in the aliases file covers, and list entries with no link.
"""

import difflib
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

import yaml

from app.fields.schema import FieldSchema
from app.folders.config import FolderConfigError, default_name, load_config
from app.folders.dialect import detect
from app.ingest.dates import date_from_filename
from app.ingest.discover import (
    SourceFile,
    SourceText,
    discover,
    fingerprinted,
    normalise,
    read_regular_file,
)
from app.ingest.front_matter import key_lines
from app.ingest.identity import assign_slugs, slug_of
from app.ingest.links import link_scheme, url_key
from app.ingest.parse import ParsedPost
from app.ingest.pipeline import parse_aliases, parse_all
from app.ingest.problems import ParseError, SourceVanished, escaped
from app.notes.names import LinkKeys, NameIndex, note_names
from app.settings import Settings

Severity = Literal["error", "warning"]

# An aliases file is a short YAML list of headings; anything far larger is a mistake.
_ALIASES_MAX_BYTES = 16 * 1024 * 1024

# Rules a finding can come from; `--ignore` takes these names.
RULES = {
    "ingest": "anything `learnlog ingest` itself fails a file for or warns about",
    "slug-collision": "several files ask for the same public slug",
    "file-date": "a date-shaped file name prefix that is no real date",
    "duplicate-url": "the same address linked from two entries of one post",
    "uncovered-heading": "a heading that no domain of the aliases file covers",
    "no-link": "a list entry with no link in it, its parents or its sub-items",
    "unresolved-link": "an internal link (wikilink, embed, block reference, relative link "
    "to a note) naming no note or block of the folder",
}

# The shape of a file name date (as dates.py reads them) whether or not the date exists.
_DATE_SHAPED = re.compile(r"(?:\d{4}|\d{2})[-_]\d{1,2}[-_]\d{1,2}(?=$|[-_ .])")


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in one file, at a line when known."""

    path: str
    line: int | None
    severity: Severity
    rule: str
    message: str

    def __str__(self) -> str:
        """Compiler style: `path:line: severity: message [rule]`."""
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.severity}: {self.message} [{self.rule}]"


@dataclass(slots=True)
class LintReport:
    """Every finding of a check, in file and line order, and how many files were read."""

    findings: list[Finding] = field(default_factory=list)
    files: int = 0

    @property
    def errors(self) -> int:
        """Findings that would make ingest fail a file."""
        return sum(1 for finding in self.findings if finding.severity == "error")

    @property
    def warnings(self) -> int:
        """Findings that ingest would store the file despite."""
        return len(self.findings) - self.errors

    def to_json(self) -> str:
        """The findings and the counts as one JSON document."""
        return json.dumps(
            {
                "files": self.files,
                "errors": self.errors,
                "warnings": self.warnings,
                "findings": [asdict(finding) for finding in self.findings],
            },
            ensure_ascii=False,
        )

    def summary(self) -> str:
        """One line: files checked, errors, warnings."""
        return (
            f"{self.files} {_plural(self.files, 'file')} checked: "
            f"{self.errors} {_plural(self.errors, 'error')}, "
            f"{self.warnings} {_plural(self.warnings, 'warning')}"
        )


class LintUsageError(Exception):
    """A target that is neither a folder nor a file."""


@dataclass(slots=True)
class _Job:
    """One content folder to check: all of its posts, or only the files named."""

    root: Path
    shown: str  # the folder as the user wrote it (or the configured one)
    files: dict[str, str] | None = None  # relative path -> the path as the user wrote it


def lint(
    targets: Sequence[Path],
    settings: Settings,
    *,
    ignore: Iterable[str] = (),
) -> LintReport:
    """Check folders and files (default: the configured content folders); raise LintUsageError."""
    ignored = set(ignore)
    if ignored - RULES.keys():
        unknown = ", ".join(sorted(ignored - RULES.keys()))
        raise LintUsageError(f"no rule named {unknown}; the rules are {', '.join(RULES)}")
    configured = settings.folders()
    jobs = _jobs(targets or configured, configured)
    report = LintReport()
    configured_roots = {folder.resolve() for folder in configured if folder.is_dir()}
    for job in jobs:
        # Slugs are shared by every configured folder (one database); other folders are apart.
        neighbours = configured_roots - {job.root} if job.root in configured_roots else set()
        _lint_job(job, sorted(neighbours), settings, report)
    report.findings = [f for f in report.findings if f.rule not in ignored]
    return report


def _jobs(targets: Sequence[Path], configured: Sequence[Path]) -> list[_Job]:
    """Group targets by content folder: a folder is one job, files join their folder's job."""
    by_root: dict[Path, _Job] = {}
    for target in targets:
        if target.is_dir():
            root = target.resolve()
            job = by_root.setdefault(root, _Job(root, str(target)))
            job.files = None  # the whole folder
        elif target.exists() or target.is_symlink():  # a FIFO named here is refused below
            if _hidden(target, configured):
                continue  # ingest never reads it (`.github/...`, `.learnlog/template.md`)
            root = _owning_folder(target, configured)
            job = by_root.setdefault(root, _Job(root, str(root), {}))
            relative = Path(os.path.relpath(os.path.abspath(target), root)).as_posix()
            if job.files is not None:  # keyed and shown as discovery names files: escaped
                job.files[escaped(relative)] = escaped(str(target))
        else:
            raise LintUsageError(f"{target}: no such file or folder")
    return list(by_root.values())


def _owning_folder(path: Path, configured: Sequence[Path]) -> Path:
    """The configured content folder holding `path`, else the folder the file sits in."""
    absolute = Path(os.path.abspath(path))
    for folder in configured:
        root = folder.resolve()
        if folder.is_dir() and absolute.is_relative_to(root):
            return root
    return absolute.parent.resolve()


def _hidden(path: Path, configured: Sequence[Path]) -> bool:
    """True when a folder on the way to `path` (or the file itself) is hidden.

    The way starts at the configured folder holding the file, else at the working folder.
    """
    absolute = Path(os.path.abspath(path))
    for base in [*(Path(os.path.abspath(folder)) for folder in configured), Path.cwd()]:
        if absolute.is_relative_to(base):
            return any(part.startswith(".") for part in absolute.relative_to(base).parts)
    return absolute.name.startswith(".")


def _lint_job(job: _Job, neighbours: list[Path], settings: Settings, report: LintReport) -> None:
    """Check one folder (or the named files in it), appending to `report`."""
    sources, refused = discover(job.root)
    start = len(report.findings)
    shown = {
        source.path: _shown_path(job, source.path)
        for source in sources
        if job.files is None or source.path in job.files
    }
    for path, reason in refused:
        if job.files is None or path in job.files:
            report.findings.append(Finding(_shown_path(job, path), None, "error", "ingest", reason))
            report.files += 1

    covered = _covered_headings(settings.resolved_aliases_file(job.root), report)
    collisions = _slug_collisions(job.root, sources, neighbours)
    checked = (fingerprinted(source) for source in sources if source.path in shown)
    schema = FieldSchema()
    site_url = ""
    try:
        config = load_config(job.root)
        dialect = detect(job.root, config, [s.absolute for s in sources]).name
        schema, site_url = config.schema, config.site_url
    except FolderConfigError:  # ingest reports an unusable learnlog.toml; links read as plain
        dialect = "plain"
    # Internal links resolve against every note of the folder: files not checked count by
    # their path names (their aliases are not read).
    names = NameIndex()
    for source in sources:
        if source.path not in shown:
            names.add(source.path, note_names(source.path, dialect, {}))
    blocks: set[str] = set()
    internal: dict[str, list[tuple[int, str, LinkKeys]]] = {}
    # The ingest's own parse step: the same reading, the same errors, the same workers.
    parsed = parse_all(checked, settings.max_file_bytes, settings.ingest_workers, dialect, site_url)
    for path, result, source_text in parsed:
        report.files += 1
        found = [*_lint_name(path), *collisions.get(path, [])]
        if isinstance(result, SourceVanished):
            found.append((None, "warning", "ingest", result.reason))
        elif isinstance(result, ParseError):
            found.append((result.line, "error", "ingest", result.reason))
        else:
            found.extend(_lint_post(result, covered))
            found.extend(_field_findings(result, source_text, schema))
            names.add(path, result.names)
            blocks.update(e.block_id for e in result.entries if e.block_id is not None)
            internal[path] = [
                (link.line, link.url, LinkKeys(link.note.target, link.note.near))
                for link in result.links
                if link.note is not None
            ]
        found.sort(key=lambda item: (item[0] or 0, item[1] != "error"))
        report.findings.extend(Finding(shown[path], *item) for item in found)
    for path, links in internal.items():
        for line, url, keys in links:
            block = url[2:-2] if url.startswith("((") else None
            if (block in blocks) if block is not None else names.resolve(keys) is not None:
                continue
            what = "block" if block is not None else "note"
            message = f"internal link {url!r} names no {what} of the folder"
            finding = Finding(shown[path], line, "warning", "unresolved-link", message)
            report.findings.append(finding)
    # Files in path order; each file's findings stay in line order (the sort is stable).
    report.findings[start:] = sorted(report.findings[start:], key=lambda finding: finding.path)


_Item = tuple[int | None, Severity, str, str]


def _shown_path(job: _Job, relative: str) -> str:
    """A file's path as the user named it, or joined to the folder as the user named it."""
    if job.files and relative in job.files:
        return job.files[relative]
    return escaped(os.path.normpath(os.path.join(job.shown, relative)))


def _slug_collisions(
    root: Path, sources: list[SourceFile], neighbours: list[Path]
) -> dict[str, list[_Item]]:
    """Slug collision warnings per relative path, as ingest assigns slugs."""
    # Named as a fresh ingest names them (ids and slug suffixes hash the folder's name).
    name = default_name(root)
    identities = [(name, source.path) for source in sources]
    for folder in neighbours:
        identities.extend((default_name(folder), source.path) for source in discover(folder)[0])
    slugs, groups = assign_slugs(identities)
    found: dict[str, list[_Item]] = {}
    for group in groups:
        names = ", ".join(path for _, path in group)
        for identity in group:
            if identity[0] == name:
                reason = f"slug {slugs[identity]!r}: several files ask for the same slug ({names})"
                found.setdefault(identity[1], []).append(
                    (None, "warning", "slug-collision", reason)
                )
    return found


def _lint_name(path: str) -> list[_Item]:
    """A file name that starts with a date that cannot exist (`2023-02-30-...`)."""
    stem = PurePosixPath(path).stem
    shaped = _DATE_SHAPED.match(stem)
    if shaped and date_from_filename(stem) is None:
        return [(None, "warning", "file-date", f"file name date {shaped.group()} is no real date")]
    return []


def _covered_headings(aliases_file: Path | None, report: LintReport) -> set[str] | None:
    """Heading slugs the aliases file knows (domains and spellings); None without a file."""
    if aliases_file is None or not aliases_file.is_file():
        return None
    try:
        text = normalise(read_regular_file(aliases_file, _ALIASES_MAX_BYTES)).text
        aliases = parse_aliases(text)
    except OSError as error:
        reason = f"cannot read the aliases file: {error.strerror or error}"
        report.findings.append(Finding(str(aliases_file), None, "error", "ingest", reason))
        return None
    except ParseError as error:
        report.findings.append(
            Finding(str(aliases_file), error.line, "error", "ingest", error.reason)
        )
        return None
    domains = yaml.safe_load(text) or {}
    return {*aliases, *aliases.values(), *(slug_of(str(key)) for key in domains)}


def _lint_post(post: ParsedPost, covered: set[str] | None) -> list[_Item]:
    """Ingest's own warnings for one post, then the authoring checks."""
    found: list[_Item] = [(p.line, "warning", "ingest", p.reason) for p in post.warnings]
    found.extend(_duplicate_urls(post))
    if covered is not None:
        for section in post.sections:
            if section.slug and section.slug not in covered:
                reason = f"heading {section.heading!r} is not a domain of the aliases file"
                close = difflib.get_close_matches(section.slug, sorted(covered), n=1, cutoff=0.8)
                if close:
                    reason += f" (did you mean {close[0]}?)"
                found.append((section.line, "warning", "uncovered-heading", reason))
    found.extend(_entries_without_links(post))
    return found


def _field_findings(
    post: ParsedPost, source: SourceText | None, schema: FieldSchema
) -> list[_Item]:
    """Declared fields the post's front matter breaks, as the ingest reports them: errors
    under `strict = true` (the ingest fails the file), warnings otherwise."""
    if not schema:
        return []
    lines = key_lines(source.text) if source is not None else {}
    severity: Severity = "error" if schema.strict else "warning"
    return [
        (v.line or post.body_line, severity, "field", f"field `{v.field}`: {v.reason}")
        for v in schema.check(post.front_matter, lines).violations
    ]


def _duplicate_urls(post: ParsedPost) -> list[_Item]:
    """Web addresses linked from two different entries (or headings) of one post."""
    first: dict[tuple[str, str], tuple[int | None, str, int]] = {}
    found: list[_Item] = []
    for link in post.links:
        # A front-matter URL (`repo:`) is usually linked from the text too: no repetition.
        if link.origin != "body" or link_scheme(link.url) not in ("http", "https"):
            continue
        # Links to different parts of one page (#fragments) are not the same link.
        key = (link.url_key or url_key(link.url), link.url.partition("#")[2])
        seen = first.setdefault(key, (link.entry, link.url, link.line))
        if seen[0] == link.entry:
            continue  # the same entry may name an address twice (a title and a "link")
        spelled = "" if seen[1] == link.url else f" as {seen[1]}"
        reason = f"{link.url} is linked already on line {seen[2]}{spelled}"
        found.append((link.line, "warning", "duplicate-url", reason))
    return found


def _entries_without_links(post: ParsedPost) -> list[_Item]:
    """List items with no link in themselves, their parents or their sub-items.

    Items starting with a marker such as `[Thought]` are notes by design and never count.
    """
    count = len(post.entries)
    own = [False] * count
    for link in post.links:
        if link.entry is not None:
            own[link.entry] = True
    # Entries come in document order, so a parent always precedes its children.
    below = list(own)  # the entry or one of its sub-items has a link
    for index in range(count - 1, -1, -1):
        parent = post.entries[index].parent
        if below[index] and parent is not None:
            below[parent] = True
    above = list(own)  # the entry or one of its parents has a link
    for index, entry in enumerate(post.entries):
        if entry.parent is not None and above[entry.parent]:
            above[index] = True
    return [
        (entry.line, "warning", "no-link", f"entry has no link: {_clip(entry.text)}")
        for index, entry in enumerate(post.entries)
        if entry.kind == "item" and not (below[index] or above[index] or entry.tags)
    ]


def _clip(text: str, width: int = 60) -> str:
    """The first line of an entry's text, shortened for a one-line message."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1].rstrip() + "…"


def _plural(count: int, word: str) -> str:
    """`word` or `words` after `count`."""
    return word if count == 1 else word + "s"

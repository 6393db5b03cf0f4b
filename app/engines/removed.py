"""What the site-engine rules took out of a post's text, for the run's warnings."""

from markdown_it.utils import EnvType


def record_removed(env: EnvType, name: str) -> None:
    """Note that syntax called `name` (`{% include %}`, `{{< tweet >}}`) left the text."""
    removed = env.setdefault("removed_syntax", [])
    removed.append(name)

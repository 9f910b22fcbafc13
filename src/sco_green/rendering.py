"""The project's HTML pages (report, audit page) from the Jinja2 templates beside this module."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).parent / "templates"


def render_template(name: str, filters: dict[str, Callable[..., str]] | None = None, **context: Any) -> str:
    """Autoescaped, and an undefined name is an error rather than an empty cell."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    env.filters.update(filters or {})
    return env.get_template(name).render(**context)

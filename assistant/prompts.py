"""Prompts are files under ``prompts/``, rendered strictly: a missing or unexpected variable raises
``PromptError``. Article text placed inside a prompt goes through ``as_data`` so it cannot open or
close the delimiters that mark it as data."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta

from .errors import PromptError

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROMPTS),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain text; delimiters are neutralised by ``as_data``
        trim_blocks=True,
        keep_trailing_newline=False,
    )


def prompt_names() -> list[str]:
    return sorted(p.stem for p in PROMPTS.glob("*.txt"))


def prompt_variables(name: str) -> frozenset[str]:
    """The variables ``prompts/<name>.txt`` uses; rendering requires exactly these."""
    env = _environment()
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, f"{name}.txt")
    return frozenset(meta.find_undeclared_variables(env.parse(source)))


def render_prompt(name: str, **variables: Any) -> str:
    """Render a prompt; a missing or unexpected variable (or attribute) raises ``PromptError``."""
    wanted = prompt_variables(name)
    missing, unexpected = wanted - variables.keys(), variables.keys() - wanted
    if missing or unexpected:
        raise PromptError(f"prompt {name}: missing {sorted(missing)}, unexpected {sorted(unexpected)}")
    try:
        return _environment().get_template(f"{name}.txt").render(**variables)
    except jinja2.UndefinedError as exc:
        raise PromptError(f"prompt {name}: {exc}") from exc


_TAG_OPEN = re.compile(r"<(?=\s*/?\s*[A-Za-z!?])")


def as_data(text: str) -> str:
    """Article text made unable to open or close a delimiter block (``<`` of a tag → ``‹``)."""
    return _TAG_OPEN.sub("‹", text)


def as_attribute(text: str | None, limit: int = 200) -> str:
    """A metadata value safe inside ``attr="..."`` on one line."""
    flat = " ".join((text or "").split())[:limit]
    return flat.replace('"', "'").replace("<", "‹").replace(">", "›")

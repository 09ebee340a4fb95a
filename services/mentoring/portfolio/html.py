"""The portfolio as a web page: one self-contained HTML document (Jinja2, autoescaped:
a name carrying markup shows as text), ``dir="rtl"`` in Arabic."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from services.mentoring.portfolio.content import Portfolio
from services.mentoring.portfolio.wording import BRAND, view

TEMPLATES = Path(__file__).parent / "templates"


@cache
def _template() -> Template:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("portfolio.html")


def render_html(portfolio: Portfolio, language: str) -> str:
    shown = view(portfolio, language)
    return _template().render(v=shown, w=shown.words, brand=BRAND)

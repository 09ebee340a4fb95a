"""CSV exports that are safe to open in a spreadsheet."""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@")
"""A cell starting with one of these is run as a formula by spreadsheets (CSV injection)."""


def csv_cell(value: Any) -> Any:
    """A CSV cell: empty for None; text a spreadsheet would run as a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value

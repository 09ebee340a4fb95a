"""CSV cells that a spreadsheet will not run as formulas."""

from __future__ import annotations

import pytest

from shared.http.csv_export import csv_cell


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        ("Dinamo", "Dinamo"),
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+216 71 000 000", "'+216 71 000 000"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        (3, 3),
        (0.5, 0.5),
        ("", ""),
    ],
)
def test_a_cell_is_empty_for_none_and_formulas_are_quoted(value: object, cell: object) -> None:
    assert csv_cell(value) == cell

"""The consumer's reading of its own retry header, whatever a message carries."""

from __future__ import annotations

from typing import Any

import pytest

from shared.bus.consumer import _attempts_so_far


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, 0),
        (None, 0),
        ({"x-booster-attempts": 3}, 3),
        ({"x-booster-attempts": "4"}, 4),
        ({"x-booster-attempts": "²"}, 0),
        ({"x-booster-attempts": "9" * 5000}, 0),
        ({"x-booster-attempts": -2}, 0),
        ({"x-booster-attempts": True}, 0),
        ({"x-booster-attempts": [1]}, 0),
    ],
)
def test_a_junk_attempts_header_counts_as_none(headers: Any, expected: int) -> None:
    assert _attempts_so_far(headers) == expected

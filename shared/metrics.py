"""Prometheus metrics of the platform, defined once (default registry).

Every label value comes from a closed set, so no request can add a time series: the
method is one of :data:`METHODS` or ``other``, the route is the matched rule's template
(or ``<unmatched>``), the status is its class (``2xx`` ... ``5xx``).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"


def method_label(method: str) -> str:
    """A request method as a label: a known one, else ``other``."""
    return method if method in METHODS else "other"


def status_label(status: int) -> str:
    """A response status as a label: its class, ``1xx`` to ``5xx`` (else ``other``)."""
    return f"{status // 100}xx" if 100 <= status <= 599 else "other"


HTTP_REQUESTS = Counter(
    "booster_http_requests_total",
    "HTTP requests served.",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "booster_http_request_duration_seconds",
    "HTTP request latency.",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
EVENTS_PUBLISHED = Counter(
    "booster_events_published_total",
    "Outbox events published to the broker and confirmed.",
    ["service"],
)
EVENTS_HANDLED = Counter(
    "booster_events_handled_total",
    "Consumed events by outcome (handled, duplicate, retried, dead).",
    ["service", "type", "outcome"],
)

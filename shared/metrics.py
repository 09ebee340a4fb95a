"""Prometheus metrics of the platform, defined once (default registry)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

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

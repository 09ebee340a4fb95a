"""Liveness (``/healthz``), readiness (``/readyz``) and Prometheus metrics (``/metrics``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from flask import Blueprint, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from shared.http.problems import problem

UNREACHABLE = "A dependency is unreachable."
Check = Callable[[], None]
"""A readiness check: returns when the dependency is reachable, raises otherwise."""


def health_blueprint(
    checks: Mapping[str, Check], detail: Callable[[], bool] = lambda: True
) -> Blueprint:
    """``detail``: whether the request in hand may see each check's result (operators
    only: ``shared.http.admin``); others see ready or not."""
    blueprint = Blueprint("health", __name__)

    @blueprint.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    @blueprint.get("/readyz")
    def readyz() -> Response:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                check()
                results[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - any failure means not ready
                results[name] = f"unavailable: {type(exc).__name__}"
        ready = all(value == "ok" for value in results.values())
        if not detail():
            return jsonify(status="ready") if ready else problem(503, UNREACHABLE)
        if ready:
            return jsonify(status="ready", checks=results)
        return problem(503, UNREACHABLE, checks=results)

    @blueprint.get("/metrics")
    def metrics() -> Response:
        registry = REGISTRY
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

    return blueprint

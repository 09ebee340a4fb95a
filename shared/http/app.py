"""The app factory pieces every service uses: one call builds a service's Flask app."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask import Flask
from flask_smorest import Blueprint

from shared import auth
from shared.config import Settings
from shared.http import admin, headers, limits, requests
from shared.http.health import Check, health_blueprint
from shared.http.openapi import BoosterApi
from shared.http.problems import register_problem_handlers
from shared.token_cache import CachedTokenVerifier


def create_service_app(
    service: str,
    settings: Settings,
    *,
    blueprints: Iterable[Blueprint] = (),
    checks: Mapping[str, Check] | None = None,
    title: str | None = None,
    version: str = "1.0.0",
) -> Flask:
    """A Flask app with problem+json errors, health, metrics, ids, auth and OpenAPI."""
    app = Flask(f"booster.{service}")
    app.config.update(
        API_TITLE=title or f"Booster Track {service} API",
        API_VERSION=version,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        MAX_CONTENT_LENGTH=1024 * 1024,
        BOOSTER_SETTINGS=settings,
        BOOSTER_SERVICE=service,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    api = BoosterApi(
        app,
        spec_kwargs={
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
            "security": [{"bearerAuth": []}],
        },
    )
    register_problem_handlers(app)
    requests.install(app, service)
    headers.install(app)
    # order matters: the failed-authentication limit before any token is looked at,
    # the write limit and the body checks after authentication (see shared/http/limits)
    verifier = CachedTokenVerifier.from_settings(settings)  # verified tokens remembered
    limits.limit_failed_authentication(app, settings, admin.needs_token)
    admin.install(app, settings, verifier)
    auth.install(app, verifier)
    limits.limit_writes(app, settings)
    requests.check_request_parts(app)
    app.register_blueprint(health_blueprint(checks or {}, admin.detail_allowed(verifier)))
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    app.extensions["booster_api"] = api
    return app

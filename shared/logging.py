"""Structured logs (structlog) on stderr, with the correlation ids bound.

JSON lines for machines (a file, a pipe, a container's log driver), readable console
lines for a person at a terminal: ``json=None`` picks by whether the log stream is a
terminal; ``BOOSTER_LOG_JSON`` (``Settings.log_json``) forces one or the other.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

QUIET = ("amqp", "kombu", "urllib3", "alembic.runtime.migration", "werkzeug")
"""Loggers kept at WARNING or above. ``werkzeug``: its development server (``booster
run``) logs every request itself, and the access log (``shared.http.requests``) already
logs each one, with its ids."""


def wants_json(json: bool | None, stream: TextIO) -> bool:
    """JSON if asked for; if not said (None), JSON unless ``stream`` is a terminal."""
    if json is not None:
        return json
    isatty = getattr(stream, "isatty", None)
    try:
        return not (isatty is not None and isatty())
    except ValueError:  # a closed stream
        return True


def configure_logging(
    level: str = "INFO", json: bool | None = None, stream: TextIO | None = None
) -> None:
    """Route structlog and the standard library through one renderer on ``stream``
    (stderr): JSON lines, or console lines (``json=None``: console at a terminal)."""
    stream = stream if stream is not None else sys.stderr
    shared_processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor
    if wants_json(json, stream):
        # tracebacks as one string field of the line; the console renders them itself
        shared_processors.append(structlog.processors.format_exc_info)
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=_colors(stream))
    structlog.configure(
        processors=[*shared_processors, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared_processors,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for quiet in QUIET:
        logging.getLogger(quiet).setLevel(max(logging.WARNING, root.level))


def _colors(stream: TextIO) -> bool:
    """Colours at a terminal only (a console-format file stays plain text)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger named after its module."""
    return structlog.get_logger(name)

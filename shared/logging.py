"""Structured logs (structlog) on stderr, with the correlation ids bound.

JSON lines for machines (a file, a pipe, a container's log driver), readable console
lines for a person at a terminal: ``json=None`` picks by whether the log stream is a
terminal; ``BOOSTER_LOG_JSON`` (``Settings.log_json``) forces one or the other.

The platform's own loggers (:func:`get_logger`) render their lines and write them
straight to the stream; only the libraries' records (kombu, gunicorn, SQLAlchemy...) go
through :mod:`logging`, rendered by the same processors. (An access line through
:mod:`logging` cost about a tenth of a cached read.) Where the lines go, their format
and the level live in :data:`OUTPUT`, read on every line, so a later
:func:`configure_logging` is obeyed by loggers already in use.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, TextIO

import orjson
import structlog

Logger = structlog.typing.FilteringBoundLogger

QUIET = ("amqp", "kombu", "urllib3", "alembic.runtime.migration", "werkzeug")
"""Loggers kept at WARNING or above. ``werkzeug``: its development server (``booster
run``) logs every request itself, and the access log (``shared.http.requests``) already
logs each one, with its ids."""

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "msg": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "err": logging.ERROR,
    "exception": logging.ERROR,
    "critical": logging.CRITICAL,
    "fatal": logging.CRITICAL,
}


def _dumps(value: Any, default: Callable[[Any], Any] | None = None) -> str:
    return orjson.dumps(value, default=default, option=orjson.OPT_NON_STR_KEYS).decode()


JSON_RENDERER = structlog.processors.JSONRenderer(serializer=_dumps)


@dataclass
class Output:
    """Where the platform's own lines go, how they look, and from which level."""

    stream: TextIO = field(default_factory=lambda: sys.stderr)
    level: int = logging.INFO
    json: bool = True
    renderer: structlog.types.Processor = JSON_RENDERER
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


OUTPUT = Output()


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
    """Render structlog and the standard library alike on ``stream`` (stderr): JSON
    lines, or console lines (``json=None``: console at a terminal)."""
    stream = stream if stream is not None else sys.stderr
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    as_json = wants_json(json, stream)
    renderer: structlog.types.Processor = (
        JSON_RENDERER if as_json else structlog.dev.ConsoleRenderer(colors=_colors(stream))
    )
    OUTPUT.stream, OUTPUT.level, OUTPUT.json, OUTPUT.renderer = stream, numeric, as_json, renderer
    structlog.configure(
        processors=[_at_level, structlog.stdlib.add_logger_name, *_SHARED, _render],
        logger_factory=_Writer,
        wrapper_class=structlog.make_filtering_bound_logger(logging.NOTSET),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *_SHARED],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _render],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    for quiet in QUIET:
        logging.getLogger(quiet).setLevel(max(logging.WARNING, root.level))


EventDict = MutableMapping[str, Any]


def _at_level(_logger: Any, method: str, event: EventDict) -> EventDict:
    """Drop a line below the level, or one that :func:`logging.disable` silences."""
    level = LEVELS.get(method, logging.INFO)
    if level < OUTPUT.level or level <= logging.root.manager.disable:
        raise structlog.DropEvent
    return event


def _exc_info(logger: Any, method: str, event: EventDict) -> EventDict:
    """Tracebacks as one string field of a JSON line; the console renders them itself."""
    return structlog.processors.format_exc_info(logger, method, event) if OUTPUT.json else event


def _render(logger: Any, method: str, event: EventDict) -> str:
    rendered = OUTPUT.renderer(logger, method, event)
    assert isinstance(rendered, str)
    return rendered


_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    _exc_info,
]


class _Writer:
    """structlog's logger: writes each rendered line to :data:`OUTPUT`'s stream; its
    ``name`` is the ``logger`` field."""

    def __init__(self, name: str = "") -> None:
        self.name = name

    def msg(self, message: str) -> None:
        with OUTPUT.lock:
            OUTPUT.stream.write(message + "\n")
            OUTPUT.stream.flush()

    log = debug = info = warn = warning = error = err = critical = exception = fatal = msg


def _colors(stream: TextIO) -> bool:
    """Colours at a terminal only (a console-format file stays plain text)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def get_logger(name: str) -> Logger:
    """A structlog logger named after its module (the ``logger`` field of its lines)."""
    logger: Logger = structlog.get_logger(name)  # lazy: configured at first use
    return logger

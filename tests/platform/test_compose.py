"""docker-compose.yml, proved without a Docker engine: the Compose Specification's JSON
schema (shipped by the pinned check-jsonschema, run offline), and what the design and
the code say the file must hold: real ``booster`` commands, variables the configuration
knows with values it accepts, the design's ports, health checks and start order."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from booster.platform import SERVICE_NAMES
from shared.config import ConfigError, Settings, admin_port
from tests.platform.deploy import (
    COMPOSE,
    DOCKERFILE,
    KEYS_COMPOSE,
    PORTS,
    ROOT,
    booster_argvs,
    env_example,
    interpolate,
    interpolated_names,
    known_variables,
    load_compose,
    merge_override,
    parse_booster,
    service_environment,
    volume_parts,
)

CHECK_JSONSCHEMA = str(Path(sys.executable).with_name("check-jsonschema"))
INFRASTRUCTURE_PORTS = {"rabbitmq": {5672, 15672}, "mailpit": {8025}}
"""The design's broker, management UI and mail UI ports."""
INIT_SCRIPT = ROOT / "scripts" / "postgres" / "create-databases.sh"
RABBITMQ_CONF = ROOT / "scripts" / "rabbitmq" / "20-definitions.conf"
SECRETS = {
    # what a filled-in .env holds (see .env.example)
    "BOOSTER_JWT_SECRET": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "POSTGRES_PASSWORD": "pg0secret",
    "RABBITMQ_ADMIN_PASS": "mq0admin",
    **{f"RABBITMQ_{name.upper()}_PASS": f"mq0{name}" for name in SERVICE_NAMES},
}
CHECKED_BY_THE_PROCESSES = {"BOOSTER_JWT_SECRET"}
"""Secrets compose does not require itself: empty in the production token mode
(docker-compose.keys.yml); the configuration refuses it missing in HS256 mode."""
COMPOSE_OWN = {"COMPOSE_FILE"}
"""Variables docker compose itself reads from .env."""
ADMIN_PORT = 9000


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


@pytest.fixture(scope="module")
def dotenv() -> dict[str, str]:
    """.env.example with its secrets filled in, as compose would read it."""
    values = {k: v.strip('"') for k, v in env_example().items() if v is not None}
    for name, value in SECRETS.items():
        assert values.get(name) == "", f".env.example leaves {name} for the operator to set"
        values[name] = value
    return values


def _booster_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The services that run the platform's image."""
    return {name: s for name, s in services.items() if "build" in s}


def _port_pairs(service: dict[str, Any]) -> set[tuple[int, int]]:
    pairs = set()
    for entry in service.get("ports", []):
        published, _, target = str(entry).rpartition(":")
        pairs.add((int(published.rpartition(":")[2]), int(target)))
    return pairs


def _health_test(service: dict[str, Any]) -> list[str]:
    test: list[str] = service["healthcheck"]["test"]
    return test


def _role(service: dict[str, Any]) -> tuple[str, str | None]:
    """("serve" | "worker", service name) for an API or a worker, else (what, None)."""
    argv = booster_argvs(service["command"])[0]
    if argv[1] in ("serve", "worker"):
        return argv[1], argv[2]
    return " ".join(argv[1:3]), None


def test_the_file_is_valid_against_the_compose_specification_schema(tmp_path: Path) -> None:
    result = subprocess.run(
        [CHECK_JSONSCHEMA, "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # the same check refuses a file that breaks the specification
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE.read_text().replace("    healthcheck:\n", "    health_check:\n", 1))
    result = subprocess.run(
        [CHECK_JSONSCHEMA, "--builtin-schema", "vendor.compose-spec", str(broken)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "health_check" in result.stdout + result.stderr


def test_every_command_is_a_real_booster_command(services: dict[str, dict[str, Any]]) -> None:
    booster = _booster_services(services)
    assert booster, "no service runs the platform's image"
    for name, service in booster.items():
        command = service["command"]
        assert isinstance(command, list), name
        argvs = booster_argvs(command)  # the command, or each one in a `sh -c` script
        assert argvs, f"{name} runs no booster command"
        for argv in argvs:
            parse_booster(argv[1:])  # raises on an unknown command, option or service


def test_one_image_for_every_process_built_from_the_dockerfile(
    services: dict[str, dict[str, Any]],
) -> None:
    booster = _booster_services(services)
    assert len({repr((s["image"], s["build"])) for s in booster.values()}) == 1
    build = next(iter(booster.values()))["build"]
    assert (ROOT / build["context"] / build.get("dockerfile", "Dockerfile")).is_file()
    for name, service in services.items():
        if name not in booster:
            assert "command" not in service or service["command"][0] != "booster", name


def test_an_api_and_a_worker_per_service_on_the_design_ports(
    services: dict[str, dict[str, Any]],
) -> None:
    default = {n: s for n, s in services.items() if not s.get("profiles")}
    for service in SERVICE_NAMES:
        api, worker = default[f"{service}-api"], default[f"{service}-worker"]
        assert api["command"][:3] == ["booster", "serve", service]
        assert worker["command"] == ["booster", "worker", service]
        port = PORTS[service]
        assert _port_pairs(api) == {(port, port)}
        assert _health_test(api) == [
            "CMD",
            "booster-healthcheck",
            "http",
            f"http://127.0.0.1:{port}/readyz",
        ]
        assert _health_test(worker) == ["CMD", "booster-healthcheck", "broker"]
        assert "ports" not in worker
        serving = [s for s in default.values() if s.get("command", [])[:3] == api["command"][:3]]
        working = [s for s in default.values() if s.get("command") == worker["command"]]
        assert len(serving) == len(working) == 1, f"{service}: one api and one worker by default"
    for name, ports in INFRASTRUCTURE_PORTS.items():
        assert {published for published, _ in _port_pairs(services[name])} == ports, name
        assert {target for _, target in _port_pairs(services[name])} == ports, name
    published = [p for s in services.values() for p, _ in _port_pairs(s)]
    assert len(published) == len(set(published)), "a host port published twice"


def test_the_scale_profile_adds_a_competing_worker_per_service(
    services: dict[str, dict[str, Any]],
) -> None:
    for service in SERVICE_NAMES:
        command = ["booster", "worker", service]
        workers = [s for s in services.values() if s.get("command") == command]
        scaled = [s for s in workers if "scale" in s.get("profiles", [])]
        assert len(workers) == 2 and len(scaled) == 1, service
        first, second = (s for s in workers)
        # the same queue: same settings, same database
        assert first["environment"] == second["environment"]
        assert _health_test(second) == _health_test(first)


def test_health_checks_restart_policies_and_resource_limits_everywhere(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        assert service.get("restart") in ("unless-stopped", "always", "on-failure", "no"), name
        limits = service["deploy"]["resources"]["limits"]
        assert re.fullmatch(r"\d+(\.\d+)?", str(limits["cpus"])), name
        assert re.fullmatch(r"\d+[MG]", str(limits["memory"])), name
        if service["restart"] == "no":  # a one-shot job: its exit status is its health
            continue
        check = service["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert {"interval", "timeout", "retries", "start_period"} <= set(check), name
    for name in ("rabbitmq", "postgres", "mailpit", "redis"):
        assert name in services and "healthcheck" in services[name], name


def test_start_order_waits_for_health_and_for_the_migrations(
    services: dict[str, dict[str, Any]],
) -> None:
    migrate = services["migrate"]
    assert migrate["command"] == ["booster", "db", "upgrade", "all"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name, service in services.items():
        for target, rule in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{name}: {target} has no check"
            else:
                assert rule == {"condition": "service_completed_successfully"}, name
                assert services[target]["restart"] == "no", f"{target} is a one-shot job"
    # the broker's definitions are written before it starts, and loaded at its boot
    definitions = services["broker-definitions"]
    assert definitions["restart"] == "no" and "depends_on" not in definitions
    assert services["rabbitmq"]["depends_on"] == {
        "broker-definitions": {"condition": "service_completed_successfully"}
    }
    for name, service in _booster_services(services).items():
        if name in ("migrate", "seed", "broker-definitions"):
            continue
        needs = service["depends_on"]
        assert needs["migrate"] == {"condition": "service_completed_successfully"}, name
        assert needs["postgres"] == needs["rabbitmq"] == {"condition": "service_healthy"}, name
        if service["command"] == ["booster", "worker", "notifications"]:  # it sends mail
            assert needs["mailpit"] == {"condition": "service_healthy"}, name


def test_every_variable_set_is_one_the_configuration_knows(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        for variable in service.get("environment") or {}:
            if variable.startswith("BOOSTER_"):
                assert variable in known_variables(), f"{name} sets unknown {variable}"
            elif name in _booster_services(services):
                raise AssertionError(f"{name} sets {variable}, not a BOOSTER_ setting")


def test_the_configuration_accepts_every_process_environment(
    services: dict[str, dict[str, Any]], dotenv: dict[str, str]
) -> None:
    """Interpolated with a filled-in .env.example, every process's environment parses
    (production rules included), names its own service's database and the compose
    hosts of the broker, mail and rate-limit store."""
    for name, service in _booster_services(services).items():
        env = service_environment(service, dotenv)
        settings = Settings.from_env(env, services=SERVICE_NAMES)
        assert settings.environment == "production", name
        role, own_service = _role(service)
        broker = settings.for_service(own_service) if own_service else settings
        if role in ("serve", "worker", "broker definitions"):
            assert urlsplit(broker.bus.broker_url).hostname == "rabbitmq", name
        else:  # migrations and the demo data need no broker
            assert broker.bus.broker_url == "memory://", name
        assert settings.smtp_url == "smtp://mailpit:1025", name
        assert urlsplit(settings.ratelimit_storage_url).hostname == "redis", name
        assert settings.host == "0.0.0.0", f"{name}: the API must listen beyond loopback"
        command = service["command"]
        own = {own_service} if own_service else set()
        if command[1:] == ["db", "upgrade", "all"]:
            own = set(SERVICE_NAMES)
        urls = {s for s in SERVICE_NAMES if f"BOOSTER_{s.upper()}_DATABASE_URL" in env}
        assert urls == own, f"{name} gets the database URLs of {sorted(urls)}"
        for service_name in own:
            url = urlsplit(settings.database_url(service_name))
            assert url.hostname == "postgres" and url.path == f"/booster_{service_name}", name


def test_the_database_per_service_is_created_by_the_init_script(
    services: dict[str, dict[str, Any]],
) -> None:
    postgres = services["postgres"]
    mounts = [v for v in postgres["volumes"] if "docker-entrypoint-initdb.d" in v]
    assert len(mounts) == 1
    source, target, mode = mounts[0].split(":")
    assert (ROOT / source).resolve() == INIT_SCRIPT and mode == "ro"
    assert target.startswith("/docker-entrypoint-initdb.d/") and target.endswith(".sh")
    assert INIT_SCRIPT.stat().st_mode & 0o111, "the entrypoint runs it only if executable"
    created = re.search(r"\$\{DATABASES:-([^}]*)\}", INIT_SCRIPT.read_text())
    assert created is not None
    assert created[1].split() == [f"booster_{name}" for name in SERVICE_NAMES]
    # it answers only over TCP, which the image opens after the init scripts ran
    assert "-h 127.0.0.1" in " ".join(_health_test(postgres))


def test_the_init_script_creates_missing_databases_once(postgres_admin_url: str) -> None:
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(postgres_admin_url)
    names = [f"booster_test_init_{uuid.uuid4().hex[:8]}_{n}" for n in ("a", "b")]
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASES": " ".join(names),
        "POSTGRES_USER": admin.username or "postgres",
        "PGHOST": admin.host or "127.0.0.1",
        "PGPORT": str(admin.port or 5432),
        "PGPASSWORD": admin.password or "",
    }
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        for _ in range(2):  # a rerun creates nothing and fails on nothing
            result = subprocess.run(
                ["sh", str(INIT_SCRIPT)], env=env, capture_output=True, text=True, timeout=60
            )
            assert result.returncode == 0, result.stderr
        with psycopg.connect(conninfo, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT datname FROM pg_database WHERE datname = ANY(%s)", (names,)
            ).fetchall()
        assert sorted(row[0] for row in rows) == sorted(names)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_quorum_queues_get_an_explicit_delivery_limit(
    services: dict[str, dict[str, Any]], dotenv: dict[str, str]
) -> None:
    """The code declares every queue as a quorum queue with x-delivery-limit from
    BOOSTER_DELIVERY_LIMIT: compose sets it on every process that declares queues."""
    from booster.broker_setup import definitions
    from shared.bus.topology import Topology

    for name, service in _booster_services(services).items():
        if _role(service)[0] != "worker":
            continue
        env = service_environment(service, dotenv)
        assert "BOOSTER_DELIVERY_LIMIT" in env, name
        bus = Settings.from_env(env, services=SERVICE_NAMES).bus
        arguments = Topology(service["command"][2], ("x.y.z",), bus).queue.queue_arguments
        assert arguments["x-queue-type"] == "quorum"
        assert arguments["x-delivery-limit"] == int(env["BOOSTER_DELIVERY_LIMIT"]) > 0
    # the queues are declared by the definitions RabbitMQ loads, with the same limit
    env = service_environment(services["broker-definitions"], dotenv)
    document = definitions(Settings.from_env(env, services=SERVICE_NAMES))
    main_queues = [q for q in document["queues"] if q["name"].count(".") == 1]
    assert {q["name"] for q in main_queues} == {
        f"booster.{s}" for s in SERVICE_NAMES if s != "registry"
    }
    for queue in main_queues:
        assert queue["arguments"]["x-queue-type"] == "quorum"
        assert queue["arguments"]["x-delivery-limit"] == int(env["BOOSTER_DELIVERY_LIMIT"])
    assert services["rabbitmq"]["image"].endswith("-management")


def test_images_are_pinned(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if "build" in service:
            continue
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and re.match(r"v?\d+\.\d+", tag), f"{name}: pin {image}"
        assert "latest" not in tag, name


def test_every_variable_is_documented_in_the_env_example(
    services: dict[str, dict[str, Any]],
) -> None:
    documented = env_example()
    used = interpolated_names(COMPOSE.read_text())
    used_by_override = interpolated_names(KEYS_COMPOSE.read_text())
    set_by_compose = {v for s in services.values() for v in s.get("environment") or {}}
    # infrastructure images read their own variables (POSTGRES_*, RABBITMQ_*)
    booster_set = {v for v in set_by_compose if v.startswith("BOOSTER_")}
    missing = (used | used_by_override | booster_set | known_variables()) - set(documented)
    assert not missing, f"add to .env.example: {sorted(missing)}"
    stale = (
        set(documented) - used - used_by_override - booster_set - known_variables() - COMPOSE_OWN
    )
    assert not stale, f"in .env.example but used nowhere: {sorted(stale)}"
    # what compose interpolates is set there (left empty where the operator must choose)
    for name in used:
        assert documented[name] is not None, f".env.example: set {name} (uncommented)"
    required = set(re.findall(r"\$\{([A-Z_]+):\?", COMPOSE.read_text()))
    assert required >= set(SECRETS) - CHECKED_BY_THE_PROCESSES, "compose requires the secrets"
    for name in SECRETS:
        assert documented[name] == "", f".env.example must not hold a value for {name}"


def test_the_processes_refuse_to_start_without_the_jwt_secret(
    services: dict[str, dict[str, Any]], dotenv: dict[str, str]
) -> None:
    """Compose lets BOOSTER_JWT_SECRET be empty (the production token mode needs none),
    so in HS256 mode each process itself refuses to start without it, or with a weak one."""
    for secret, refusal in (("", "is required"), ("x" * 40, "must hold at least 8 different")):
        for service in _booster_services(services).values():
            env = service_environment(service, {**dotenv, "BOOSTER_JWT_SECRET": secret})
            with pytest.raises(ConfigError, match=f"BOOSTER_JWT_SECRET {refusal}"):
                Settings.from_env(env, services=SERVICE_NAMES)


def test_interpolation_reads_required_defaults_and_literals() -> None:
    env = {"SET": "v", "EMPTY": ""}
    assert interpolate("${SET}-${EMPTY:-d}-${EMPTY-d}-${UNSET-d}-$${SET}", env) == "v-d--d-${SET}"
    assert interpolate("${SET:?needed}", env) == "v"
    with pytest.raises(ValueError, match="UNSET: needed"):
        interpolate("${UNSET:?needed}", env)
    with pytest.raises(ValueError, match="EMPTY"):
        interpolate("${EMPTY:?x}", env)
    assert interpolated_names("${A:-1} $${B} ${C?x}") == {"A", "C"}


def test_each_api_and_worker_holds_only_its_own_broker_user(
    services: dict[str, dict[str, Any]], dotenv: dict[str, str]
) -> None:
    """No administrator URL in any API or worker: each connects as booster-<service>
    (the user `booster broker definitions` makes from the very same URL), and declares
    nothing. Only broker-definitions holds the administrator's URL."""
    from booster.broker_setup import credentials

    definitions_env = service_environment(services["broker-definitions"], dotenv)
    for name, service in _booster_services(services).items():
        env = service_environment(service, dotenv)
        role, own = _role(service)
        broker_urls = {v for v in env if v.endswith("BROKER_URL")}
        if role == "broker definitions":
            assert broker_urls == {"BOOSTER_BROKER_URL"} | {
                f"BOOSTER_{s.upper()}_BROKER_URL" for s in SERVICE_NAMES
            }, name
            continue
        if own is None:
            assert not broker_urls, f"{name} needs no broker"
            continue
        own_url = f"BOOSTER_{own.upper()}_BROKER_URL"
        assert broker_urls == {own_url}, f"{name} gets {sorted(broker_urls)}"
        assert env[own_url] == definitions_env[own_url], f"{name}: not the user defined"
        settings = Settings.from_env(env, services=SERVICE_NAMES).for_service(own)
        user = credentials(settings.bus.broker_url)
        assert (user.user, user.vhost) == (f"booster-{own}", "/"), name
        assert user.password == dotenv[f"RABBITMQ_{own.upper()}_PASS"], name
        assert settings.bus.declare is False, f"{name} must only check the topology"
    admin = credentials(definitions_env["BOOSTER_BROKER_URL"])
    assert (admin.user, admin.password) == (
        dotenv["RABBITMQ_ADMIN_USER"],
        dotenv["RABBITMQ_ADMIN_PASS"],
    )


def test_rabbitmq_loads_the_definitions_written_before_it_starts(
    services: dict[str, dict[str, Any]], dotenv: dict[str, str]
) -> None:
    """broker-definitions writes `booster broker definitions` into a volume; RabbitMQ
    mounts it read-only and its config loads that file at boot: the administrator and
    every service's user (password hashes), their permissions and the topology."""
    from booster.broker_setup import HASHING, credentials, definitions

    job, rabbitmq = services["broker-definitions"], services["rabbitmq"]
    script = job["command"][2]
    written = re.search(r"mv \S+ (\S+)$", script)
    assert written is not None and "booster broker definitions > " in script
    path = Path(written[1])
    (volume,) = [v for v in job["volumes"] if v.endswith(f":{path.parent}")]
    name = volume.split(":")[0]
    assert name in load_compose()["volumes"], "a named volume, shared with rabbitmq"
    mounts = {v.split(":")[1]: v.split(":") for v in rabbitmq["volumes"]}
    assert mounts[str(path.parent)] == [name, str(path.parent), "ro"]
    # the image's user owns that folder, so a new volume mounted there is writable by it
    assert f"install -d -o booster -g booster -m 0755 {path.parent}" in DOCKERFILE.read_text()

    conf_target = "/etc/rabbitmq/conf.d/20-definitions.conf"
    source, _, mode = mounts[conf_target]
    assert (ROOT / source).resolve() == RABBITMQ_CONF and mode == "ro"
    conf = dict(
        (key.strip(), value.strip())
        for key, _, value in (
            line.partition("=")
            for line in RABBITMQ_CONF.read_text().splitlines()
            if line.strip() and not line.startswith("#")
        )
    )
    assert conf == {
        "definitions.import_backend": "local_filesystem",
        "definitions.local.path": str(path),
    }
    # RabbitMQ creates no default user when it loads definitions: none is configured
    assert not any(v.startswith("RABBITMQ_DEFAULT") for v in rabbitmq.get("environment", {}))

    env = service_environment(job, dotenv)
    document = definitions(Settings.from_env(env, services=SERVICE_NAMES))
    assert document["vhosts"] == [{"name": "/"}]
    users = {user["name"]: user for user in document["users"]}
    admin = credentials(env["BOOSTER_BROKER_URL"]).user
    assert set(users) == {admin} | {f"booster-{s}" for s in SERVICE_NAMES}
    assert users[admin]["tags"] == ["administrator"]
    for user in users.values():
        assert user["hashing_algorithm"] == HASHING and user["password_hash"]
        assert "password" not in user
    assert {p["user"] for p in document["permissions"]} == set(users)
    assert {p["user"] for p in document["topic_permissions"]} == set(users) - {admin}
    assert all(p["configure"] == "^$" for p in document["permissions"] if p["user"] != admin)
    assert {e["name"] for e in document["exchanges"]} >= {"booster.events"}


def test_the_admin_listener_is_on_every_api_and_never_published(
    services: dict[str, dict[str, Any]], dotenv: dict[str, str]
) -> None:
    for name, service in _booster_services(services).items():
        env = service_environment(service, dotenv)
        role = _role(service)[0]
        if role != "serve":
            assert "BOOSTER_ADMIN_BIND" not in env, f"{name} serves no HTTP"
            continue
        bind = Settings.from_env(env, services=SERVICE_NAMES).admin_bind
        assert bind is not None and bind.rpartition(":")[0] == "0.0.0.0", name
        assert admin_port(bind) == ADMIN_PORT, name
        assert ADMIN_PORT not in {p for pair in _port_pairs(service) for p in pair}, name
        assert service.get("expose") == [str(ADMIN_PORT)], name
        # the orchestrator's health check stays on the public port's /readyz
        assert _health_test(service)[-1].endswith(f":{PORTS[_role(service)[1] or '']}/readyz")
    published = {p for s in services.values() for pair in _port_pairs(s) for p in pair}
    assert ADMIN_PORT not in published


def test_the_keys_override_is_valid_against_the_compose_specification_schema() -> None:
    result = subprocess.run(
        [CHECK_JSONSCHEMA, "--builtin-schema", "vendor.compose-spec", str(KEYS_COMPOSE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_keys_override_gives_every_process_public_keys_and_no_secret(
    services: dict[str, dict[str, Any]], dotenv: dict[str, str], tmp_path: Path
) -> None:
    """docker-compose.keys.yml (the production token mode) covers every process of the
    image: each verifies EdDSA tokens with the JWKS mounted read-only, holds no HMAC
    secret (even if .env still has one) and no private key, so none can mint a token."""
    from shared.auth import TokenIssuer
    from shared.keys import add_key, generate_private_key, public_jwk, read_jwks, write_jwks

    override = load_compose(KEYS_COMPOSE)
    merged = merge_override(load_compose(), override)
    booster = _booster_services(merged)
    assert set(override["services"]) == set(booster), "every process of the image"
    jwks = tmp_path / "jwks.json"
    write_jwks(jwks, add_key(read_jwks(jwks), public_jwk(generate_private_key("EdDSA"))))
    for name, service in booster.items():
        env = service_environment(service, dotenv)  # the .env secret is still there
        mounts = {volume_parts(v)[1]: volume_parts(v) for v in service["volumes"]}
        source, _, mode = mounts[str(Path(env["BOOSTER_JWT_JWKS"]).parent)]
        assert mode == "ro", f"{name}: mount the key set read-only"
        assert interpolate(source, dotenv) == "./keys/public", name
        env["BOOSTER_JWT_JWKS"] = str(jwks)  # the mounted file, here
        settings = Settings.from_env(env, services=SERVICE_NAMES)
        assert settings.jwt_algorithm == "EdDSA" and settings.asymmetric_tokens, name
        assert settings.jwt_secret == "" and settings.jwt_private_key is None, name
        with pytest.raises(ValueError, match="BOOSTER_JWT_PRIVATE_KEY"):
            TokenIssuer.from_settings(settings)

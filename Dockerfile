# syntax=docker/dockerfile:1
# One image for every process of the platform: each service's API (`booster serve S`),
# worker (`booster worker S`) and the migrations (`booster db upgrade all`); the
# command comes from docker-compose.yml. Build: `docker compose build` (or
# `docker build -t booster-track .`). Nothing secret is baked in: configuration is
# environment variables at run time (.env.example lists them).
# Checked by tests/platform/test_dockerfile.py (hadolint, and the rules it states).

# --- builder: a virtualenv with the project and exactly the versions in requirements.lock
FROM python:3.11.13-slim-bookworm AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml requirements.lock README.md ./
COPY booster/ booster/
COPY shared/ shared/
COPY services/ services/
RUN /opt/venv/bin/pip install --no-cache-dir -c requirements.lock . \
    && /opt/venv/bin/python -m compileall -q /opt/venv/lib

# --- runtime: the same slim Python, the virtualenv, a non-root user; no compilers
FROM python:3.11.13-slim-bookworm AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    BOOSTER_HOST=0.0.0.0

# /definitions: where compose's one-shot `broker-definitions` writes RabbitMQ's
# definitions; a new named volume mounted there takes this owner, so uid 10001 can write
RUN groupadd --system --gid 10001 booster \
    && useradd --system --uid 10001 --gid booster --create-home --home-dir /app \
       --shell /usr/sbin/nologin booster \
    && install -d -o booster -g booster -m 0755 /definitions

COPY --from=builder /opt/venv /opt/venv
COPY --chmod=0755 scripts/healthcheck.py /usr/local/bin/booster-healthcheck

WORKDIR /app
USER 10001:10001

EXPOSE 8001 8002 8003 8004
CMD ["booster", "--help"]

# syntax=docker/dockerfile:1
# Followup: one image for the app and the worker (`followup worker`). Runs under any UID
# (group 0 may write /data) and takes every setting from the environment (README "Settings").
# Release builds set VERSION and REVISION (.github/workflows/release.yml); docker/build-local.sh
# builds it with podman where no registry is reachable.
FROM docker.io/library/python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
# The dependencies first, from pyproject.toml alone: this layer stays cached until they change.
COPY pyproject.toml constraints.txt ./
RUN --mount=type=cache,target=/root/.cache/pip \
    python -m venv /venv \
    && python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && /venv/bin/pip install -c constraints.txt -r requirements.txt
# Then the code: the wheel carries templates/ and alembic/ (setup.py).
COPY README.md LICENSE MANIFEST.in setup.py alembic.ini ./
COPY app ./app
COPY templates ./templates
COPY alembic ./alembic
RUN --mount=type=cache,target=/root/.cache/pip \
    /venv/bin/pip install -c constraints.txt --no-deps . \
    # No pip or setuptools left in the runtime venv: nothing there installs packages.
    && /venv/bin/pip uninstall --yes pip setuptools wheel \
    && find /venv -name __pycache__ -prune -exec rm -rf {} +

FROM docker.io/library/python:3.11-slim-bookworm
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="Followup" \
      org.opencontainers.image.description="Follow up after every job interview: thank-you notes and status checks, drafted, scheduled and tracked." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11-slim-bookworm"
# FORWARDED_ALLOW_IPS: X-Forwarded-For/-Proto are trusted from loopback and private networks
# only (the proxy in front sits on one), so nobody reaching the port directly can pick the
# address the login throttle counts. FOLLOWUP_PORT: where serve listens and healthcheck asks.
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    DATABASE_URL=sqlite:////data/followup.db \
    FOLLOWUP_DATA_DIR=/data \
    FOLLOWUP_PORT=8000 \
    FORWARDED_ALLOW_IPS=127.0.0.1,::1,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7
# postgresql-client 15 (Debian bookworm's): pg_dump and pg_restore for `followup backup` and
# `followup restore`; it dumps servers up to 15 (README "Backups" for a newer one).
# /data belongs to group 0 and is group-writable: any UID the platform picks (group 0) writes.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && echo "followup:x:10001:0:Followup:/tmp:/usr/sbin/nologin" >> /etc/passwd \
    && mkdir -p /data && chown 10001:0 /data && chmod 2775 /data
COPY --from=build /venv /venv
COPY docker/entrypoint.sh /usr/local/bin/followup-entrypoint
WORKDIR /data
USER 10001:0
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["followup", "healthcheck"]
ENTRYPOINT ["followup-entrypoint"]
# Migrates (once, under a lock, FOLLOWUP_MIGRATE=0 to only check) and serves on every interface.
CMD ["followup", "serve", "--host", "0.0.0.0"]

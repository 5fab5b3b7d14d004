# Followup: one image for the app and the worker (`followup worker`). Runs as a non-root user
# and takes every setting from the environment (README "Settings").
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY app ./app
RUN python -m venv /venv && /venv/bin/pip install -c constraints.txt .

FROM python:3.11-slim-bookworm
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite:////data/followup.db \
    FOLLOWUP_DATA_DIR=/data \
    FORWARDED_ALLOW_IPS=*
# postgresql-client (15, as the Postgres in compose.yaml): pg_dump and pg_restore for `followup backup` / `followup restore`.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app followup \
    && mkdir -p /data && chown followup /data
WORKDIR /app
COPY --from=build /venv /venv
COPY alembic.ini ./
COPY alembic ./alembic
COPY templates ./templates
COPY docker/entrypoint.sh /usr/local/bin/followup-entrypoint
USER followup
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["followup-entrypoint"]
# Serves on every interface. X-Forwarded-* is trusted from any address, as the container sits
# behind a proxy on a private network; narrow FORWARDED_ALLOW_IPS to the proxy's if it does not.
CMD ["followup", "serve", "--host", "0.0.0.0", "--port", "8000"]

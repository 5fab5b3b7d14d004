# Followup: one image for the app (and, later, the worker). Runs as a non-root user.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY app ./app
RUN python -m venv /venv && /venv/bin/pip install -c constraints.txt .

FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite:////data/followup.db \
    FOLLOWUP_DATA_DIR=/data
RUN useradd --system --uid 10001 --home-dir /app followup \
    && mkdir -p /data && chown followup /data
WORKDIR /app
COPY --from=build /venv /venv
COPY alembic.ini ./
COPY alembic ./alembic
COPY templates ./templates
USER followup
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
# Applies pending migrations, then serves. Trust X-Forwarded-* only from your proxy.
CMD ["followup", "serve", "--host", "0.0.0.0", "--port", "8000", "--forwarded-allow-ips", "*"]

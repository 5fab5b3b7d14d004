"""The `followup` executable: `followup healthcheck` answers without loading the app (a
container runs it every 30 s: urllib only, ~3x faster to start); the rest is app.cli."""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request


def default_port() -> int:
    """Where `followup serve` listens unless told: $FOLLOWUP_PORT, else 8000."""
    value = os.environ.get("FOLLOWUP_PORT", "")
    return int(value) if value.isdigit() else 8000


def healthcheck(port: int, timeout: float) -> int:
    """0 when the local server answers /healthz with 200, else 1 (with the reason)."""
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            if answer.status == 200:
                return 0
            print(f"unhealthy: {url} answered {answer.status}", file=sys.stderr)
    except (urllib.error.URLError, OSError) as error:
        print(f"unhealthy: {url}: {error}", file=sys.stderr)
    return 1


def add_healthcheck_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port", type=int, default=default_port(), help="$FOLLOWUP_PORT, else 8000"
    )
    parser.add_argument("--timeout", type=float, default=4.0, metavar="SECONDS")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["healthcheck"]:
        parser = argparse.ArgumentParser(prog="followup healthcheck")
        add_healthcheck_arguments(parser)
        options = parser.parse_args(args[1:])
        return healthcheck(options.port, options.timeout)
    from app.cli import main as cli_main

    return cli_main(args)

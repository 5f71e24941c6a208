"""The SPOT api-gateway: a small FastAPI app that reports the environment it runs in.

Served by uvicorn; in dev the source is mounted read-write and uvicorn --reload picks
up edits (the spec's hot reload). GET /health is what the stack tests and
`reconcile status` users look at.
"""

from __future__ import annotations

import logging
import os

import psycopg2
from fastapi import FastAPI

APP_ENV = os.environ.get("APP_ENV", "")
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
GREETING = "spot api-gateway"

logging.basicConfig(level=LOG_LEVEL, format="%(levelname)s api-gateway: %(message)s")
log = logging.getLogger("api-gateway")
app = FastAPI(title="SPOT api-gateway")


def database_answers() -> bool:
    """True when PostgreSQL accepts a connection and answers SELECT 1."""
    try:
        with (
            psycopg2.connect(os.environ["DATABASE_URL"], connect_timeout=2) as conn,
            conn.cursor() as cur,
        ):
            cur.execute("SELECT 1")
            return bool(cur.fetchone() == (1,))
    except (KeyError, psycopg2.Error) as exc:
        log.warning("database check failed: %s", exc)
        return False


@app.get("/")
def root() -> dict[str, str]:
    return {"service": "api-gateway", "message": GREETING, "app_env": APP_ENV}


@app.get("/health")
def health() -> dict[str, object]:
    db_ok = database_answers()
    return {
        "status": "ok" if db_ok else "degraded",
        "app_env": APP_ENV,
        "log_level": LOG_LEVEL,
        "database": db_ok,
        "reload": os.environ.get("UVICORN_RELOAD", "") == "true",
    }

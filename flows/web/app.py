"""`axiswatch web`: the analyst's workbench, a Starlette app served by uvicorn.

Server-rendered HTML (Jinja2, autoescaping on) and one small script; every asset is served from
flows/web/static. It reads the warehouse read-only in short windows (flows/web/webdb.py) and
writes labels through the warehouse sink, which spools them while the pipeline holds the lock.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from flows.settings import SEEDS_DIR, Settings
from flows.web.guard import Guard, is_loopback
from flows.web.handlers import Pages
from flows.web.webdb import WebStore
from warehouse.db import WarehouseError

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
POLICY_FILE = SEEDS_DIR / "stance-dev" / "README.md"
LABEL_KEYS = {"1": "washington", "2": "hedge", "3": "beijing", "4": "irrelevant"}


class WebError(ValueError):
    """The web server cannot start as asked (e.g. a public address without a token)."""


def safe_url(value: Any) -> str:
    """The URL if it is http(s), else '' (no javascript:, data: or other schemes in links)."""
    text = str(value or "").strip()
    return text if urlsplit(text).scheme.lower() in ("http", "https") else ""


def number(value: Any, digits: int = 2) -> str:
    """A float with a sign and fixed digits, or an en dash for None."""
    return "–" if value is None else f"{float(value):+.{digits}f}"


def when(value: Any) -> str:
    """A date (YYYY-MM-DD) of a datetime, or an en dash."""
    return (
        value.strftime("%Y-%m-%d") if isinstance(value, datetime) else ("–" if value is None else str(value))
    )


def moment(value: Any, timezone: str = "UTC") -> str:
    """A time with its zone ('2026-12-07 16:40 KST'), in ``timezone``; naive times are UTC."""
    if not isinstance(value, datetime):
        return "–" if value is None else str(value)
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")


def environment(timezone: str = "UTC") -> Environment:
    """The Jinja2 environment: templates of flows/web/templates, autoescaping always on; times are
    shown in ``timezone`` with the zone named."""
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    env.filters.update({"safe_url": safe_url, "num": number, "when": when})
    env.filters["moment"] = lambda value: moment(value, timezone)
    env.globals["label_keys"] = LABEL_KEYS
    return env


def create_app(settings: Settings, token: str | None = None, *, ttl: float = 5.0) -> Starlette:
    """The web app on the warehouse of ``settings``; ``token`` None means loopback-only access."""
    store = WebStore(settings.location, settings.sink(), timezone=settings.timezone, ttl=ttl)
    log.info("warehouse %s: %s", settings.location, store.prepare())
    pages = Pages(store, environment(settings.timezone), POLICY_FILE)
    routes = [
        Route("/", pages.dashboard),
        Route("/week", pages.week),
        Route("/article/{article_id}", pages.article),
        Route("/queue", pages.queue),
        Route("/label", pages.post_label, methods=["POST"]),
        Route("/labels", pages.labels),
        Route("/search", pages.search),
        Route("/sources", pages.sources),
        Route("/alerts", pages.alerts),
        Route("/alerts/{alert_id}", pages.alert),
        Route("/alerts/{alert_id}/ack", pages.post_alert_action, methods=["POST"]),
        Route("/agreement", pages.agreement),
        Route("/login", pages.dashboard),  # answered by the Guard when a token is set
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(Guard, token=token)],
        exception_handlers={WarehouseError: busy},
    )
    app.state.store = store
    return app


async def busy(request: Request, exc: Exception) -> Response:
    """A page the warehouse could not serve now (locked by a writer beyond our patience)."""
    return PlainTextResponse(f"the warehouse is busy, try again in a moment: {exc}", status_code=503)


def check_binding(host: str, token: str | None) -> None:
    """Refuse to bind a non-loopback address without a token."""
    if not is_loopback(host) and not token:
        raise WebError(f"binding {host} exposes the workbench beyond this machine: set --token")


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8765, token: str | None = None) -> None:
    """Run the app with uvicorn until interrupted."""
    import uvicorn

    check_binding(host, token)
    app = create_app(settings, token)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)

"""The pages of `axiswatch web`: each handler reads through the WebStore and renders a template."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode

from jinja2 import Environment
from markupsafe import escape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from flows.alerts import listing as alert_reads
from flows.web import reads
from flows.web.cache import BoundedCache
from flows.web.guard import check_csrf
from flows.web.kappa import agreement
from flows.web.policy import label_policy
from flows.web.svgplot import chart
from flows.web.textsearch import search_articles
from flows.web.webdb import WebStore
from warehouse.alerts_ops import AlertError
from warehouse.db import WarehouseLocked
from warehouse.labels_ops import LabelError

ANALYST_COOKIE = "axiswatch_analyst"
CSRF_MARK = "csrf-0f3b9d2c7a41e6d8"  # placeholders in a cached page, replaced per request
ANALYST_MARK = "analyst-5e1c0a9b7d3f2846"
MAX_SKIPS = 200
KIND_NAMES = {"country": "country", "kind": "outlet kind", "affiliation": "affiliation"}
MAX_CACHED_PAGES = 500


class Pages:
    """Request handlers bound to one store, template environment and label policy file."""

    def __init__(self, store: WebStore, env: Environment, policy_file: Any) -> None:
        """Keep what every page needs."""
        self.store = store
        self.env = env
        self.policy_file = policy_file
        self._html = BoundedCache(max_entries=MAX_CACHED_PAGES)

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        """Render a template with the page's CSRF token and analyst name."""
        context |= {"csrf": request.state.csrf, "analyst": analyst_of(request), "path": request.url.path}
        return HTMLResponse(self.env.get_template(name).render(**context), status_code=status)

    def render_cached(self, request: Request, name: str, data_key: Any, **context: Any) -> HTMLResponse:
        """Render a read-only page once per version of its cached data; only the CSRF token and
        the analyst name differ between requests (filled in as escaped text)."""
        key = (name, data_key, str(request.url))
        stamp = self.store.stamp(data_key)
        cached = self._html.get(key)
        if cached is None or cached[0] != stamp or stamp is None:
            context |= {"csrf": CSRF_MARK, "analyst": ANALYST_MARK, "path": request.url.path}
            cached = (stamp, self.env.get_template(name).render(**context))
            self._html[key] = cached
        page = cached[1].replace(CSRF_MARK, request.state.csrf)
        return HTMLResponse(page.replace(ANALYST_MARK, str(escape(analyst_of(request)))))

    async def read(self, key: Any, fn: Any, *, fresh: bool = False, patience: float | None = None) -> Any:
        """A cached read straight from the event loop, else a warehouse read in a worker thread."""
        hit = None if fresh else self.store.peek(key)
        if hit is not None:
            return hit
        return await run_in_threadpool(lambda: self.store.read(key, fn, fresh=fresh, patience=patience))

    async def dashboard(self, request: Request) -> Response:
        """Weekly index, all outlets and per group of the chosen kind."""
        kind = request.query_params.get("kind", "kind")
        kind = kind if kind in reads.GROUP_KINDS else "kind"
        weeks = _int(request.query_params.get("weeks"), 12, 2, 52)
        key = ("weekly", kind, weeks)
        data = await self.read(key, lambda c: reads.weekly(c, kind, weeks))
        return self.render_cached(
            request,
            "dashboard.html",
            key,
            chart=chart(data, kind),
            kind=kind,
            kinds=reads.GROUP_KINDS,
            kind_names=KIND_NAMES,
            weeks=weeks,
        )

    async def week(self, request: Request) -> Response:
        """The articles behind one point of the dashboard."""
        q = request.query_params
        week, kind, value = q.get("week", ""), q.get("group_kind", ""), q.get("group_value", "")
        kind = kind if kind in reads.GROUP_KINDS else ""
        found = await self.read(
            ("week", week, kind, value), lambda c: reads.week_articles(c, week, kind, value)
        )
        return self.render_cached(
            request,
            "week.html",
            ("week", week, kind, value),
            week=week,
            kind=kind,
            value=value,
            articles=found,
        )

    async def article(self, request: Request) -> Response:
        """One article with its passages highlighted by label."""
        article_id = request.path_params["article_id"]
        found = await self.read(("article", article_id), lambda c: reads.article(c, article_id))
        if found is None:
            return self.render(request, "missing.html", status=404, what="article")
        return self.render_cached(request, "article.html", ("article", article_id), a=found)

    async def search(self, request: Request) -> Response:
        """Search articles (BM25, else substring)."""
        query = request.query_params.get("q", "")
        found = await self.read(("search", query), lambda c: search_articles(c, query))
        return self.render(request, "search.html", q=query, results=found)

    async def sources(self, request: Request) -> Response:
        """Source health: last poll, error class, silent weeks."""
        data = await self.read(("sources",), reads.sources)
        return self.render_cached(request, "sources.html", ("sources",), **data)

    async def alerts(self, request: Request) -> Response:
        """Stance-shift alerts, newest first (open ones unless ?all=1)."""
        show_all = request.query_params.get("all") == "1"
        found = await self.read(
            ("alerts", show_all), lambda c: alert_reads.alerts(c, include_closed=show_all)
        )
        return self.render(request, "alerts.html", alerts=found, show_all=show_all)

    async def alert(self, request: Request) -> Response:
        """One alert with its evidence, levels, related series and deliveries."""
        alert_id = request.path_params["alert_id"]
        found = await self.read(("alert", alert_id), lambda c: alert_reads.alert(c, alert_id), fresh=True)
        if found is None:
            return self.render(request, "missing.html", status=404, what="alert")
        return self.render(request, "alert.html", a=found)

    async def post_alert_action(self, request: Request) -> Response:
        """Acknowledge, dismiss or reopen an alert (POST with CSRF token): a new event row."""
        form = {k: v[-1] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        if not check_csrf(request, form):
            return PlainTextResponse("missing or wrong CSRF token; reload the page", status_code=403)
        alert_id, name = (
            request.path_params["alert_id"],
            form.get("analyst", "").strip() or analyst_of(request),
        )
        try:
            await run_in_threadpool(lambda: self.store.alert_event(alert_id, form.get("action", ""), name))
        except AlertError as exc:
            return PlainTextResponse(str(exc), status_code=400)
        return RedirectResponse(f"/alerts/{alert_id}", status_code=303)

    async def agreement(self, request: Request) -> Response:
        """Cohen's kappa between analysts on passages both labelled."""
        pairs = await self.read(("pairs",), reads.label_pairs, fresh=True)
        return self.render(request, "agreement.html", pairs=agreement(pairs))

    async def labels(self, request: Request) -> Response:
        """The newest labels, superseded ones marked."""
        found = await self.read(("labels",), reads.recent_labels, fresh=True)
        return self.render(request, "labels.html", labels=found, pending=self.store.pending)

    async def queue(self, request: Request) -> Response:
        """The next passage to label, with its article context and the label policy."""
        name = analyst_of(request)
        skipped = _skips(request.query_params.get("skip", ""))
        hidden = sorted(set(skipped) | self.store.pending_keys(name))
        filters = queue_filters(request.query_params)
        data = await self.read(
            ("queue", name, tuple(hidden), tuple(sorted(filters.items()))),
            lambda c: reads.queue(c, name, hidden, filters=filters),
            fresh=True,
        )
        return self.render(
            request,
            "queue.html",
            item=(data["items"] or [None])[0],
            remaining=data["remaining"],
            skip=",".join(skipped),
            policy=label_policy(self.policy_file),
            saved=request.query_params.get("saved", ""),
            filters=filters,
            options=data["options"],
            filter_query=urlencode({k: v for k, v in filters.items() if v}),
        )

    async def post_label(self, request: Request) -> Response:
        """Store one label (POST with CSRF token); back to the queue."""
        form = {k: v[-1] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        if not check_csrf(request, form):
            return PlainTextResponse("missing or wrong CSRF token; reload the page", status_code=403)
        name = form.get("analyst", "").strip() or analyst_of(request)
        article_id, ordinal = form.get("article_id", ""), _int(form.get("ordinal"), -1, -1, 10**6)
        fields = {"article_id": article_id, "ordinal": ordinal, "label": form.get("label", "")}
        fields |= {"analyst": name, "note": form.get("note", "")}
        try:
            stored = await self._store_label(article_id, ordinal, fields)
        except LabelError as exc:
            return PlainTextResponse(str(exc), status_code=400)
        if stored is None:
            return PlainTextResponse("no such scored passage", status_code=404)
        back = form.get("next", "") if form.get("next", "").startswith("/article/") else "/queue"
        query = {"skip": form.get("skip", ""), "saved": "stored" if stored else "spooled"}
        query |= {k: v for k, v in queue_filters(form).items() if v and v != "last"}
        response = RedirectResponse(f"{back}?{urlencode(query)}", status_code=303)
        response.set_cookie(ANALYST_COOKIE, name, httponly=True, samesite="strict", max_age=365 * 86400)
        return response

    async def _store_label(self, article_id: str, ordinal: int, fields: dict[str, Any]) -> bool | None:
        """Store a label (True), spool it (False) or find no such passage (None). While another
        process holds the warehouse the passage cannot be read: the label is queued with a write
        that reads the passage itself when it is applied."""
        try:
            shown = await self.read(
                ("passage", article_id, ordinal),
                lambda c: reads.passage(c, article_id, ordinal),
                patience=self.store.write_patience,
            )
        except WarehouseLocked:
            return bool(await run_in_threadpool(lambda: self.store.queue_label(**fields)))
        if not shown:
            return None
        seen = {
            "passage_text": shown["text"],
            "model_version": shown["model_version"],
            "shown_label": shown["label"],
        }
        return bool(await run_in_threadpool(lambda: self.store.add_label(**fields, **seen)))


def queue_filters(params: Any) -> dict[str, str]:
    """The queue's filters from the query string (unknown values of offtopic fall back to 'last')."""
    found = {k: str(params.get(k, ""))[:80] for k in reads.QUEUE_FILTERS}
    offtopic = params.get("offtopic", "last")
    found["offtopic"] = offtopic if offtopic in reads.OFF_TOPIC else "last"
    return found


def analyst_of(request: Request) -> str:
    """The analyst name from the cookie (empty when not set)."""
    return request.cookies.get(ANALYST_COOKIE, "").strip()[:80]


def _skips(raw: str) -> list[str]:
    """Skipped passage keys ('article_id:ordinal') from the query string, capped."""
    return [k for k in raw.split(",") if k and len(k) < 64][-MAX_SKIPS:]


def _int(raw: str | None, default: int, low: int, high: int) -> int:
    """An integer query value within [low, high], else the default."""
    try:
        value = int(raw or "")
    except ValueError:
        return default
    return value if low <= value <= high else default

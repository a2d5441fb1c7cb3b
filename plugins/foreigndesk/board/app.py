"""The board's web app (FastAPI): pages, their JSON, the SVG figures and the desk chief's actions.

Authentication is handed in: ``viewer`` is a FastAPI dependency that returns
the logged-in :class:`Viewer` or raises (401 anonymous, 403 not allowed). The
Airflow plugin (``plugins/foreigndesk_board.py``) builds it from Airflow's own
login; tests and the benchmark can build the same app with another. Every
route depends on it; the actions also require ``Viewer.is_chief``. There is no
route without a check (FastAPI's own /docs and /openapi.json are switched off).
"""


import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, JSONResponse, Response
from foreigndesk.board import i18n, pages, states
from foreigndesk.board.actions import (
    DONE,
    REFUSED,
    RETRY,
    WITHDRAW,
    ActionRequest,
    ChannelsFactory,
    DeskAction,
    Publishing,
    actions_of,
    perform,
)
from foreigndesk.board.chart_data import chart_data
from foreigndesk.board.copies import Reader
from foreigndesk.board.filters import (
    DEFAULT_PERIOD,
    MY_REVIEWS_LOOKBACK,
    PERIODS,
    Filters,
    filter_rows,
    my_reviews,
    parse_moment,
    period_start,
    state_counts,
)
from foreigndesk.board.history import History, article_history, revisions_of
from foreigndesk.board.index import StoredIndex
from foreigndesk.board.rows import Row, TaskStates, collect_rows
from foreigndesk.core.settings import Settings
from foreigndesk.core.store import Store, StoreError


@dataclass(frozen=True)
class Viewer:
    name: str
    is_chief: bool


@dataclass
class Desk:
    """What the app reads: the settings, a way to open the store, and the record copies kept between requests."""

    settings: Settings
    open_store: Callable[[], Store]
    reader: Reader = dataclasses.field(default_factory=Reader)
    #: Airflow's word on the open reviews' tasks (None: the records alone, every open review shown waiting).
    task_states: TaskStates | None = None
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    #: Builds the desk's channels for a withdrawal (from Airflow's Connections); None: withdraw is unavailable.
    channels: ChannelsFactory | None = None
    #: Keep the record copies in the store between starts (:mod:`foreigndesk.board.index`); False: memory only.
    stored_index: bool = True
    index: StoredIndex | None = dataclasses.field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.stored_index:
            self.index = StoredIndex(self.reader)

    def rows(self, since: datetime, now: datetime) -> list[Row]:
        """Every revision active since ``since``: the stored index's days first, then the records."""
        store = self.open_store()
        if self.index is not None:
            self.index.load(store, since, now)
        found = collect_rows(store, self.reader, since, task_states=self.task_states)
        if self.index is not None:
            self.index.save(store)
        return found



ACTION_STATUS = {DONE: 200, REFUSED: 409}
CHART_NAMES = ("flow", "review", "effort", "qa", "failures")


def _filters(outlet: str, language: str, state: str, period: int, q: str) -> Filters:
    if period not in PERIODS:
        raise HTTPException(422, f"period must be one of {list(PERIODS)} (days)")
    if state and state not in states.BY_ID:
        raise HTTPException(422, f"state must be one of {sorted(states.BY_ID)}")
    return Filters(outlet, language, state, period, q[:200])


def _state_json(value: Any) -> Any:
    if isinstance(value, states.State):
        return value.id
    if isinstance(value, dict):
        return {k: _state_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_state_json(v) for v in value]
    return value


def row_json(row: Row) -> dict:
    cells = []
    for cell in row.cells:
        data = {f.name: getattr(cell, f.name) for f in dataclasses.fields(cell)}
        data["channels"] = [{f.name: getattr(c, f.name) for f in dataclasses.fields(c)} for c in cell.channels]
        data["decisions"] = [dataclasses.asdict(d) for d in cell.decisions]
        data["draft"] = dataclasses.asdict(cell.draft) if cell.draft else None
        data["request"] = dataclasses.asdict(cell.request) if cell.request else None
        cells.append(_state_json(data))
    return {"article": dataclasses.asdict(row.article), "latest": row.latest, "cells": cells}


def create_app(desk: Desk, viewer: Callable[..., Any]) -> FastAPI:
    app = FastAPI(title="foreigndesk board", docs_url=None, redoc_url=None, openapi_url=None)
    settings = desk.settings
    zone = ZoneInfo(settings.timezone)
    Who = Annotated[Viewer, Depends(viewer)]

    def chief(request: Request, who: Who) -> Viewer:
        """Actions: the desk chief only, and only from a page of this site (no cross-site form posts)."""
        if not who.is_chief:
            raise HTTPException(403, f"{who.name} is not a desk chief (admin): only admins act on the board")
        origin = request.headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
            raise HTTPException(403, "cross-site action refused")
        return who

    Chief = Annotated[Viewer, Depends(chief)]

    @app.exception_handler(HTTPException)
    async def _refusal(request: Request, error: HTTPException) -> Response:
        if "text/html" in request.headers.get("accept", "") and error.status_code in (401, 403):
            login = "/auth/login?next=" + str(request.url.path)
            text = ("Đăng nhập Airflow để xem bảng điều phối / Log in to Airflow to see the desk board"
                    if error.status_code == 401 else
                    "Bạn không có quyền làm việc này / You are not allowed to do this")
            return HTMLResponse(f'<!doctype html><meta charset="utf-8"><p>{text}. <a href="{login}" target="_top">'
                                f"Login</a></p>", status_code=error.status_code)
        return await http_exception_handler(request, error)

    def view_of(request: Request, who: Viewer) -> pages.View:
        ui = i18n.choose(request.query_params.get("ui"), request.cookies.get(i18n.COOKIE),
                         request.headers.get("accept-language"))
        base = request.scope.get("root_path", "").rstrip("/")
        kept = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "ui"])
        return pages.View(ui, who.name, who.is_chief, base, zone, desk.clock(), settings.outlets, settings.languages,
                          kept)

    def html(request: Request, view: pages.View, text: str, status: int = 200) -> HTMLResponse:
        response = HTMLResponse(text, status_code=status)
        if request.query_params.get("ui") in i18n.UI_LANGUAGES:
            response.set_cookie(i18n.COOKIE, view.ui, max_age=365 * 86400, samesite="lax", httponly=True)
        return response

    def board_rows(filters: Filters, now: datetime) -> tuple[list[Row], list[Row]]:
        since = period_start(now, max(filters.period_days, MY_REVIEWS_LOOKBACK.days))
        everything = desk.rows(since, now)
        start = period_start(now, filters.period_days)
        in_period = [row for row in everything if parse_moment(row.article.registered_at) >= start
                     or any(parse_moment(d.decided_at) >= start for cell in row.cells for d in cell.decisions)]
        return everything, filter_rows(in_period, filters)

    def board_model(filters: Filters, who: Viewer) -> dict[str, Any]:
        now = desk.clock()
        everything, rows = board_rows(filters, now)
        return {"now": now, "rows": rows, "counts": state_counts(rows),
                "mine": my_reviews(everything, who.name),
                "charts": chart_data(rows, period_start(now, filters.period_days), now, settings.languages)}

    FilterArgs = dict(outlet=Query(""), language=Query(""), state=Query(""), period=Query(DEFAULT_PERIOD),
                      q=Query(""))

    @app.get("/", response_class=HTMLResponse)
    def board(request: Request, who: Who, outlet: str = FilterArgs["outlet"], language: str = FilterArgs["language"],
              state: str = FilterArgs["state"], period: int = FilterArgs["period"], q: str = FilterArgs["q"],
              page: int = 1) -> HTMLResponse:
        filters = _filters(outlet, language, state, period, q)
        model = board_model(filters, who)
        view = view_of(request, who)
        return html(request, view, pages.board_page(view, filters, model["rows"], model["counts"], model["mine"],
                                                    model["charts"], page))

    @app.get("/api/board")
    def board_json(who: Who, outlet: str = FilterArgs["outlet"], language: str = FilterArgs["language"],
                   state: str = FilterArgs["state"], period: int = FilterArgs["period"], q: str = FilterArgs["q"]
                   ) -> JSONResponse:
        filters = _filters(outlet, language, state, period, q)
        model = board_model(filters, who)
        return JSONResponse({
            "generated_at": model["now"].isoformat(), "user": who.name, "is_chief": who.is_chief,
            "counts": model["counts"], "rows": [row_json(row) for row in model["rows"]],
            "my_reviews": [{"article_id": r.article.article_id, "revision": r.article.revision, "title": r.article.title,
                            "language": r.language, "attempt": r.attempt, "opened_at": r.opened_at, "link": r.link}
                           for r in model["mine"]],
        })

    @app.get("/api/mine")
    def mine_json(who: Who) -> JSONResponse:
        now = desk.clock()
        everything = desk.rows(period_start(now, MY_REVIEWS_LOOKBACK.days), now)
        return JSONResponse([{"article_id": r.article.article_id, "revision": r.article.revision,
                              "title": r.article.title, "language": r.language, "attempt": r.attempt,
                              "opened_at": r.opened_at, "link": r.link} for r in my_reviews(everything, who.name)])

    @app.get("/api/charts")
    def charts_json(who: Who, outlet: str = FilterArgs["outlet"], language: str = FilterArgs["language"],
                    state: str = FilterArgs["state"], period: int = FilterArgs["period"], q: str = FilterArgs["q"]
                    ) -> JSONResponse:
        data = board_model(_filters(outlet, language, state, period, q), who)["charts"]
        payload = dataclasses.asdict(data)
        payload["effort"] = [{"language": lang, "model": model, "effort": value}
                             for (lang, model), value in data.effort.items()]
        return JSONResponse(payload)

    @app.get("/chart/{name}.svg")
    def chart_svg(name: str, request: Request, who: Who, period: int = FilterArgs["period"],
                  outlet: str = FilterArgs["outlet"], language: str = FilterArgs["language"]) -> Response:
        if name not in CHART_NAMES:
            raise HTTPException(404, f"no chart {name!r}; charts: {', '.join(CHART_NAMES)}")
        data = board_model(_filters(outlet, language, "", period, ""), who)["charts"]
        svg = pages.chart_svgs(data, view_of(request, who))[name]
        return Response(svg, media_type="image/svg+xml")

    def history_of(article_id: str) -> tuple[Store, History]:
        store = desk.open_store()
        try:
            revisions = revisions_of(store, desk.reader, article_id)
        except StoreError:
            revisions = []
        if not revisions:
            raise HTTPException(404, f"no article {article_id!r} in the store")
        return store, article_history(store, desk.reader, revisions)

    def article_html(request: Request, who: Viewer, article_id: str, done: DeskAction | None = None,
                     status: int = 200) -> HTMLResponse:
        store, history = history_of(article_id)
        view = view_of(request, who)
        return html(request, view, pages.history_page(view, history, actions_of(store, article_id), done), status)

    @app.get("/article/{article_id}", response_class=HTMLResponse)
    def article(article_id: str, request: Request, who: Who) -> HTMLResponse:
        return article_html(request, who, article_id)

    @app.get("/api/article/{article_id}")
    def article_json(article_id: str, who: Who) -> JSONResponse:
        store, history = history_of(article_id)
        return JSONResponse({"revisions": [dataclasses.asdict(a) for a in history.revisions],
                             "rows": [row_json(row) for row in history.rows],
                             "actions": [dataclasses.asdict(a) for a in actions_of(store, article_id)]})

    def act(request: Request, who: Viewer, action: ActionRequest) -> Response:
        history_of(action.article_id)  # 404 for an article the store does not hold
        done = perform(desk.open_store(), action, who.name, desk.clock(),
                       Publishing(desk.settings.site_url, desk.channels))
        status = ACTION_STATUS.get(done.outcome, 501)
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse(dataclasses.asdict(done), status_code=status)
        return article_html(request, who, action.article_id, done, status)

    @app.post("/actions/retry")
    def retry(request: Request, who: Chief, article_id: Annotated[str, Form()], revision: Annotated[str, Form()],
              language: Annotated[str, Form()], channel: Annotated[str, Form()]) -> Response:
        return act(request, who, ActionRequest(RETRY, article_id, language, channel, revision))

    @app.post("/actions/withdraw")
    def withdraw(request: Request, who: Chief, article_id: Annotated[str, Form()], reason: Annotated[str, Form()],
                 language: Annotated[str, Form()] = "") -> Response:
        if not reason.strip():
            raise HTTPException(422, "a withdrawal needs a reason; say why the article comes down")
        return act(request, who, ActionRequest(WITHDRAW, article_id, language, reason=reason.strip()[:500]))

    return app

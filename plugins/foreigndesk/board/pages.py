"""The board's HTML: the grid, "My reviews", the figures and one article's history.

Server-rendered, no script and nothing fetched from elsewhere. Every value that
comes from a record (titles, ids, reasons, links) is escaped; links taken from
records are only made clickable when they are http(s).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from html import escape
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from foreigndesk.board import charts, states
from foreigndesk.board.actions import DONE, REFUSED, DeskAction
from foreigndesk.board.chart_data import ChartData
from foreigndesk.board.filters import PERIODS, Filters, MyReview
from foreigndesk.board.history import History
from foreigndesk.board.i18n import t
from foreigndesk.board.rows import LanguageCell, Row
from foreigndesk.core.names import LANGUAGE_NAMES, OUTLET_NAMES

PAGE_SIZE = 100


@dataclass(frozen=True)
class View:
    """Who is looking, in which language, where the board lives."""

    ui: str
    user: str
    is_chief: bool
    base: str  # the board's path prefix, e.g. /foreigndesk
    zone: ZoneInfo
    now: datetime
    outlets: tuple[str, ...]
    languages: tuple[str, ...]
    #: The page's query string without ``ui``, so the language toggle keeps the filters.
    query: str = ""


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;margin:16px;color:#212529;font-size:14px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:22px 0 8px}
a{color:#0b5394}.muted{color:#6c757d}.small{font-size:12px}
header{display:flex;justify-content:space-between;align-items:baseline;flex-wrap:wrap;gap:8px}
.badge{display:inline-block;padding:1px 7px;border-radius:10px;color:#fff;font-size:12px;white-space:nowrap}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #dee2e6;padding:4px 6px;vertical-align:top;text-align:left}
th{background:#f1f3f5}tr.older td{background:#f8f9fa}
.cell .ch{display:block;margin-top:3px;font-size:12px}.cell form{display:inline}
form.filters{display:flex;flex-wrap:wrap;gap:10px;align-items:end}form.filters label{display:flex;flex-direction:column;font-size:12px}
.counts a{text-decoration:none;margin:0 6px 6px 0;display:inline-block}
.charts{display:flex;flex-wrap:wrap;gap:14px}.charts svg{border:1px solid #dee2e6;background:#fff;max-width:100%;height:auto}
.flash{padding:8px 12px;border-radius:6px;margin:8px 0}.flash.done{background:#d8f3dc}.flash.refused,.flash.unavailable{background:#ffe5d9}
button{cursor:pointer}
"""


def _time(view: View, moment: str) -> str:
    if not moment:
        return "—"
    try:
        value = datetime.fromisoformat(moment)
    except ValueError:
        return escape(moment)
    return escape(value.astimezone(view.zone).strftime("%Y-%m-%d %H:%M"))


def _link(url: str, text: str) -> str:
    if url.startswith(("http://", "https://")):
        return f'<a href="{escape(url)}" target="_top" rel="noopener noreferrer">{escape(text)}</a>'
    return escape(text)


def badge(state: states.State, view: View, count: int | None = None) -> str:
    suffix = f" {count}" if count is not None else ""
    return (f'<span class="badge state-{state.id}" data-state="{state.id}" style="background:{state.colour}">'
            f"{escape(states.label(state, view.ui))}{suffix}</span>")


def _query(filters: Filters, **changes: object) -> str:
    params = {"outlet": filters.outlet, "language": filters.language, "state": filters.state,
              "period": filters.period_days, "q": filters.search}
    params.update(changes)
    return urlencode({k: v for k, v in params.items() if v not in ("", None)})


def _page(view: View, title: str, body: list[str]) -> str:
    other = "en" if view.ui == "vi" else "vi"
    toggle = f'?{escape(view.query)}{"&amp;" if view.query else ""}ui={other}'
    role = f" ({t('chief', view.ui)})" if view.is_chief else ""
    return "\n".join([
        "<!doctype html>", f'<html lang="{view.ui}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f'<header><div><h1>{escape(title)}</h1><span class="muted">{t("subtitle", view.ui)}</span></div>',
        f'<div class="small">{t("signed_in", view.ui)} <b id="user">{escape(view.user)}</b>{role} · '
        f'<a id="ui-toggle" href="{toggle}">{"English" if other == "en" else "Tiếng Việt"}</a> · '
        f'<span class="muted">{t("generated", view.ui)} {_time(view, view.now.isoformat())}</span></div></header>',
        *body, "</body></html>",
    ])


def flash(action: DeskAction | None, view: View) -> list[str]:
    if action is None:
        return []
    kind = {DONE: "action_done", REFUSED: "action_refused"}.get(action.outcome, "action_unavailable")
    return [f'<div class="flash {escape(action.outcome)}" id="flash"><b>{t(kind, view.ui)}</b>: '
            f"{escape(action.action)} {escape(action.article_id)} — {escape(action.detail)}</div>"]


# ---- the board -----------------------------------------------------------------------------------


def my_reviews_section(reviews: list[MyReview], view: View) -> list[str]:
    parts = [f'<section id="my-reviews"><h2>{t("my_reviews", view.ui)} ({len(reviews)})</h2>']
    if not reviews:
        return parts + [f'<p class="muted">{t("no_reviews", view.ui)}</p></section>']
    parts.append("<ol>")
    for review in reviews:
        article = review.article
        parts.append(
            f'<li class="my-review" data-language="{escape(review.language)}" '
            f'data-article="{escape(article.article_id)}">[{escape(review.language.upper())}] '
            f"<b>{escape(article.title)}</b> — {escape(OUTLET_NAMES.get(article.outlet, article.outlet))} · "
            f'{t("round", view.ui)} {review.attempt} · {t("opened", view.ui)} {_time(view, review.opened_at)} · '
            f'{_link(review.link, t("open_review", view.ui))}</li>')
    return parts + ["</ol></section>"]


def filters_form(filters: Filters, view: View) -> list[str]:
    def select(name: str, current: str, options: Iterable[tuple[str, str]]) -> str:
        items = [f'<option value="">{t("all", view.ui)}</option>'] + [
            f'<option value="{escape(value)}"{" selected" if value == current else ""}>{escape(text)}</option>'
            for value, text in options]
        return f'<select name="{name}">{"".join(items)}</select>'

    periods = "".join(f'<option value="{days}"{" selected" if days == filters.period_days else ""}>'
                      f'{days} {t("days", view.ui)}</option>' for days in PERIODS)
    outlets = select("outlet", filters.outlet, ((o, OUTLET_NAMES.get(o, o)) for o in view.outlets))
    languages = select("language", filters.language, ((code, LANGUAGE_NAMES.get(code, code)) for code in view.languages))
    channel = " · " + t("channel", view.ui)
    state_names = ((s.id, states.label(s, view.ui) + (channel if s.level == states.CHANNEL else "")) for s in states.ALL)
    return [
        f'<form class="filters" method="get"><input type="hidden" name="ui" value="{view.ui}">',
        f'<label>{t("outlet", view.ui)}{outlets}</label>',
        f'<label>{t("language", view.ui)}{languages}</label>',
        f'<label>{t("state", view.ui)}{select("state", filters.state, state_names)}</label>',
        f'<label>{t("period", view.ui)}<select name="period">{periods}</select></label>',
        f'<label>{t("search", view.ui)}<input type="search" name="q" value="{escape(filters.search)}"></label>',
        f'<button type="submit">{t("apply", view.ui)}</button></form>',
    ]


def counts_section(counts: dict[str, int], filters: Filters, view: View) -> list[str]:
    parts = [f'<section class="counts" id="counts"><h2>{t("counts", view.ui)}</h2>']
    for level, key in ((states.LANGUAGE, "translations"), (states.CHANNEL, "channels")):
        links = [f'<a href="?{escape(_query(filters, state=state.id))}" class="count" data-state="{state.id}" '
                 f'data-count="{counts[state.id]}">{badge(state, view, counts[state.id])}</a>'
                 for state in states.ALL if state.level == level]
        parts.append(f'<div class="level-{level}"><b class="small">{t(key, view.ui)}:</b> {"".join(links)}</div>')
    return parts + ["</section>"]


def _retry_form(view: View, row: Row, cell: LanguageCell, channel: str) -> str:
    fields = {"article_id": row.article.article_id, "revision": row.article.revision, "language": cell.language,
              "channel": channel}
    hidden = "".join(f'<input type="hidden" name="{k}" value="{escape(v)}">' for k, v in fields.items())
    return (f'<form method="post" action="{escape(view.base)}/actions/retry" class="retry">{hidden}'
            f'<button type="submit">{t("retry", view.ui)}</button></form>')


def language_cell_html(view: View, row: Row, cell: LanguageCell) -> str:
    parts = [f'<td class="cell" data-language="{escape(cell.language)}" data-state="{cell.state.id}">',
             badge(cell.state, view)]
    if cell.state is states.IN_REVIEW:
        parts.append(f'<div class="small">{t("with", view.ui)} {escape(", ".join(cell.reviewers))} · '
                     f'{t("round", view.ui)} {cell.attempt}<br>{t("since", view.ui)} {_time(view, cell.since)}<br>'
                     f'{_link(cell.review_link, t("open_review", view.ui))}</div>')
    else:
        holder = f'{t("with", view.ui)} {escape(cell.holder)} · ' if cell.holder else ""
        parts.append(f'<div class="small muted">{holder}{t("since", view.ui)} {_time(view, cell.since)}</div>')
    for channel in cell.channels:
        detail = ""
        if channel.state is states.CHANNEL_PUBLISHED:
            detail = " " + _link(channel.url, "↗") if channel.url else ""
        elif channel.reason:
            detail = f' <span class="reason" title="{escape(channel.reason)}">{escape(channel.reason[:120])}</span>'
        action = _retry_form(view, row, cell, channel.channel) if view.is_chief and channel.state.retryable else ""
        parts.append(f'<span class="ch" data-channel="{escape(channel.channel)}" data-state="{channel.state.id}">'
                     f"{escape(channel.channel)}: {badge(channel.state, view)}{detail} {action}</span>")
    parts.append("</td>")
    return "".join(parts)


def grid_section(rows: list[Row], filters: Filters, view: View, page: int) -> list[str]:
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(1, page), pages)
    shown = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    languages = [lang for lang in view.languages if not filters.language or lang == filters.language]
    parts = [f'<section id="grid"><h2>{t("grid", view.ui)} ({len(rows)})</h2>']
    if not rows:
        return parts + [f'<p class="muted">{t("no_articles", view.ui)}</p></section>']
    head = "".join(f"<th>{escape(lang.upper())} · {escape(LANGUAGE_NAMES.get(lang, lang))}</th>" for lang in languages)
    parts.append(f'<table class="grid"><thead><tr><th>{t("article", view.ui)}</th>{head}</tr></thead><tbody>')
    for row in shown:
        a = row.article
        older = "" if row.latest else f' · <i>{t("older_revision", view.ui)}</i>'
        source = f' · {_link(a.source_url, t("source", view.ui))}' if a.source_url else ""
        cells = {cell.language: cell for cell in row.cells}
        parts.append(
            f'<tr class="{"latest" if row.latest else "older"}" data-article="{escape(a.article_id)}" '
            f'data-revision="{escape(a.revision)}"><td><b>{escape(a.title)}</b><div class="small muted">'
            f"{escape(OUTLET_NAMES.get(a.outlet, a.outlet))} · {escape(a.article_id)} · "
            f'{t("revision", view.ui)} {escape(a.revision[:8])}{older}<br>{t("registered", view.ui)} '
            f'{_time(view, a.registered_at)} · <a href="{escape(view.base)}/article/{escape(a.article_id)}">'
            f'{t("history", view.ui)}</a>{source}</div></td>'
            + "".join(language_cell_html(view, row, cells[lang]) if lang in cells else "<td></td>"
                      for lang in languages) + "</tr>")
    parts.append("</tbody></table>")
    if pages > 1:
        nav = [f'{t("page", view.ui)} {page}/{pages}']
        if page > 1:
            nav.append(f'<a href="?{escape(_query(filters, page=page - 1))}">{t("prev", view.ui)}</a>')
        if page < pages:
            nav.append(f'<a href="?{escape(_query(filters, page=page + 1))}">{t("next", view.ui)}</a>')
        parts.append(f'<p class="pager">{" · ".join(nav)}</p>')
    return parts + ["</section>"]


def chart_svgs(data: ChartData, view: View) -> dict[str, str]:
    """Every figure of the period as an SVG string, by name."""
    no_data = t("no_data", view.ui)
    flow = []
    for n, lang in enumerate(sorted(data.intake)):
        colour = charts.PALETTE[n % len(charts.PALETTE)]
        flow.append(charts.Series(f"{t('in', view.ui)} {lang}", data.intake[lang], colour))
        flow.append(charts.Series(f"{t('published', view.ui)} {lang}", data.published[lang], colour, dashed=True))
    review_langs = list(data.review_hours)
    effort_groups = sorted({lang for lang, _ in data.effort})
    models = sorted({model for _, model in data.effort})
    return {
        "flow": charts.lines(t("chart_flow", view.ui), data.days, flow, no_data),
        "review": charts.grouped_bars(
            t("chart_review", view.ui), review_langs,
            [charts.Series(t("median", view.ui), [data.review_hours[l][0] for l in review_langs], "#2a9d8f"),
             charts.Series(t("p90", view.ui), [data.review_hours[l][1] for l in review_langs], "#e76f51")],
            " h", no_data),
        "effort": charts.grouped_bars(
            t("chart_effort", view.ui), effort_groups,
            [charts.Series(model, [data.effort.get((lang, model), 0.0) for lang in effort_groups]) for model in models],
            "", no_data),
        "qa": charts.hbars(t("chart_qa", view.ui), list(data.qa_findings.items()), "#e9c46a", no_data),
        "failures": charts.hbars(t("chart_failures", view.ui), list(data.channel_failures.items()), "#e63946", no_data),
    }


def board_page(view: View, filters: Filters, rows: list[Row], counts: dict[str, int], mine: list[MyReview],
               data: ChartData, page: int, done: DeskAction | None = None) -> str:
    svgs = chart_svgs(data, view)
    body = [*flash(done, view), *my_reviews_section(mine, view),
            f'<section id="filters"><h2>{t("filters", view.ui)}</h2>', *filters_form(filters, view), "</section>",
            *counts_section(counts, filters, view), *grid_section(rows, filters, view, page),
            f'<section id="charts"><h2>{t("charts", view.ui)}</h2><div class="charts">',
            *(f'<figure data-chart="{name}">{svg}</figure>' for name, svg in svgs.items()), "</div></section>"]
    return _page(view, t("title", view.ui), body)


# ---- one article ---------------------------------------------------------------------------------


def history_page(view: View, history: History, actions: list[DeskAction], done: DeskAction | None = None) -> str:
    latest = history.revisions[-1]
    body = [*flash(done, view), f'<p><a href="{escape(view.base)}/?ui={view.ui}">← {t("back", view.ui)}</a></p>',
            f"<h2>{escape(latest.title)}</h2>",
            f'<p class="small">{escape(OUTLET_NAMES.get(latest.outlet, latest.outlet))} · {escape(latest.article_id)}'
            + (f' · {_link(latest.source_url, t("source", view.ui))}' if latest.source_url else "") + "</p>"]
    for row in reversed(history.rows):
        a = row.article
        body.append(f'<section class="revision" data-revision="{escape(a.revision)}"><h2>{t("revision", view.ui)} '
                    f'{escape(a.revision[:8])} · {t("registered", view.ui)} {_time(view, a.registered_at)}</h2>')
        body.append(f'<table><thead><tr><th>{t("language", view.ui)}</th><th>{t("state", view.ui)}</th>'
                    f'<th>{t("decisions", view.ui)}</th><th>{t("publications", view.ui)}</th></tr></thead><tbody>')
        for cell in row.cells:
            decisions = "<br>".join(
                f'#{d.attempt} {escape(d.outcome)} · {escape(d.reviewer or "—")} · {_time(view, d.decided_at)} · '
                f'{t("edit_distance", view.ui)} {d.edit_distance}/{d.machine_words}'
                + (f' · “{escape(d.note[:200])}”' if d.note else "") for d in cell.decisions) or "—"
            publications = "<br>".join(
                f"{escape(c.channel)}: {badge(c.state, view)} {_time(view, c.since)} "
                + (_link(c.url, "↗") if c.url else escape(c.reason[:160])) for c in cell.channels) or "—"
            body.append(f'<tr><td>{escape(LANGUAGE_NAMES.get(cell.language, cell.language))}</td>'
                        f"<td>{badge(cell.state, view)}</td><td class=small>{decisions}</td>"
                        f"<td class=small>{publications}</td></tr>")
        body.append("</tbody></table></section>")
    body.append(f'<section id="actions"><h2>{t("actions", view.ui)}</h2>')
    if actions:
        body.append(f'<table><thead><tr><th>{t("when", view.ui)}</th><th>{t("who", view.ui)}</th>'
                    f'<th>{t("what", view.ui)}</th><th>{t("outcome", view.ui)}</th></tr></thead><tbody>')
        for action in actions:
            what = " ".join(filter(None, [action.action, action.language, action.channel, action.reason]))
            body.append(f"<tr><td>{_time(view, action.requested_at)}</td><td>{escape(action.actor)}</td>"
                        f"<td>{escape(what)}</td><td>{escape(action.outcome)}: {escape(action.detail)}</td></tr>")
        body.append("</tbody></table>")
    else:
        body.append(f'<p class="muted">{t("no_actions", view.ui)}</p>')
    if view.is_chief:
        options = "".join(f'<option value="{escape(lang)}">{escape(LANGUAGE_NAMES.get(lang, lang))}</option>'
                          for lang in latest.languages)
        body.append(
            f'<form method="post" action="{escape(view.base)}/actions/withdraw" class="withdraw">'
            f'<input type="hidden" name="article_id" value="{escape(latest.article_id)}">'
            f'<label>{t("language", view.ui)} <select name="language"><option value="">'
            f'{t("all_languages", view.ui)}</option>{options}</select></label> '
            f'<label>{t("withdraw_reason", view.ui)} <input name="reason" required maxlength="500"></label> '
            f'<button type="submit">{t("withdraw", view.ui)}</button></form>')
    body.append("</section>")
    return _page(view, f'{t("title", view.ui)} — {latest.title}', body)


def message_page(view: View, title: str, text: str) -> str:
    return _page(view, title, [f"<p>{escape(text)}</p>",
                               f'<p><a href="{escape(view.base)}/">← {t("back", view.ui)}</a></p>'])

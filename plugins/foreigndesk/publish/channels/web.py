"""Channel 3: the Dynamic Thainguyen web section — static HTML in the store, for static hosting.

One page per article and language at ``web/<lang>/<article>.html`` (public URL
``<site>/<lang>/<article>.html``) and one index per language at
``web/<lang>/index.html``. Every version of an article lists every published
version, itself included, plus ``x-default`` (English when it is out, else the
first language that is): the alternates are reciprocal because all versions of
an article are rewritten together whenever one of them changes. A new revision
rewrites the same page at the same URL.
"""

from __future__ import annotations

from foreigndesk.core.names import (
    DEMO_NOTICE,
    LANGUAGE_NAMES,
    LANGUAGE_TAGS,
    OG_LOCALES,
    TARGET_LANGUAGES,
)
from foreigndesk.publish.channels import Catalogue, CatalogueItem, Publication
from foreigndesk.publish.channels.render import (
    public_summary,
    render_markdown,
    safe_url,
    text,
)
from foreigndesk.publish.channels.events import json_ld_script
from foreigndesk.publish.channels.validate import clean_text, write_output
from foreigndesk.publish.channels.video import EMPTY_WEBVTT, video_element, vtt_key

NAME = "web"
SITE_NAME = "Dynamic Thainguyen"
HOME_TITLES = {"en": "Dynamic Thainguyen — news from Thái Nguyên", "zh": "活力太原 — 太原省新闻",
               "ko": "다이내믹 타이응우옌 — 타이응우옌성 소식"}


def page_key(language: str, article_id: str) -> str:
    return f"web/{language}/{article_id}.html"


def index_key(language: str) -> str:
    return f"web/{language}/index.html"


def page_url(site_url: str, language: str, article_id: str) -> str:
    return f"{site_url}/{language}/{article_id}.html"


def index_url(site_url: str, language: str) -> str:
    return f"{site_url}/{language}/"


def _ordered(languages: set[str]) -> list[str]:
    order = {language: number for number, language in enumerate(TARGET_LANGUAGES)}
    return sorted(languages, key=lambda language: (order.get(language, len(order)), language))


def alternates(urls: dict[str, str]) -> str:
    """``<link rel=alternate>`` for every version, itself included, and x-default."""
    languages = _ordered(set(urls))
    lines = [f'<link rel="alternate" hreflang="{LANGUAGE_TAGS.get(lang, lang)}" href="{text(urls[lang])}">'
             for lang in languages]
    if languages:
        lines.append(f'<link rel="alternate" hreflang="x-default" href="{text(urls[languages[0]])}">')
    return "\n".join(lines)


def _language_menu(urls: dict[str, str], current: str) -> str:
    current_mark = ' aria-current="page"'
    links = [f'<a href="{text(urls[lang])}" hreflang="{LANGUAGE_TAGS.get(lang, lang)}"'
             f'{current_mark if lang == current else ""}>{text(LANGUAGE_NAMES.get(lang, lang))}</a>'
             for lang in _ordered(set(urls))]
    return f'<nav class="languages">{" | ".join(links)}</nav>'


def _document(language: str, head: list[str], body: list[str]) -> bytes:
    lines = ["<!DOCTYPE html>", f'<html lang="{LANGUAGE_TAGS.get(language, language)}">', "<head>",
             '<meta charset="utf-8">', '<meta name="viewport" content="width=device-width, initial-scale=1">',
             *head, "</head>", "<body>", *body, "</body>", "</html>", ""]
    return "\n".join(lines).encode()


def render_page(item: Publication, versions: dict[str, str], site_url: str) -> bytes:
    """One article in one language, with its alternates, OpenGraph tags, image and caption."""
    summary = public_summary(item)
    image = safe_url(item.image, site_url)
    head = [
        f"<title>{text(item.title)} — {SITE_NAME}</title>",
        f'<meta name="description" content="{text(summary)}">',
        f'<meta name="foreigndesk:revision" content="{text(item.revision)}">',
        f'<link rel="canonical" href="{text(item.url)}">',
        alternates(versions),
        '<meta property="og:type" content="article">',
        f'<meta property="og:site_name" content="{SITE_NAME}">',
        f'<meta property="og:title" content="{text(item.title)}">',
        f'<meta property="og:description" content="{text(summary)}">',
        f'<meta property="og:url" content="{text(item.url)}">',
        f'<meta property="og:locale" content="{OG_LOCALES.get(item.language, item.language)}">',
        *[f'<meta property="og:locale:alternate" content="{OG_LOCALES.get(lang, lang)}">'
          for lang in _ordered(set(versions)) if lang != item.language],
        f'<meta property="article:published_time" content="{text(item.first_published_at)}">',
        f'<meta property="article:modified_time" content="{text(item.published_at)}">',
        *json_ld_script(item),  # schema.org Event, when the article carries one
    ]
    if image:
        head.append(f'<meta property="og:image" content="{text(image)}">')
        if item.image_caption:
            head.append(f'<meta property="og:image:alt" content="{text(item.image_caption)}">')
    body = [f'<header><a href="{text(index_url(site_url, item.language))}">{SITE_NAME}</a>',
            _language_menu(versions, item.language), "</header>", "<main>", "<article>",
            f"<h1>{text(item.title)}</h1>"]
    if item.demo_model:
        body.append(f'<p class="notice"><strong>{text(DEMO_NOTICE)}.</strong></p>')
    if item.summary:
        body.append(f'<p class="summary">{text(item.summary)}</p>')
    if item.video_url:
        body.append(video_element(item, versions, _ordered(set(versions))))
    if image:
        caption = f"<figcaption>{text(item.image_caption)}</figcaption>" if item.image_caption else ""
        body.append(f'<figure><img src="{text(image)}" alt="{text(item.image_caption)}">{caption}</figure>')
    body.append(render_markdown(item.body))
    source = safe_url(item.source_url)
    credit = text(item.outlet)
    if source:
        credit = f'<a href="{text(source)}" rel="noopener noreferrer">{credit}</a>'
    body += [f'<footer><p>Source: {credit}. Published <time datetime="{text(item.first_published_at)}">'
             f"{text(item.first_published_at[:10])}</time>.</p></footer>", "</article>", "</main>"]
    return _document(item.language, head, body)


def render_index(language: str, entries: list[CatalogueItem], languages: list[str], site_url: str) -> bytes:
    """A language's list of articles, newest first, with the other languages' indexes as alternates."""
    versions = {lang: index_url(site_url, lang) for lang in languages}
    title = HOME_TITLES.get(language, SITE_NAME)
    head = [f"<title>{text(title)}</title>", f'<link rel="canonical" href="{text(versions[language])}">',
            alternates(versions), '<meta property="og:type" content="website">',
            f'<meta property="og:site_name" content="{SITE_NAME}">', f'<meta property="og:title" content="{text(title)}">',
            f'<meta property="og:url" content="{text(versions[language])}">',
            f'<meta property="og:locale" content="{OG_LOCALES.get(language, language)}">']
    items = [f'<li><a href="{text(safe_url(entry.url))}">{text(clean_text(entry.title))}</a> '
             f'<time datetime="{text(entry.first_published_at)}">{text(entry.first_published_at[:10])}</time>'
             + (f"<p>{text(clean_text(entry.summary))}</p>" if entry.summary else "") + "</li>"
             for entry in entries]
    body = [f"<header><h1>{text(title)}</h1>", _language_menu(versions, language), "</header>",
            "<main>", '<ul class="articles">', *items, "</ul>", "</main>"]
    return _document(language, head, body)


#: The notice a withdrawn page becomes, per language: short, with no reason (that stays in the desk's records).
WITHDRAWN_TITLES = {"en": "This article has been withdrawn", "zh": "本文已撤回", "ko": "이 기사는 철회되었습니다"}
WITHDRAWN_TEXTS = {
    "en": "The Thái Nguyên foreign-information desk withdrew this article on {date}.",
    "zh": "太原省对外信息部门已于 {date} 撤回本文。",
    "ko": "타이응우옌성 대외정보실은 {date}에 이 기사를 철회했습니다.",
}
#: Marks a withdrawal notice, so a static host can answer 410 Gone for these pages if it wants to.
WITHDRAWN_MARKER = '<meta name="foreigndesk:withdrawn" content="true">'


def render_withdrawn(language: str, url: str, withdrawn_at: str, site_url: str) -> bytes:
    """The page a withdrawn article becomes, at the same URL: a short notice, kept out of search engines."""
    title = WITHDRAWN_TITLES.get(language, WITHDRAWN_TITLES["en"])
    notice = WITHDRAWN_TEXTS.get(language, WITHDRAWN_TEXTS["en"]).format(date=withdrawn_at[:10])
    head = [f"<title>{text(title)} — {SITE_NAME}</title>", '<meta name="robots" content="noindex">',
            WITHDRAWN_MARKER, f'<link rel="canonical" href="{text(safe_url(url))}">']
    body = [f'<header><a href="{text(index_url(site_url, language))}">{SITE_NAME}</a></header>', "<main>",
            f"<h1>{text(title)}</h1>", f'<p class="notice">{text(notice)}</p>', "</main>"]
    return _document(language, head, body)


class WebChannel:
    name = NAME
    remote = False

    def __init__(self, store, site_url: str) -> None:
        self.store = store
        self.site_url = site_url

    def send(self, item: Publication, previous_id: str | None) -> str:
        return item.url

    def find(self, item: Publication, previous_id: str | None) -> str | None:
        try:
            page = self.store.read(page_key(item.language, item.article_id)).decode()
        except KeyError:
            return None
        marker = f'<meta name="foreigndesk:revision" content="{text(item.revision)}">'
        return item.url if marker in page else None

    def withdraw(self, target, catalogue: Catalogue) -> str:
        """The page becomes a withdrawal notice; the other versions lose their link to it; the indexes the entry."""
        write_output(self.store, page_key(target.language, target.article_id),
                     render_withdrawn(target.language, target.url, target.withdrawn_at, self.site_url))
        if self.store.exists(vtt_key(target.language, target.article_id)):
            write_output(self.store, vtt_key(target.language, target.article_id), EMPTY_WEBVTT.encode())
        versions = [catalogue.load(entry) for entry in catalogue.article(target.article_id)]
        urls = {version.language: version.url for version in versions}
        for version in versions:
            write_output(self.store, page_key(version.language, target.article_id),
                         render_page(version, urls, self.site_url))
        languages = sorted(set(catalogue.languages()) | {target.language})
        for language in languages:
            listed = [lang for lang in languages if catalogue.newest(lang) or lang == language]
            write_output(self.store, index_key(language),
                         render_index(language, catalogue.newest(language), listed, self.site_url))
        return "page replaced by a withdrawal notice"

    def is_withdrawn(self, target) -> bool:
        try:
            return WITHDRAWN_MARKER in self.store.read(page_key(target.language, target.article_id)).decode()
        except KeyError:
            return False

    def flush(self, catalogue: Catalogue) -> list[str]:
        written = []
        for article_id in sorted({item.article_id for item in catalogue.changed}):
            versions = [catalogue.load(entry) for entry in catalogue.article(article_id)]
            urls = {version.language: version.url for version in versions}
            for version in versions:
                key = page_key(version.language, article_id)
                if version.subtitles:  # a clip's subtitles first: the page's <track> points at them
                    write_output(self.store, vtt_key(version.language, article_id), version.subtitles.encode())
                    written.append(vtt_key(version.language, article_id))
                write_output(self.store, key, render_page(version, urls, self.site_url))
                written.append(key)
        if catalogue.changed:
            languages = catalogue.languages()
            for language in languages:
                write_output(self.store, index_key(language),
                             render_index(language, catalogue.newest(language), languages, self.site_url))
                written.append(index_key(language))
        return written

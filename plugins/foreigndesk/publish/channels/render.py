"""Article text to safe HTML, the one way every public output gets its markup.

Two walls, on purpose. The ``markdown`` converter runs with raw HTML switched
off, so markup typed into an article comes out as text; then the result goes
through nh3 (the Ammonia sanitiser) with an allow-list of the tags Markdown
produces. Whatever slips past the first wall — a ``javascript:`` link written
as Markdown, an attribute smuggled through an extension — is removed by the
second: no script, no event handler, no ``javascript:`` URL, no unknown tag.
"""

from __future__ import annotations

import html
from urllib.parse import urljoin, urlsplit

import markdown as markdown_lib
import nh3
from foreigndesk.core.names import DEMO_NOTICE
from foreigndesk.publish.channels import Publication

#: The tags Markdown (with the ``tables`` extension) writes; nothing else survives.
ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote",
    "em", "strong", "code", "pre", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
})
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


def sanitise(fragment: str) -> str:
    """Keep only allow-listed tags, attributes and URL schemes; drop scripts with their content."""
    return nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render_markdown(text: str) -> str:
    """Markdown to sanitised HTML; raw HTML in the article is shown as text, never run."""
    converter = markdown_lib.Markdown(extensions=["tables"])
    converter.preprocessors.deregister("html_block")
    converter.inlinePatterns.deregister("html")
    return sanitise(converter.convert(text))


def text(value: str) -> str:
    """Plain text for an element's content or a quoted attribute."""
    return html.escape(value, quote=True)


def safe_url(value: str, base: str = "") -> str:
    """An http(s) URL for an attribute (relative ones resolved against ``base``), or '' when unsafe."""
    value = (value or "").strip()
    if not value:
        return ""
    absolute = urljoin(base.rstrip("/") + "/", value) if base else value
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return absolute


#: Who the desk's outputs name as their author or publisher.
DESK = "Thái Nguyên foreign-information desk"


def public_summary(item: Publication) -> str:
    """The summary readers see; a demo-model translation says so first."""
    if item.demo_model:
        return f"{DEMO_NOTICE}. {item.summary}".strip()
    return item.summary


def item_html(item: Publication, site_url: str) -> str:
    """The article as sanitised HTML, with its image and caption first when it has one."""
    parts = []
    image = safe_url(item.image, site_url)
    if image:
        caption = f"<figcaption>{text(item.image_caption)}</figcaption>" if item.image_caption else ""
        parts.append(f'<figure><img src="{text(image)}" alt="{text(item.image_caption)}">{caption}</figure>')
    parts.append(render_markdown(item.body))
    return "\n".join(parts)

"""Raw HTML in a dropped article: known video players become a Markdown link, the rest is removed.

Outlets paste pages from their CMS, and TNTV's pages embed a video player
(``<iframe src="https://www.youtube.com/embed/…">`` or the station's own). Raw
HTML is never published (every output renders Markdown with HTML switched off),
and text that stays in the body as escaped markup only confuses the translator
and the post-edit checks. So intake cleans the body once, and says what it did
in a flag the reviewer sees:

* an ``<iframe>``/``<embed>``/``<video>``/``<object>`` whose address is on a
  host of :data:`EMBED_HOSTS` becomes a paragraph of its own,
  ``[▶ Video: YouTube](https://www.youtube.com/watch?v=ID)`` — a plain Markdown
  link every channel renders safely;
* any other element whose content is code or a player (``<script>``,
  ``<style>``, an unknown iframe, …) is removed with its content;
* any other tag (``<b>``, ``<span>``, ``<br>``) and comment is removed and its
  text kept.

Code spans and fenced code blocks are left as written: there markup is text.
The stored ``source.md`` keeps the bytes as dropped; only the registered body is
cleaned.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

#: Video players whose embed becomes a link: host → the name the link shows (content/README.md).
#: Subdomains count (``www.``, ``m.``, ``player.``).
EMBED_HOSTS = {
    "youtube.com": "YouTube",
    "youtube-nocookie.com": "YouTube",
    "youtu.be": "YouTube",
    "tntv.vn": "TNTV",
    "thainguyentv.vn": "TNTV",
}
#: Elements whose content is never text for a reader: removed with everything inside.
CONTENT_ELEMENTS = ("script", "style", "iframe", "object", "embed", "video", "audio", "noscript", "template",
                    "svg", "math", "form", "textarea", "select", "frameset", "frame", "applet")
_PLAYERS = ("iframe", "embed", "video", "object", "source")
#: A comment or one tag. Scanned left to right once; an element's end is found with ``str.find``, so
#: a hostile body full of unclosed ``<script`` costs one pass, not one pass per tag.
_TOKEN = re.compile(r"<!--.*?(?:-->|\Z)|<(?P<close>/?)(?P<tag>[A-Za-z][A-Za-z0-9-]*)(?=[\s/>])[^<>]*>", re.DOTALL)
_ATTR = re.compile(r"""\b(src|data|href)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'<>]+))""", re.IGNORECASE)
_CODE = re.compile(r"^(```|~~~).*?(?:^\1[^\n]*$|\Z)|`+[^`\n]*`+", re.MULTILINE | re.DOTALL)
_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{6,20}$")


def embed_host(url: str) -> str:
    """The player's name when ``url`` is an https(s) address on a known embed host, else ''."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    host = parts.hostname.lower()
    for known, name in EMBED_HOSTS.items():
        if host == known or host.endswith("." + known):
            return name
    return ""


def video_link(url: str) -> str:
    """The public page of an embedded video: YouTube's watch page, else the player's own https URL."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if embed_host(url) == "YouTube":
        segments = [segment for segment in parts.path.split("/") if segment]
        video = ""
        if host.endswith("youtu.be") and segments:
            video = segments[0]
        elif len(segments) >= 2 and segments[0] in ("embed", "v", "shorts"):
            video = segments[1]
        elif segments[:1] == ["watch"]:
            video = (parse_qs(parts.query).get("v") or [""])[0]
        if _YOUTUBE_ID.match(video):
            return f"https://www.youtube.com/watch?v={video}"
        return ""
    return parts._replace(scheme="https").geturl()


def _player_url(element: str) -> str:
    for match in _ATTR.finditer(element):
        value = html.unescape(next(group for group in match.groups()[1:] if group is not None)).strip()
        if value.startswith("//"):
            value = "https:" + value
        if embed_host(value):
            return value
    return ""


#: Past this many flags for one field, the rest are counted in one line (a hostile file has thousands).
MAX_FLAGS = 20


def _clean_prose(text: str, offset: int, flags: list[tuple[int, str]], seen: set[str]) -> str:
    """Clean one stretch of text outside code; ``offset`` is where it starts in the field.

    ``flags`` gets (offset in the field, what was done); the line numbers are added once at the end.
    """
    lower = text.lower()
    no_end_after: dict[str, int] = {}  # element name → a position from which its closing tag was not found
    out: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        if match.start() < position:  # inside an element already removed whole
            continue
        out.append(text[position : match.start()])
        position = match.end()
        line = offset + match.start()
        tag = (match.group("tag") or "").lower()
        if tag in CONTENT_ELEMENTS and not match.group("close"):
            element = match.group(0)
            if not element.endswith("/>") and position < no_end_after.get(tag, len(text) + 1):
                closing = lower.find(f"</{tag}", position)
                closed = text.find(">", closing) if closing >= 0 else -1
                if closed < 0:
                    no_end_after[tag] = position
                else:
                    element, position = text[match.start() : closed + 1], closed + 1
            url = _player_url(element) if tag in _PLAYERS else ""
            link = video_link(url) if url else ""
            if link:
                label = f"▶ Video: {embed_host(url)}"
                flags.append((line, f"video player <{tag}> from {urlsplit(url).hostname} turned into "
                                    f"the link [{label}]({link}); check it leads to the right video"))
                out.append(f"\n\n[{label}]({link})\n\n")
            else:
                flags.append((line, f"<{tag}> removed with its content at intake (raw HTML is never "
                                    "published); check with the editor whether something is missing"))
            continue
        shown = f"<{tag}>" if tag else "<!--"
        if shown not in seen:
            seen.add(shown)
            flags.append((line, f"raw HTML {shown} removed at intake, its text kept "
                                "(raw HTML is never published); check with the editor whether it belongs"))
    out.append(text[position:])
    return "".join(out)


def clean_html(text: str, name: str, first_line: int = 1) -> tuple[str, list[str]]:
    """``text`` without raw HTML (known players as links), and one flag per thing changed.

    Removing one tag can join the pieces of another (``<iframe srcdoc="<script>…</script>">``), so
    the text is cleaned again until nothing changes (a few passes at most; later flags keep the
    first pass's line numbers only approximately).
    """
    cleaned, flags = _clean_once(text, name, first_line)
    for _ in range(3):
        if not flags or "<" not in cleaned:
            break
        again, more = _clean_once(cleaned, name, first_line)
        if not more:
            break
        cleaned, flags = again, flags + more
    return cleaned, flags[: MAX_FLAGS + 1]


def _clean_once(text: str, name: str, first_line: int) -> tuple[str, list[str]]:
    if "<" not in text:
        return text, []
    flags: list[tuple[int, str]] = []
    seen: set[str] = set()
    parts: list[str] = []
    start = 0
    for code in _CODE.finditer(text):
        parts.append(_clean_prose(text[start : code.start()], start, flags, seen))
        parts.append(code.group(0))
        start = code.end()
    parts.append(_clean_prose(text[start:], start, flags, seen))
    cleaned = "".join(parts)
    if flags:
        cleaned = re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", cleaned).strip("\n") + ("\n" if text.endswith("\n") else "")
    flags.sort(key=lambda item: item[0])
    shown = [f"{name} line {first_line + text.count(chr(10), 0, where)}: {what}" for where, what in flags[:MAX_FLAGS]]
    if len(flags) > MAX_FLAGS:
        shown.append(f"{name}: {len(flags) - MAX_FLAGS} more pieces of raw HTML removed at intake")
    return cleaned, shown

"""Every output is valid or not written: no control character, every feed parses, every URL checked.

Run against all five channels (real store, real loopback servers). What is
checked is what readers get: the stored feeds and pages byte by byte, read back
with feedparser; the JSON the portal received; the messages the Graph fake holds, the articles the Zalo fake holds.
"""

from __future__ import annotations

import json

import feedparser
import pytest
from channel_rigs import CHANNELS, make_rig
from desk_records import put_article, put_decision
from foreigndesk.core.settings import load_settings
from foreigndesk.publish import ledger
from foreigndesk.publish.channels.portal_feed import PortalFeedChannel
from foreigndesk.publish.channels.render import safe_url
from foreigndesk.publish.channels.validate import InvalidOutput, check_output, clean_text, control_characters
from foreigndesk.publish.run import publish

#: Every C0 control but tab/newline/CR, DEL, a few C1, and the two non-characters.
CONTROLS = [chr(code) for code in range(0x20) if chr(code) not in "\t\n\r"] + ["\x7f", "\x85", "\x9f", "\ufffe", "\uffff"]
DIRTY = "".join(CONTROLS)


@pytest.fixture(params=CHANNELS)
def rig(request, tmp_path):
    rig = make_rig(request.param, tmp_path)
    yield rig
    rig.close()


def _outputs(rig) -> list[str]:
    """Everything the channel put where readers are."""
    if rig.name in ("portal-feed", "web"):
        folder = "feeds/" if rig.name == "portal-feed" else "web/"
        return [rig.store.read(key).decode() for key in rig.store.list(folder)]
    if rig.name == "portal-push":
        return [json.dumps(item, ensure_ascii=False) for item in rig.server.items.values()]
    if rig.name == "zalo":
        return [json.dumps(article, ensure_ascii=False) for article in rig.server.articles.values()]
    return [post["message"] + post["link"] for post in rig.server.posts.values()]


def test_clean_text_keeps_words_turns_word_breaks_into_newlines_and_drops_the_rest():
    assert clean_text("Line one\x0bline two\x0cPage two") == "Line one\nline two\nPage two"
    assert clean_text("a\r\nb\rc\td") == "a\nb\nc\td"
    assert clean_text(f"Thái{DIRTY}Nguyên") == "Thái\n\nNguyên"  # \x0b and \x0c are in DIRTY
    assert control_characters(clean_text(DIRTY * 3)) == []


def test_a_control_character_in_an_approved_text_never_reaches_any_output(rig):
    put_article(rig.store, "c1", image="https://img.example/tea.jpg", image_caption=f"Tea{DIRTY}hills",
                author=f"An\x00{DIRTY}")
    put_decision(rig.store, "c1", "r1", "en", title=f"Tea\x0bfestival{DIRTY}", summary=f"Sum\x0cmary\x1b[31m",
                 body=f"First\x0bline.\n\nSecond{DIRTY} paragraph with a [link](https://tntv.vn/a\x01b).\n")
    result = rig.run()
    assert result.errors == [] and [p["article_id"] for p in result.published] == ["c1"]
    outputs = _outputs(rig)
    assert outputs
    for output in outputs:
        assert control_characters(output) == [], output[:300]
        assert "\\u000b" not in output.lower() and "\\u0000" not in output.lower(), "not even escaped in JSON"
    joined = " ".join(outputs)
    assert "Tea" in joined and "festival" in joined, "the words stay"
    if rig.name == "portal-feed":
        parsed = feedparser.parse(rig.store.read("feeds/en/rss.xml"))
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        assert parsed.entries[0].title.startswith("Tea\nfestival")
        feed = json.loads(rig.store.read("feeds/en/feed.json"))
        assert feed["items"][0]["title"] == "Tea\nfestival\n\n"  # Word's breaks became newlines; the rest is gone
        assert feed["items"][0]["content_text"].startswith("First\nline.")


def test_every_url_in_every_output_passes_the_web_pages_check(rig):
    put_article(rig.store, "u1", image="javascript:alert(1)", source_url="javascript:alert(2)")
    put_decision(rig.store, "u1", "r1", "en")
    put_article(rig.store, "u2", image="/media/tea.jpg", source_url="ftp://tntv.vn/x")
    put_decision(rig.store, "u2", "r1", "en")
    put_article(rig.store, "u3", image="data:image/png;base64,AAAA", source_url="https://tntv.vn/ok")
    put_decision(rig.store, "u3", "r1", "en")
    assert rig.run().errors == []
    site = load_settings().site_url
    if rig.name == "portal-feed":
        feed = json.loads(rig.store.read("feeds/en/feed.json"))
        by_id = {item["id"]: item for item in feed["items"]}
        assert "external_url" not in by_id["u1:en"] and "image" not in by_id["u1:en"]
        assert "external_url" not in by_id["u2:en"] and by_id["u2:en"]["image"] == f"{site}/media/tea.jpg"
        assert by_id["u3:en"]["external_url"] == "https://tntv.vn/ok" and "image" not in by_id["u3:en"]
        rss = feedparser.parse(rig.store.read("feeds/en/rss.xml"))
        assert all(safe_url(entry.link) == entry.link for entry in rss.entries)
    if rig.name == "portal-push":
        items = rig.server.items
        assert (items["u1:en"]["image"], items["u1:en"]["source_url"]) == ("", "")
        assert (items["u2:en"]["image"], items["u2:en"]["source_url"]) == (f"{site}/media/tea.jpg", "")
        assert (items["u3:en"]["image"], items["u3:en"]["source_url"]) == ("", "https://tntv.vn/ok")
    if rig.name == "zalo":  # the cover: the article's image when safe, else the connection's default cover
        covers = {a["title"]: a["cover"]["photo_url"] for a in rig.server.articles.values()}
        assert covers == {"u1 (en)": "https://tntv.vn/static/zalo-cover.jpg", "u2 (en)": f"{site}/media/tea.jpg",
                          "u3 (en)": "https://tntv.vn/static/zalo-cover.jpg"}
    for output in _outputs(rig):
        lowered = output.lower()
        assert "javascript:" not in lowered and "ftp://" not in lowered and "data:image" not in lowered


def test_a_feed_that_does_not_parse_is_not_written_and_fails_the_run(tmp_path):
    """A broken setting (a control character in the site URL) makes the rendered feed invalid."""
    rig = make_rig("portal-feed", tmp_path)
    put_article(rig.store, "a1")
    put_decision(rig.store, "a1", "r1", "en")
    settings = load_settings()
    assert rig.run().errors == []
    before = {key: rig.store.read(key) for key in rig.store.list("feeds/")}
    put_article(rig.store, "a2")
    put_decision(rig.store, "a2", "r1", "en")
    broken = PortalFeedChannel(rig.store, settings.site_url + "\x1b", settings.feed_items)
    result = publish(rig.store, settings, [broken])
    assert result.errors and ("does not parse" in result.errors[0] or "control characters" in result.errors[0])
    assert "feeds/en/rss.xml" in result.errors[0]
    assert {key: rig.store.read(key) for key in rig.store.list("feeds/")} == before, "the previous feeds stay"
    assert result.published == []
    assert [s.state for s in ledger.publication_states(rig.store, "portal-feed") if s.article_id == "a2"] == [
        ledger.UNCERTAIN], "claimed, not recorded as published: the next good run finishes it"
    fixed = rig.run()
    assert fixed.errors == [] and [p["article_id"] for p in fixed.published] == ["a2"]
    assert [entry.id for entry in feedparser.parse(rig.store.read("feeds/en/rss.xml")).entries] == ["a2:en", "a1:en"]
    rig.close()


@pytest.mark.parametrize("key, data, reason", [
    ("feeds/en/rss.xml", b"<rss version='2.0'><channel><title>t</title>", "does not parse"),
    ("feeds/en/rss.xml", b"<rss><channel><title>t</title><link>https://x.example/</link></channel></rss>",
     "no <description>"),
    ("feeds/en/rss.xml", b"<rss><channel><title>t\x0b</title></channel></rss>", "control characters"),
    ("feeds/en/feed.json", b'{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [{"id": "a", '
                           b'"content_text": "x", "external_url": "javascript:alert(1)"}]}', "not an http(s) URL"),
    ("feeds/en/feed.json", b'{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [{"id"', "does not parse"),
    ("web/en/a.html", b"<html><body><p>x</body></html>", "closes nothing open"),
])
def test_check_output_names_the_key_and_the_reason(key, data, reason):
    with pytest.raises(InvalidOutput) as raised:
        check_output(key, data)
    assert str(raised.value).startswith(key) and reason in str(raised.value)

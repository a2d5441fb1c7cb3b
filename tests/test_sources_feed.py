"""Outlet feeds as a source: a real HTTP server on loopback serving RSS 2.0 and JSON Feed.

The server honours conditional GET (ETag / If-None-Match, Last-Modified /
If-Modified-Since → 304) and records every request, so the tests see exactly
what the desk asked for. The poller gets a real ``requests.Session``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from desk_records import revisions_of
from foreigndesk.core import records
from foreigndesk.core.revisions import load_revision
from foreigndesk.core.settings import DEFAULT_FEED_MARKERS
from foreigndesk.core.store import LocalStore
from foreigndesk.intake.ingest import ingest
from foreigndesk.intake.outlet_feeds import FeedState, OutletFeed, html_to_markdown, item_id, state_key

OUTLETS = ("baothainguyen", "tntv")


class FeedServer:
    """Serves ``documents[path] = (body, content_type, etag or None, last_modified or None)``."""

    def __init__(self) -> None:
        self.documents: dict[str, tuple[bytes, str, str | None, str | None]] = {}
        self.requests: list[dict[str, str]] = []
        self.status: int | None = None  # force an error status
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.requests.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
                if server.status:
                    self.send_response(server.status)
                    self.end_headers()
                    return
                body, content_type, etag, modified = server.documents[self.path]
                if etag and self.headers.get("If-None-Match") == etag:
                    return self._not_modified(etag, modified)
                since = self.headers.get("If-Modified-Since")
                if modified and since and not self.headers.get("If-None-Match"):
                    if parsedate_to_datetime(modified) <= parsedate_to_datetime(since):
                        return self._not_modified(etag, modified)
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                if etag:
                    self.send_header("ETag", etag)
                if modified:
                    self.send_header("Last-Modified", modified)
                self.end_headers()
                self.wfile.write(body)

            def _not_modified(self, etag, modified) -> None:
                self.send_response(304)
                if etag:
                    self.send_header("ETag", etag)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def publish(self, path: str, body: bytes, content_type: str, etag: bool = True, modified: bool = True,
                when: datetime | None = None) -> None:
        tag = f'"{hashlib.sha256(body).hexdigest()[:12]}"' if etag else None
        stamp = format_datetime(when or datetime(2025, 3, 14, 3, 0, tzinfo=timezone.utc), usegmt=True)
        self.documents[path] = (body, content_type, tag, stamp if modified else None)


@pytest.fixture
def server():
    feed_server = FeedServer()
    feed_server.thread.start()
    yield feed_server
    feed_server.httpd.shutdown()
    feed_server.httpd.server_close()


@pytest.fixture
def session():
    with requests.Session() as http:
        yield http


@pytest.fixture
def store(tmp_path):
    return LocalStore(tmp_path / "store")


def rss(*items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Báo Thái Nguyên</title>'
        "<link>https://baothainguyen.vn/</link><description>Tin tức</description>"
        + "".join(items) + "</channel></rss>"
    ).encode()


def rss_item(guid: str, title: str, categories: list[str], content: str,
             date: str = "Fri, 14 Mar 2025 09:30:00 +0700") -> str:
    cats = "".join(f"<category>{c}</category>" for c in categories)
    pub = f"<pubDate>{date}</pubDate>" if date else ""
    return (f"<item><title>{title}</title><link>{guid}</link><guid>{guid}</guid>{pub}{cats}"
            f"<dc:creator>Hà Linh</dc:creator><description>Tóm tắt: {title}</description>"
            f"<content:encoded><![CDATA[{content}]]></content:encoded></item>")


def json_feed(*items: dict) -> bytes:
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "TNTV",
                       "items": list(items)}, ensure_ascii=False).encode()


def poll(store, session, url, outlet="baothainguyen"):
    feed = OutletFeed(session, url, outlet, store, DEFAULT_FEED_MARKERS)
    return ingest(store, [feed], OUTLETS), feed


MARKED = "https://baothainguyen.vn/doi-ngoai/hop-tac-gyeongsangbuk-do-123.html"
UNMARKED = "https://baothainguyen.vn/the-thao/bong-da-456.html"


def two_item_rss(body: str = "<p>Hai tỉnh thống nhất <strong>hợp tác</strong> du lịch.</p>") -> bytes:
    return rss(
        rss_item(MARKED, "Thái Nguyên và Gyeongsangbuk-do hợp tác", ["Thông tin đối ngoại", "Du lịch"], body),
        rss_item(UNMARKED, "Bóng đá: Thái Nguyên thắng", ["Thể thao"], "<p>Tỷ số 2-1.</p>"),
    )


def test_rss_items_marked_for_foreign_information_are_registered(server, session, store):
    server.publish("/rss", two_item_rss(), "application/rss+xml; charset=utf-8")
    result, feed = poll(store, session, server.url + "/rss")
    assert [item.title for item in result.accepted] == ["Thái Nguyên và Gyeongsangbuk-do hợp tác"]
    assert feed.skipped == 1, "the sports item is not for the desk"
    article = result.accepted[0]
    assert article.article_id == item_id("baothainguyen", feed_item_guid_only(MARKED))
    assert article.article_id.startswith("baothainguyen-hop-tac-gyeongsangbuk-do-123-")
    assert article.body == "Hai tỉnh thống nhất **hợp tác** du lịch.\n"
    assert (article.approved_at, article.author, article.tags) == ("2025-03-14T09:30:00+07:00", "Hà Linh", ["Du lịch"])
    assert article.source_url == MARKED and article.source_file == f"{server.url}/rss#{MARKED}"


def feed_item_guid_only(guid: str):
    from foreigndesk.intake.outlet_feeds import FeedItem

    return FeedItem(guid, "", "", "", [], "", "", "", "", "", b"", "xml")


def test_conditional_get_asks_with_the_stored_validators_and_a_304_changes_nothing(server, session, store):
    server.publish("/rss", two_item_rss(), "application/rss+xml")
    poll(store, session, server.url + "/rss")
    state = records.load(store, FeedState, state_key("baothainguyen", server.url + "/rss"))
    etag, modified = server.documents["/rss"][2], server.documents["/rss"][3]
    assert (state.etag, state.last_modified) == (etag, modified)
    keys_before = list(store.list(""))

    result, _ = poll(store, session, server.url + "/rss")
    assert server.requests[0].get("if-none-match") is None
    assert server.requests[1]["if-none-match"] == etag and server.requests[1]["if-modified-since"] == modified
    assert result.as_json() == {"accepted": [], "unchanged": [], "quarantined": []}
    assert list(store.list("")) == keys_before


def test_if_modified_since_alone_is_honoured(server, session, store):
    server.publish("/rss", two_item_rss(), "application/rss+xml", etag=False)
    poll(store, session, server.url + "/rss")
    result, _ = poll(store, session, server.url + "/rss")
    assert "if-none-match" not in server.requests[1]
    assert server.requests[1]["if-modified-since"] == "Fri, 14 Mar 2025 03:00:00 GMT"
    assert result.as_json()["unchanged"] == [] and result.accepted == []


def test_an_edited_item_is_a_new_revision_of_the_same_article(server, session, store):
    server.publish("/rss", two_item_rss(), "application/rss+xml")
    first, _ = poll(store, session, server.url + "/rss")
    server.publish("/rss", two_item_rss("<p>Bản sửa: thêm lễ ký kết.</p>"), "application/rss+xml",
                   when=datetime(2025, 3, 15, tzinfo=timezone.utc))
    second, _ = poll(store, session, server.url + "/rss")
    article_id = first.accepted[0].article_id
    assert [item.article_id for item in second.accepted] == [article_id]
    assert [item.body for item in revisions_of(store, article_id)] == [
        "Hai tỉnh thống nhất **hợp tác** du lịch.\n", "Bản sửa: thêm lễ ký kết.\n"]


def test_a_lost_cursor_only_costs_a_full_fetch(server, session, store):
    server.publish("/rss", two_item_rss(), "application/rss+xml")
    first, _ = poll(store, session, server.url + "/rss")
    (store.root / state_key("baothainguyen", server.url + "/rss")).unlink()
    again, _ = poll(store, session, server.url + "/rss")
    assert again.accepted == [] and again.unchanged == [(first.accepted[0].article_id, first.accepted[0].revision)]


def test_json_feed_items_with_a_marker_tag_are_registered(server, session, store):
    server.publish("/feed.json", json_feed(
        {"id": "tntv-2025-0518", "url": "https://tntv.vn/le-hoi-tra", "title": "Lễ hội Trà Tân Cương",
         "content_text": "Lễ hội khai mạc.\n\nDu khách từ Lào tham dự.", "summary": "Khai mạc lễ hội",
         "date_published": "2025-05-18T16:00:00+07:00", "tags": ["foreign-information", "chè"],
         "authors": [{"name": "Phòng Thời sự"}], "image": "https://tntv.vn/anh.jpg"},
        {"id": "tntv-2025-0519", "title": "Giá xăng", "content_text": "Giảm.", "tags": ["kinh tế"],
         "date_published": "2025-05-19T08:00:00+07:00"},
    ), "application/feed+json")
    result, feed = poll(store, session, server.url + "/feed.json", "tntv")
    assert feed.skipped == 1 and len(result.accepted) == 1
    article = result.accepted[0]
    assert (article.outlet, article.title, article.summary) == ("tntv", "Lễ hội Trà Tân Cương", "Khai mạc lễ hội")
    assert article.body == "Lễ hội khai mạc.\n\nDu khách từ Lào tham dự.\n"
    assert (article.image, article.author, article.tags) == ("https://tntv.vn/anh.jpg", "Phòng Thời sự", ["chè"])
    second, _ = poll(store, session, server.url + "/feed.json", "tntv")
    assert server.requests[-1]["if-none-match"] == server.documents["/feed.json"][2] and second.accepted == []


def test_script_in_feed_html_is_removed_and_flagged(server, session, store):
    server.publish("/rss", rss(rss_item(MARKED, "Tin có mã", ["foreign-information"],
                                        "<p>Chữ.</p><script>alert(1)</script><p>Tiếp.</p>")), "application/rss+xml")
    result, _ = poll(store, session, server.url + "/rss")
    article = load_revision(store, result.accepted[0].article_id, result.accepted[0].revision)
    assert "alert(1)" not in article.body and "Chữ." in article.body and "Tiếp." in article.body
    assert any("<script> removed with its content" in flag for flag in article.flags), article.flags


def test_an_undated_item_is_quarantined_with_the_item_as_received(server, session, store):
    server.publish("/rss", rss(rss_item(MARKED, "Không ngày", ["foreign-information"], "<p>x</p>", date="")),
                   "application/rss+xml")
    result, _ = poll(store, session, server.url + "/rss")
    assert result.accepted == [] and len(result.quarantined) == 1
    reason = result.quarantined[0]["reason"]
    assert f"{server.url}/rss item '{MARKED}'" in reason and "no date" in reason and "pubDate" in reason
    (folder,) = {key.rsplit("/", 1)[0] for key in store.list("quarantine/baothainguyen/")}
    item_xml = store.read(f"{folder}/item.xml").decode()
    assert item_xml.startswith("<item") and "Không ngày" in item_xml and "<pubDate>" not in item_xml
    assert b"title: Kh\xc3\xb4ng ng\xc3\xa0y" in store.read(f"{folder}/original.bin")


def test_a_feed_that_is_not_a_feed_is_quarantined_byte_for_byte(server, session, store):
    body = b"<html><body>502 Bad Gateway</body></html>"
    server.publish("/rss", body, "text/html")
    result, _ = poll(store, session, server.url + "/rss")
    (entry,) = result.quarantined
    assert "not RSS 2.0 or JSON Feed" in entry["reason"] and "<html>" in entry["reason"]
    assert store.read(f"quarantine/baothainguyen/{hashlib.sha256(body).hexdigest()}/original.bin") == body


def test_a_failing_feed_is_reported_and_does_not_stop_the_other_sources(server, session, store, tmp_path):
    from drops import article_bytes
    from foreigndesk.intake.sources import DropFolder

    server.status = 500
    (tmp_path / "tntv").mkdir()
    (tmp_path / "tntv" / "a.md").write_bytes(article_bytes(outlet="tntv", id="tntv-a"))
    feed = OutletFeed(session, server.url + "/rss", "baothainguyen", store, DEFAULT_FEED_MARKERS)
    result = ingest(store, [feed, DropFolder(tmp_path / "tntv", "tntv")], OUTLETS)
    assert result.errors == [f"{server.url}/rss: the outlet answered HTTP 500; check the feed URL"]
    assert [item.article_id for item in result.accepted] == ["tntv-a"]
    assert not store.exists(state_key("baothainguyen", server.url + "/rss"))


def test_a_crash_before_the_cursor_is_saved_changes_nothing_on_the_re_run(server, session, store):
    server.publish("/rss", two_item_rss(), "application/rss+xml")
    feed = OutletFeed(session, server.url + "/rss", "baothainguyen", store, DEFAULT_FEED_MARKERS)
    drops = list(feed.drops())  # the items were handled …
    from foreigndesk.intake.ingest import IntakeResult, ingest_drop

    first = IntakeResult()
    for item in drops:
        ingest_drop(store, item, first, OUTLETS)
    # … and the process died before feed.finish() saved the cursor.
    rerun, _ = poll(store, session, server.url + "/rss")
    assert "if-none-match" not in server.requests[-1], "no cursor: a full fetch"
    assert rerun.accepted == [] and rerun.unchanged == [(first.accepted[0].article_id, first.accepted[0].revision)]


def test_html_to_markdown_keeps_structure_and_links_but_not_active_urls():
    html_text = ('<h2>Tiêu đề</h2><p>Đoạn <em>một</em> với <a href="https://x.vn/a">liên kết</a> và '
                 '<a href="javascript:alert(1)">mã</a>.</p><ul><li>Chè</li><li>OCOP</li></ul>'
                 '<p><img src="https://x.vn/a.jpg" alt="Ảnh"></p>')
    assert html_to_markdown(html_text) == (
        "## Tiêu đề\n\nĐoạn *một* với [liên kết](https://x.vn/a) và mã.\n\n- Chè\n- OCOP\n\n![Ảnh](https://x.vn/a.jpg)"
    )

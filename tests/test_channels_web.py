"""The web channel's pages: well-formed, OpenGraph-tagged, and with reciprocal hreflang alternates."""

from __future__ import annotations

import pytest
from channel_rigs import make_rig, parse_page
from desk_records import approved_article, put_decision

TAGS = {"en": "en", "zh": "zh-Hans", "ko": "ko"}


@pytest.fixture
def rig(tmp_path):
    rig = make_rig("web", tmp_path)
    yield rig
    rig.close()


def _pages(rig) -> dict[str, tuple[str, object]]:
    """Public URL -> (store key, parsed page) for every page the channel wrote."""
    site = rig.settings.site_url
    pages = {}
    for key in rig.store.list("web/"):
        _, language, name = key.split("/")
        url = f"{site}/{language}/" if name == "index.html" else f"{site}/{language}/{name}"
        page = parse_page(rig.store.read(key))
        assert page.errors == [] and page.stack == [], (key, page.errors, page.stack)
        pages[url] = (key, page)
    return pages


def _check_reciprocal(pages: dict) -> int:
    """Every alternate points at a written page that lists the very same set back; returns pages checked."""
    checked = 0
    for url, (key, page) in pages.items():
        alternates = page.alternates()
        assert "x-default" in alternates and alternates["x-default"] in alternates.values(), key
        assert url in alternates.values(), f"{key} does not list itself"
        for hreflang, target in alternates.items():
            assert target in pages, f"{key}: {hreflang} -> {target} is not a page"
            assert pages[target][1].alternates() == alternates, f"{key} and {target} disagree"
        checked += 1
    return checked


def test_pages_parse_and_alternates_are_reciprocal(rig):
    approved_article(rig.store, "a1", image="/media/tea.jpg", image_caption="Tân Cương tea hills")
    approved_article(rig.store, "a2", languages=("en", "ko"))
    rig.run()
    pages = _pages(rig)
    assert _check_reciprocal(pages) == 5 + 3  # five article pages, three indexes
    en = pages["https://dynamic.thainguyen.example/en/a1.html"][1]
    assert en.alternates() == {"en": "https://dynamic.thainguyen.example/en/a1.html",
                               "zh-Hans": "https://dynamic.thainguyen.example/zh/a1.html",
                               "ko": "https://dynamic.thainguyen.example/ko/a1.html",
                               "x-default": "https://dynamic.thainguyen.example/en/a1.html"}
    html_tag = next(attrs for tag, attrs in en.tags if tag == "html")
    assert html_tag["lang"] == "en"
    assert en.meta("og:url") == ["https://dynamic.thainguyen.example/en/a1.html"]
    assert en.meta("og:image") == ["https://dynamic.thainguyen.example/media/tea.jpg"]
    assert en.meta("og:image:alt") == ["Tân Cương tea hills"] and en.meta("og:locale") == ["en_US"]
    assert sorted(en.meta("og:locale:alternate")) == ["ko_KR", "zh_CN"]
    assert "Tân Cương tea hills" in "".join(en.text)
    zh = pages["https://dynamic.thainguyen.example/zh/a1.html"][1]
    assert next(attrs for tag, attrs in zh.tags if tag == "html")["lang"] == "zh-Hans"
    index = pages["https://dynamic.thainguyen.example/ko/"][1]
    links = [attrs["href"] for tag, attrs in index.tags if tag == "a" and attrs["href"].endswith(".html")]
    assert sorted(links) == ["https://dynamic.thainguyen.example/ko/a1.html", "https://dynamic.thainguyen.example/ko/a2.html"]


def test_a_language_published_later_is_added_to_every_versions_alternates(rig):
    approved_article(rig.store, "a1", languages=("zh",))
    rig.run()
    only_zh = _pages(rig)["https://dynamic.thainguyen.example/zh/a1.html"][1].alternates()
    assert only_zh == {"zh-Hans": "https://dynamic.thainguyen.example/zh/a1.html",
                       "x-default": "https://dynamic.thainguyen.example/zh/a1.html"}
    put_decision(rig.store, "a1", "r1", "en")
    rig.run()
    pages = _pages(rig)
    _check_reciprocal(pages)
    assert pages["https://dynamic.thainguyen.example/zh/a1.html"][1].alternates()["x-default"] == \
        "https://dynamic.thainguyen.example/en/a1.html"

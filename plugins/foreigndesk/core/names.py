"""The desk's shared names: its outlets, its languages and how each is written, the demo notice.

One table per idea, in one place, so a language added or an outlet renamed is
changed once: the review form, the feeds, the web pages and the status report
all read these.
"""

from __future__ import annotations

#: The outlets whose editors drop articles, by the id used in drop zones, front matter and keys.
OUTLET_NAMES = {"baothainguyen": "Báo Thái Nguyên", "tntv": "Đài PT-TH Thái Nguyên (TNTV)"}
DEFAULT_OUTLETS = tuple(OUTLET_NAMES)

#: Articles arrive in Vietnamese.
SOURCE_LANGUAGE = "vi"
#: Chinese and Korean are translated from the English: the models go vi → en → zh/ko.
PIVOT_LANGUAGE = "en"
#: The languages the desk translates into, in the order readers are offered them.
TARGET_LANGUAGES = ("en", "zh", "ko")

#: A language's name in itself, as a reader or a reviewer looks for it.
LANGUAGE_NAMES = {"en": "English", "zh": "中文", "ko": "한국어", "vi": "Tiếng Việt"}
#: BCP 47 tags for HTML ``lang``/``hreflang`` (Simplified Chinese is the province's written Chinese).
LANGUAGE_TAGS = {"en": "en", "zh": "zh-Hans", "ko": "ko", "vi": "vi"}
#: RSS 2.0 ``<language>`` values (the RSS spec's list predates script subtags).
RSS_LANGUAGES = {"en": "en", "zh": "zh-cn", "ko": "ko", "vi": "vi"}
#: OpenGraph ``og:locale`` values.
OG_LOCALES = {"en": "en_US", "zh": "zh_CN", "ko": "ko_KR", "vi": "vi_VN"}

#: Shown first wherever a demo model's output appears (review form, feed items, web pages).
DEMO_NOTICE = "DEMO MODEL — not a real translation"

#: Placeholder formats the translate stage can mask with; the settings pick one by name.
PLACEHOLDER_STYLE_NAMES = ("[]", "{}", "##", "<t>", "⟦⟧")


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


def outlet_name(outlet: str) -> str:
    return OUTLET_NAMES.get(outlet, outlet)

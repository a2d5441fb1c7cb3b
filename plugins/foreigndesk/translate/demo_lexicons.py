"""The demo packages' word swaps: data, not code (see :mod:`foreigndesk.translate.demo_models`)."""

from __future__ import annotations

DEMO_PAIRS: tuple[tuple[str, str], ...] = (("vi", "en"), ("en", "zh"), ("en", "ko"))

#: Word swaps per pair. Keys may be several words ("hợp tác"); each key and value
#: is a single SentencePiece piece. Any other pair builds a pure copy model.
LEXICONS: dict[tuple[str, str], dict[str, str]] = {
    ("vi", "en"): {
        "tỉnh": "province",
        "Tỉnh": "Province",
        "hợp tác": "cooperation",
        "Hợp tác": "Cooperation",
        "du lịch": "tourism",
        "Du lịch": "Tourism",
        "chè": "tea",
        "Chè": "Tea",
        "và": "and",
        "với": "with",
        "của": "of",
        "năm": "year",
        "Năm": "Year",
        "Việt Nam": "Vietnam",
    },
    ("en", "zh"): {
        "province": "省",
        "Province": "省",
        "cooperation": "合作",
        "Cooperation": "合作",
        "tourism": "旅游",
        "Tourism": "旅游",
        "tea": "茶",
        "Tea": "茶",
        "and": "和",
        "with": "与",
        "of": "的",
        "year": "年",
        "Year": "年",
        "Vietnam": "越南",
    },
    ("en", "ko"): {
        "province": "도",
        "Province": "도",
        "cooperation": "협력",
        "Cooperation": "협력",
        "tourism": "관광",
        "Tourism": "관광",
        "tea": "차",
        "Tea": "차",
        "and": "및",
        "with": "와",
        "of": "의",
        "year": "년",
        "Year": "년",
        "Vietnam": "베트남",
    },
}

"""The article the benchmarks drop: one realistic Vietnamese news item, numbered so every copy is new.

Shared by the benchmarks that feed the desk (``ingest.py``, ``pipeline.py``), so their figures are for
the same text: a front-matter block as editors write it, three paragraphs and a list.
"""

from __future__ import annotations

OUTLETS = ("baothainguyen", "tntv")
BODY = (
    "Ngày 14 tháng 3, Ủy ban nhân dân tỉnh Thái Nguyên đã tiếp đoàn công tác của tỉnh Gyeongsangbuk-do "
    "(Hàn Quốc). Hai bên thống nhất mở rộng hợp tác du lịch và giao lưu văn hóa.\n\n"
    "- Quảng bá du lịch chè Thái Nguyên tại Hàn Quốc.\n- Trao đổi đoàn nghệ thuật năm 2025.\n\n"
    "Lãnh đạo tỉnh cho biết hợp tác là ưu tiên trong kế hoạch thông tin đối ngoại năm 2025.\n"
)


def sample_article(article_id: str, title: str, number: int) -> tuple[str, bytes]:
    """(outlet, the file's bytes); outlets alternate with ``number``."""
    outlet = OUTLETS[number % len(OUTLETS)]
    raw = (
        f"---\nid: {article_id}\ntitle: {title}\noutlet: {outlet}\n"
        f"approved_by: Nguyễn Văn An\napproved_at: 2025-03-14T09:30:00+07:00\ntags: [đối ngoại, du lịch]\n---\n"
        f"{BODY}\nSố thứ tự {number}.\n"
    ).encode()
    return outlet, raw

"""Building drop files for tests and benchmarks: a valid article, then whatever defect a test needs."""

from __future__ import annotations

BASE_FIELDS = {
    "title": "Thái Nguyên đón đoàn công tác tỉnh Luông Pha Băng",
    "outlet": "baothainguyen",
    "approved_by": "Nguyễn Văn An",
    "approved_at": "2025-03-14T09:30:00+07:00",
}
BASE_BODY = "Ngày 14 tháng 3, Ủy ban nhân dân tỉnh Thái Nguyên đã tiếp đoàn công tác tỉnh Luông Pha Băng (Lào).\n"


def article_bytes(body: str = BASE_BODY, **fields: object) -> bytes:
    """A drop in the documented format; a field given as None is left out."""
    merged = {**BASE_FIELDS, **fields}
    lines = ["---"]
    for name, value in merged.items():
        if value is None:
            continue
        if isinstance(value, list):
            lines.append(f"{name}: [{', '.join(str(item) for item in value)}]")
        else:
            lines.append(f"{name}: {value}")
    lines.append("---")
    return ("\n".join(lines) + "\n" + body).encode()

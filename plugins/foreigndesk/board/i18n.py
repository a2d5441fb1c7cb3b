"""The board's labels in Vietnamese and English, and which one a request gets.

The desk's staff read Vietnamese; the UI language follows the ``?ui=`` toggle,
then the cookie the toggle leaves, then the browser's Accept-Language.
"""

from __future__ import annotations

UI_LANGUAGES = ("vi", "en")
COOKIE = "foreigndesk_ui"

LABELS: dict[str, tuple[str, str]] = {  # key: (en, vi)
    "title": ("Desk board", "Bảng điều phối"),
    "subtitle": ("Where every article stands", "Mọi bài viết đang ở đâu"),
    "signed_in": ("Signed in as", "Đăng nhập:"),
    "chief": ("desk chief", "trưởng ban"),
    "my_reviews": ("My reviews", "Bài tôi cần duyệt"),
    "no_reviews": ("Nothing waits for you.", "Không có bài nào chờ bạn duyệt."),
    "open_review": ("Open the review", "Mở bản duyệt"),
    "opened": ("opened", "mở lúc"),
    "round": ("round", "vòng"),
    "filters": ("Filters", "Bộ lọc"),
    "outlet": ("Outlet", "Cơ quan"),
    "language": ("Language", "Ngôn ngữ"),
    "state": ("State", "Trạng thái"),
    "period": ("Period", "Khoảng thời gian"),
    "days": ("days", "ngày"),
    "search": ("Title or id", "Tiêu đề hoặc mã"),
    "apply": ("Apply", "Lọc"),
    "all": ("all", "tất cả"),
    "counts": ("States", "Trạng thái"),
    "translations": ("Translations", "Bản dịch"),
    "channels": ("Channels", "Kênh đăng"),
    "grid": ("Articles", "Bài viết"),
    "article": ("Article", "Bài viết"),
    "no_articles": ("No article matches.", "Không có bài nào khớp."),
    "source": ("source", "bản gốc"),
    "history": ("history", "lịch sử"),
    "revision": ("revision", "phiên bản"),
    "older_revision": ("older revision", "phiên bản cũ"),
    "registered": ("registered", "nhận lúc"),
    "with": ("with", "người giữ"),
    "since": ("since", "từ"),
    "reason": ("reason", "lý do"),
    "attempts": ("attempts", "lần thử"),
    "retry": ("Retry", "Thử lại"),
    "withdraw": ("Withdraw", "Gỡ bài"),
    "withdraw_reason": ("Reason for withdrawing", "Lý do gỡ bài"),
    "all_languages": ("every language", "mọi ngôn ngữ"),
    "charts": ("Figures for the period", "Số liệu trong kỳ"),
    "chart_flow": ("Articles in (solid) and published (dashed) per day", "Bài nhận (liền) và đã đăng (đứt) mỗi ngày"),
    "chart_review": ("Review time per language, hours", "Thời gian duyệt theo ngôn ngữ, giờ"),
    "median": ("median", "trung vị"),
    "p90": ("90th percentile", "phân vị 90"),
    "chart_effort": ("Post-edit effort (words changed per machine word) by language and model",
                     "Mức hiệu đính (từ sửa / từ máy dịch) theo ngôn ngữ và mô hình"),
    "chart_qa": ("QA findings by check", "Cảnh báo kiểm tra chất lượng theo loại"),
    "chart_failures": ("Channel failures by channel", "Lỗi đăng theo kênh"),
    "in": ("in", "nhận"),
    "published": ("published", "đã đăng"),
    "no_data": ("no data in this period", "không có số liệu trong kỳ"),
    "page": ("page", "trang"),
    "prev": ("previous", "trước"),
    "next": ("next", "sau"),
    "back": ("Back to the board", "Về bảng điều phối"),
    "decisions": ("Decisions", "Quyết định duyệt"),
    "reviewer": ("reviewer", "người duyệt"),
    "decided": ("decided", "lúc"),
    "edit_distance": ("edit distance (words)", "số từ sửa"),
    "publications": ("Publications", "Đăng tải"),
    "actions": ("Desk actions", "Thao tác của ban"),
    "who": ("who", "ai"),
    "when": ("when", "khi nào"),
    "what": ("what", "việc gì"),
    "outcome": ("outcome", "kết quả"),
    "no_actions": ("No desk action recorded.", "Chưa có thao tác nào."),
    "action_done": ("Done", "Đã làm"),
    "action_refused": ("Refused", "Bị từ chối"),
    "action_unavailable": ("Not available", "Chưa có chức năng"),
    "not_found": ("No such article", "Không có bài này"),
    "channel": ("channel", "kênh"),
    "generated": ("generated", "tạo lúc"),
}


def t(key: str, ui: str) -> str:
    en, vi = LABELS[key]
    return vi if ui == "vi" else en


def choose(toggle: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The toggle wins, then the remembered choice, then the browser's first language we have."""
    for choice in (toggle, cookie):
        if choice in UI_LANGUAGES:
            return choice
    ranked = []
    for n, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        ranked.append((-weight, n, tag.strip().lower().split("-")[0]))
    for _, _, tag in sorted(ranked):
        if tag in UI_LANGUAGES:
            return tag
    return "vi"

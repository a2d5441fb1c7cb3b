"""What a translator did to the machine text: is the result publishable, and how much was changed.

An Approve is a claim that the text is ready. The form's fields come back
unvalidated (the HITL API does not check them against their schema — docs/airflow-hitl.md),
so the desk checks the approved text itself before it may count as approved:
nothing empty, no Markdown left half-open, no link or image of the source lost,
no glossary error left in place. Each problem is a sentence the translator can
act on; it is shown first in the re-review form.

The edit distance is the post-editing effort: word-level edits (CJK characters
count as words, since Chinese has no spaces) between the machine text and the
approved text.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence

from foreigndesk.core.decisions import Texts
from foreigndesk.core.drafts import GLOSSARY_FINDINGS
from foreigndesk.core.names import DEMO_NOTICE
from foreigndesk.core.zalo_limits import shortenings

_FENCE = re.compile(r"^\s{0,3}(```|~~~)", re.MULTILINE)
_LINK_TARGET = re.compile(r"(!?)\[([^\]\n]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_BARE_URL = re.compile(r"(?<![(<\[])\bhttps?://[^\s)<>\]\"'`]+")
#: Raw HTML is never a link in any output (it is removed at intake and escaped on output), so a URL
#: inside it is not one the translation must keep: the check that says "remove the <iframe>" and the
#: check that says "put its URL back" must never both fire. Active elements go with their content.
_RAW_ELEMENTS = ("script", "style", "iframe", "object", "embed", "video", "audio")
_RAW_OPEN = re.compile(r"<(" + "|".join(_RAW_ELEMENTS) + r")\b", re.IGNORECASE)
_RAW_TAG = re.compile(r"<!--.*?(?:-->|\Z)|</?[A-Za-z][A-Za-z0-9-]*(?=[\s/>])[^<>]*>", re.DOTALL)
_OPEN_LINK = re.compile(r"\]\((?![^)\n]*\))")
_SCRIPT = re.compile(r"<\s*(script|iframe|object|embed)\b", re.IGNORECASE)
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+")


def tokens(text: str) -> list[str]:
    """Words, with every CJK character a word of its own."""
    return _TOKEN.findall(text)


def _levenshtein(a: Sequence[str], b: Sequence[str]) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, left in enumerate(a, 1):
        current = [i]
        for j, right in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (left != right)))
        previous = current
    return previous[-1]


#: Above this many DP cells (changed words × changed words, ~1 s) the exact computation is split up.
EXACT_CELLS = 6_000_000


def edit_distance(machine: str, final: str) -> int:
    """Word-level Levenshtein distance from ``machine`` to ``final``.

    The unchanged beginning and end are cut off first, so a typical review
    (a few edits, or none) costs almost nothing. What remains is computed
    exactly up to ``EXACT_CELLS``; beyond that (a rewrite of a very long text),
    difflib aligns the unchanged stretches and the exact distance is summed
    over the changed stretches between them, which can only over-count.
    """
    a, b = tokens(machine), tokens(final)
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    a, b = a[start : len(a) - end], b[start : len(b) - end]
    if len(a) * len(b) <= EXACT_CELLS:
        return _levenshtein(a, b)
    total = 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op != "equal":
            total += _levenshtein(a[i1:i2], b[j1:j2])
    return total


def without_raw_html(markdown: str) -> str:
    """The text with its raw HTML taken out (autolinks like ``<https://…>`` are Markdown, and stay)."""
    if "<" not in markdown:
        return markdown
    lower, kept, position = markdown.lower(), [], 0
    for match in _RAW_OPEN.finditer(markdown):
        if match.start() < position:
            continue
        end = lower.find(f"</{match.group(1).lower()}", match.end())  # one find per element: linear overall
        if end < 0:
            break  # unclosed: its tags go below, one by one
        closed = markdown.find(">", end)
        kept.append(markdown[position : match.start()])
        position = closed + 1 if closed >= 0 else len(markdown)
    kept.append(markdown[position:])
    return _RAW_TAG.sub(" ", " ".join(kept))


def urls(markdown: str) -> dict[str, str]:
    """Every link and image target in a Markdown text, with what it is ("link" or "image").

    URLs written inside raw HTML are not links of the text (see ``_RAW_ELEMENT``) and are not counted.
    """
    markdown = without_raw_html(markdown)
    found: dict[str, str] = {}
    for bang, _, target in _LINK_TARGET.findall(markdown):
        found.setdefault(target, "image" if bang else "link")
    for target in _AUTOLINK.findall(markdown) + _BARE_URL.findall(markdown):
        found.setdefault(target.rstrip(".,;:!?"), "link")
    return found


def markdown_problems(name: str, text: str) -> list[str]:
    problems: list[str] = []
    if len(_FENCE.findall(text)) % 2:
        problems.append(f"{name}: a code block opened with ``` is never closed; add the closing ``` line.")
    for number, paragraph in enumerate(re.split(r"\n\s*\n", text), 1):
        if _OPEN_LINK.search(paragraph):
            problems.append(f"{name}, paragraph {number}: a link '](' is never closed with ')'.")
        if paragraph.count("**") % 2:
            problems.append(f"{name}, paragraph {number}: bold '**' is opened and never closed.")
    if _SCRIPT.search(text):
        problems.append(f"{name}: raw HTML (<script>, <iframe>, <object>, <embed>) is not allowed; remove it.")
    return problems


def _present(needle: str, haystack: str) -> bool:
    return needle.casefold() in haystack.casefold()


def glossary_problems(
    machine: Texts,
    final: Texts,
    glossary_terms: Sequence[Mapping[str, str]],
    findings: Sequence[Mapping[str, object]],
    machine_segments: Mapping[str, str],
) -> list[str]:
    """Glossary renderings the machine got right must stay; glossary errors must be gone."""
    problems: list[str] = []
    machine_text, final_text = machine.joined(), final.joined()
    for term in glossary_terms:
        target, source = str(term.get("target", "")), str(term.get("source", ""))
        if target and _present(target, machine_text) and not _present(target, final_text):
            problems.append(f"Glossary: '{source}' must be rendered '{target}'; it is missing from your text.")
    for finding in findings:
        if finding.get("severity") != "error" or finding.get("check") not in GLOSSARY_FINDINGS:
            continue
        segment = machine_segments.get(str(finding.get("segment")), "")
        if segment.strip() and segment.strip() in final_text:
            problems.append(f"Glossary error still present (unchanged text): {finding.get('message', '')}")
    return problems


def check_edit(
    source_body: str,
    machine: Texts,
    final: Texts,
    glossary_terms: Sequence[Mapping[str, str]] = (),
    findings: Sequence[Mapping[str, object]] = (),
    machine_segments: Mapping[str, str] | None = None,
) -> list[str]:
    """Why the approved text can't be published, in the order a translator should fix it; [] when it can."""
    problems: list[str] = []
    if not final.title.strip():
        problems.append("Title is empty; write the headline.")
    if not final.body.strip():
        problems.append("Body is empty; the translation must have a text.")
    if machine.summary.strip() and not final.summary.strip():
        problems.append("Summary is empty; write a one-sentence summary.")
    for name, text in (("Title", final.title), ("Summary", final.summary), ("Body", final.body)):
        problems += markdown_problems(name, text)
    kept = urls(final.joined())
    for target, kind in urls(source_body).items():
        if target not in kept:
            problems.append(f"Body: the {kind} {target} from the source is missing; put it back.")
    problems += glossary_problems(machine, final, glossary_terms, findings, machine_segments or {})
    return problems


def zalo_problems(shown: Texts, final: Texts, author: str, demo_model: bool = False) -> list[str]:
    """Fields TNTV's Zalo OA would cut in a way the answered form did not show: the cut is never after approval.

    The form (``form.zalo_notice``) announced how Zalo shortens the text it was pre-filled
    with (``shown``). A field the reviewer made too long, or cut differently, goes back
    once with the exact cut; approving it again unchanged is then what the form showed.
    """
    def cuts(texts: Texts) -> dict[str, str]:
        description = (f"{DEMO_NOTICE}. {texts.summary}".strip() if demo_model else texts.summary) or texts.title
        return {cut.field: cut.shown for cut in shortenings(texts.title, author, description)}

    announced = cuts(shown)
    return [f"{field.capitalize()}: too long for TNTV's Zalo OA, where it would read “{text}”. Shorten it, or "
            "approve it again as it is (the form now shows that cut)."
            for field, text in cuts(final).items() if announced.get(field) != text]

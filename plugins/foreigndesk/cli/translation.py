"""Translation at a shell: one article through the engine, glossary and memory; the glossary's checks and
the suggestions reviewers' edits add to it; the memory rebuilt from the recorded approvals."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from foreigndesk.core.settings import load_settings


def _read_article_file(path: Path) -> tuple[str, str, str]:
    """(title, summary, body) of a Markdown file, with or without YAML front matter."""
    import unicodedata

    import yaml

    text = unicodedata.normalize("NFC", path.read_text(encoding="utf-8").lstrip("\ufeff"))
    if text.startswith("---"):
        head, sep, body = text[3:].partition("\n---")
        if sep:
            front = yaml.safe_load(head) or {}
            if isinstance(front, dict):
                return str(front.get("title") or ""), str(front.get("summary") or ""), body.partition("\n")[2].strip() + "\n"
    return "", "", text


def cmd_translate(args: argparse.Namespace) -> int:
    from foreigndesk.core.store import StoreError, open_store
    from foreigndesk.translate.engine import ArgosEngine, MissingModel
    from foreigndesk.translate.glossary import GlossaryError, load_glossary
    from foreigndesk.translate.memory import TranslationMemory
    from foreigndesk.translate.pipeline import SourceText, translate_texts
    from foreigndesk.translate.placeholder_styles import PLACEHOLDER_STYLES

    settings = load_settings()
    languages = tuple(lang.strip() for lang in args.lang.split(",") if lang.strip())
    unknown = [lang for lang in languages if lang not in settings.languages]
    if unknown or not languages:
        print(f"foreigndesk: --lang {args.lang!r}: use some of {','.join(settings.languages)}", file=sys.stderr)
        return 2
    try:
        title, summary, body = _read_article_file(Path(args.file))
        glossary = load_glossary(settings.glossary_dir)
        memory = TranslationMemory(open_store(args.store or settings.store))
        result = translate_texts([SourceText(title, summary, body, languages)], ArgosEngine.from_settings(settings),
                                 glossary, memory, PLACEHOLDER_STYLES[settings.placeholder_style])[0]
    except (OSError, UnicodeDecodeError, GlossaryError, MissingModel, StoreError) as error:
        print(f"foreigndesk: {error}", file=sys.stderr)
        return 1
    payload = {
        lang: {"title": t.title, "summary": t.summary, "markdown": t.body, "findings": t.findings,
               "models": [model.name for model in t.models], "memory_hits": t.memory_hits}
        for lang, t in result.items()
    }
    if args.json:
        print(json.dumps(payload, ensure_ascii=False, indent=1))
        return 0
    for lang, item in payload.items():
        print(f"===== {lang} ({' + '.join(item['models']) or 'translation memory'})")
        if item["title"]:
            print(f"# {item['title']}\n")
        print(item["markdown"])
        for finding in item["findings"]:
            print(f"  [{finding['severity']}] {finding['check']} {finding['segment']}: {finding['message']}")
    return 0


def cmd_glossary_check(args: argparse.Namespace) -> int:
    from foreigndesk.translate.glossary import check_glossary

    folder = Path(args.dir) if args.dir else load_settings().glossary_dir
    entries, problems = check_glossary(folder)
    for problem in problems:
        where = problem.where if problem.where == str(folder) else str(folder / problem.where)
        print(f"{where}: {problem.kind}: {problem.message}")
    if problems:
        print(f"{len(problems)} problem(s) in {folder}; fix them, then run this again", file=sys.stderr)
        return 1
    print(f"glossary OK: {len(entries)} concepts in {folder}")
    return 0


def _suggestion_context(args: argparse.Namespace):
    from foreigndesk.core.store import open_store
    from foreigndesk.translate.glossary import load_glossary

    settings = load_settings()
    folder = Path(args.dir) if getattr(args, "dir", None) else settings.glossary_dir
    return open_store(args.store or settings.store), folder, load_glossary(folder)


def cmd_glossary_suggest(args: argparse.Namespace) -> int:
    from foreigndesk.quality.suggestions import format_suggestions, suggest

    store, _, glossary = _suggestion_context(args)
    found = suggest(store, glossary, args.min_count, args.lang)
    print(json.dumps([s.as_json() for s in found], ensure_ascii=False, indent=1) if args.json
          else format_suggestions(found))
    return 0


def cmd_glossary_accept(args: argparse.Namespace) -> int:
    from foreigndesk.quality.suggestions import SuggestionError, accept

    store, folder, glossary = _suggestion_context(args)
    try:
        mark = accept(store, folder, glossary, args.id, args.vi or "",
                      {"en": args.en, "zh": args.zh, "ko": args.ko}, args.min_count)
    except SuggestionError as error:
        print(f"foreigndesk: {error}", file=sys.stderr)
        return 1
    row = mark.row
    print(f"accepted {mark.suggestion_id}: {row['vi']} → en {row['en']} · zh {row['zh']} · ko {row['ko']} "
          f"(written to {folder / 'from-approvals.csv'}; glossary check passes)")
    return 0


def cmd_glossary_dismiss(args: argparse.Namespace) -> int:
    from foreigndesk.quality.suggestions import SuggestionError, dismiss

    store, _, glossary = _suggestion_context(args)
    try:
        mark = dismiss(store, glossary, args.id, args.min_count)
    except SuggestionError as error:
        print(f"foreigndesk: {error}", file=sys.stderr)
        return 1
    print(f"dismissed {mark.suggestion_id}: '{mark.machine}' → '{mark.approved}' will not be suggested again")
    return 0


def cmd_memory_rebuild(args: argparse.Namespace) -> int:
    """Feed every recorded decision to the translation memory, e.g. after restoring a store from backup."""
    from foreigndesk.core.store import open_store
    from foreigndesk.translate.memory import rebuild_memory

    written = rebuild_memory(open_store(args.store or load_settings().store))
    print(f"translation memory: {written} new unit(s) remembered from the recorded approvals")
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    translate = commands.add_parser("translate", help="translate one Markdown article with the installed models")
    translate.add_argument("--file", required=True, help="the article (Markdown, front matter optional)")
    translate.add_argument("--lang", default="en,zh,ko", help="target languages, e.g. en,zh,ko")
    translate.add_argument("--store", help="store holding the translation memory (default: FOREIGNDESK_STORE)")
    translate.add_argument("--json", action="store_true")
    translate.set_defaults(func=cmd_translate)

    glossary = commands.add_parser("glossary", help="the provincial glossary").add_subparsers(dest="glossary", required=True)
    glossary_check = glossary.add_parser("check", help="report duplicates, conflicts, empty targets and malformed rows")
    glossary_check.add_argument("--dir", help="glossary folder (default: FOREIGNDESK_GLOSSARY_DIR or glossary/)")
    glossary_check.set_defaults(func=cmd_glossary_check)
    suggest = glossary.add_parser("suggest", help="recurring reviewer corrections that could become glossary rows")
    accept = glossary.add_parser("accept", help="write a suggestion as a row of glossary/from-approvals.csv")
    dismiss = glossary.add_parser("dismiss", help="never suggest this again")
    for sub in (suggest, accept, dismiss):
        sub.add_argument("--min-count", type=int, default=3, help="distinct articles an edit must recur in (default 3)")
        sub.add_argument("--store", help="store (default: FOREIGNDESK_STORE)")
        sub.add_argument("--dir", help="glossary folder (default: FOREIGNDESK_GLOSSARY_DIR or glossary/)")
    suggest.add_argument("--lang", help="only this language")
    suggest.add_argument("--json", action="store_true")
    suggest.set_defaults(func=cmd_glossary_suggest)
    for sub in (accept, dismiss):
        sub.add_argument("id", help="the suggestion's ID, as `glossary suggest` prints it")
    accept.add_argument("--vi", help="the Vietnamese term (default: the one the suggestion names)")
    for lang in ("en", "zh", "ko"):
        accept.add_argument(f"--{lang}", help=f"the {lang} term, when no {lang} suggestion gives it")
    accept.set_defaults(func=cmd_glossary_accept)
    dismiss.set_defaults(func=cmd_glossary_dismiss)

    memory = commands.add_parser("memory", help="the translation memory").add_subparsers(dest="memory", required=True)
    rebuild = memory.add_parser("rebuild", help="feed every recorded approval to the memory (idempotent)")
    rebuild.add_argument("--store", help="store folder or s3:// URL (default: FOREIGNDESK_STORE)")
    rebuild.set_defaults(func=cmd_memory_rebuild)

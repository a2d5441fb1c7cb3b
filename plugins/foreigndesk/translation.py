"""The translate stage: from a registered revision to one machine draft per language.

English is translated from Vietnamese once and is the source of every other
language (the models the province can get are vi→en and en→X). A draft is a
record: written once per (article, revision, language); a retried run reuses
the drafts already written instead of translating again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from foreigndesk import records
from foreigndesk.intake import Registered, load_revision
from foreigndesk.segment import reassemble, split_blocks, translatable_texts
from foreigndesk.settings import SOURCE_LANGUAGE
from foreigndesk.store import Store

PIVOT_LANGUAGE = "en"
#: Shown first wherever a demo model's output appears (review form, feed items).
DEMO_NOTICE = "DEMO MODEL — not a real translation"


class Engine(Protocol):
    def model(self, from_code: str, to_code: str): ...

    def translate(self, texts: list[str], from_code: str, to_code: str) -> list[str]: ...


def draft_key(article_id: str, revision: str, language: str) -> str:
    return f"drafts/{article_id}/{revision}/{language}.json"


@dataclass(frozen=True)
class Draft:
    """The machine translation of one revision into one language."""

    article_id: str
    revision: str
    language: str
    source_language: str
    title: str
    summary: str
    body: str
    model_name: str
    model_version: str
    demo_model: bool
    created_at: str
    #: QA findings, each {"check", "severity" ("error"|"warning"), "segment", "message"}.
    findings: list[dict] = field(default_factory=list)
    #: Indices (in segment order: title, summary, body prose) served from translation memory.
    memory_hits: list[int] = field(default_factory=list)
    #: Glossary terms applied, each {"source": Vietnamese term, "target": rendering in this language}.
    glossary_terms: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class _Text:
    """An article's translatable parts, in a fixed order: title, summary, body prose."""

    title: str
    summary: str
    body: str

    def pieces(self) -> list[str]:
        return [self.title, self.summary, *translatable_texts(split_blocks(self.body))]

    def rebuilt(self, translated: list[str]) -> "_Text":
        return _Text(translated[0], translated[1], reassemble(split_blocks(self.body), translated[2:]))


def load_draft(store: Store, article_id: str, revision: str, language: str) -> Draft:
    return records.load(store, Draft, draft_key(article_id, revision, language))


def _translate_text(engine: Engine, text: _Text, from_code: str, to_code: str) -> tuple[_Text, object]:
    model = engine.model(from_code, to_code)
    return text.rebuilt(engine.translate(text.pieces(), from_code, to_code)), model


def _make_draft(article: Registered, language: str, source: str, text: _Text, models: list) -> Draft:
    return Draft(
        article_id=article.article_id,
        revision=article.revision,
        language=language,
        source_language=source,
        title=text.title,
        summary=text.summary,
        body=text.body,
        model_name=" + ".join(model.name for model in models),
        model_version=" + ".join(model.version for model in models),
        demo_model=any(model.demo for model in models),
        created_at=records.now_utc(),
    )


def translate_revision(store: Store, engine: Engine, article_id: str, revision: str) -> list[Draft]:
    """Write a draft for every language the article asks for (skipping those already written)."""
    article = load_revision(store, article_id, revision)
    wanted = list(article.languages)
    done = {lang: load_draft(store, article_id, revision, lang) for lang in wanted
            if store.exists(draft_key(article_id, revision, lang))}
    if all(lang in done for lang in wanted):
        return [done[lang] for lang in wanted]

    if PIVOT_LANGUAGE in done:
        english = done[PIVOT_LANGUAGE]
        pivot = _Text(english.title, english.summary, english.body)
        pivot_model = engine.model(SOURCE_LANGUAGE, PIVOT_LANGUAGE)
    else:
        source = _Text(article.title, article.summary, article.body)
        pivot, pivot_model = _translate_text(engine, source, SOURCE_LANGUAGE, PIVOT_LANGUAGE)
    drafts: dict[str, Draft] = {}
    for lang in wanted:
        if lang in done:
            drafts[lang] = done[lang]
            continue
        if lang == PIVOT_LANGUAGE:
            draft = _make_draft(article, lang, SOURCE_LANGUAGE, pivot, [pivot_model])
        else:
            text, model = _translate_text(engine, pivot, PIVOT_LANGUAGE, lang)
            draft = _make_draft(article, lang, SOURCE_LANGUAGE, text, [pivot_model, model])
        if not records.write_once(store, draft_key(article_id, revision, lang), draft):
            draft = load_draft(store, article_id, revision, lang)
        drafts[lang] = draft
    return [drafts[lang] for lang in wanted]

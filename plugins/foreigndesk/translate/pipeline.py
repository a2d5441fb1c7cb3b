"""The translate stage: from a registered revision to one machine draft per language.

For every article of a run:

1. The body is cut into units (:func:`foreigndesk.translate.markdown.parse`); title and summary are units too.
2. Units a reviewer approved before come from the translation memory, per language,
   and are marked for the reviewer; the model never sees them.
3. The rest is masked (inline Markdown, code, URLs and glossary terms become
   placeholders) and translated Vietnamese → English in **one** engine call for all
   units of all articles of the run. The masked English output is the source of
   English → Chinese and English → Korean (one call each): three model passes, not
   five, and the glossary placeholders survive both hops so each language gets its
   own official term back.
4. Placeholders are restored, the Markdown is reassembled, and the QA checks
   (:mod:`foreigndesk.translate.qa`) run on every unit; their findings go into the draft.

A draft is a record: written once per (article, revision, language); a retried
run reuses the drafts already written instead of translating again.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from foreigndesk.core import records
from foreigndesk.core.drafts import Draft, draft_key, load_draft
from foreigndesk.core.names import PIVOT_LANGUAGE, SOURCE_LANGUAGE
from foreigndesk.core.revisions import RETRIGGER_WINDOW, Registered, load_revision, recent_revisions
from foreigndesk.core.store import Store
from foreigndesk.translate.event_fields import draft_event, event_sources
from foreigndesk.translate.cues import subtitle_translation
from foreigndesk.translate.glossary import Glossary
from foreigndesk.translate.markdown import Document, parse
from foreigndesk.translate.markdown_inline import Unit, inline_tokens, inline_unit
from foreigndesk.translate.placeholder_styles import DEFAULT_STYLE, PlaceholderStyle
from foreigndesk.translate.placeholders import Masked, Slot, mask, restore
from foreigndesk.translate.qa import DocumentResult, SegmentResult, run_checks

MEMORY_ONLY = "translation memory"


class Engine(Protocol):
    def model(self, from_code: str, to_code: str): ...

    def translate(self, texts: list[str], from_code: str, to_code: str) -> list[str]: ...


class Memory(Protocol):
    def lookup(self, source_language: str, target_language: str, source: str): ...


@dataclass(frozen=True)
class SourceText:
    """What one article asks to have translated."""

    title: str
    summary: str
    body: str
    languages: tuple[str, ...]
    #: The event's texts by unit id (``event.name`` …: :mod:`.event_fields`), translated like the title.
    event: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Translation:
    """One article in one language, before it becomes a draft."""

    language: str
    title: str
    summary: str
    body: str
    findings: list[dict[str, str]]
    models: list
    memory_hits: int
    segments: int
    glossary_terms: list[dict[str, str]] = field(default_factory=list)
    #: Unit id -> source Markdown, and unit id -> this language's Markdown (the draft carries both).
    source_units: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text or "")


@dataclass
class _Article:
    source: SourceText
    document: Document
    units: list[Unit]
    by_id: dict[str, Unit]
    hits: dict[str, dict[str, object]] = field(default_factory=dict)  # lang -> unit id -> memory record
    texts: dict[str, dict[str, str]] = field(default_factory=dict)  # lang -> unit id -> final Markdown
    problems: dict[str, dict[str, list]] = field(default_factory=dict)  # lang -> unit id -> placeholder problems
    vi_masks: dict[str, Masked] = field(default_factory=dict)
    pivot: dict[str, Masked] = field(default_factory=dict)  # unit id -> masked English for en→X
    used: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # lang -> model pairs its draft used

    def needed(self, language: str) -> list[Unit]:
        """Units the model must translate into ``language``: not in memory, and not inside a unit that is."""
        hits = self.hits.get(language, {})
        return [unit for unit in self.units if unit.id not in hits and unit.parent not in hits]


def _article(source: SourceText, style: PlaceholderStyle) -> _Article:
    source = SourceText(_nfc(source.title), _nfc(source.summary), _nfc(source.body), tuple(source.languages),
                        {unit_id: _nfc(text) for unit_id, text in source.event.items()})
    document = parse(source.body, style=style)
    units = inline_unit("title", "title", source.title, style=style)
    if source.summary.strip():
        units += inline_unit("summary", "summary", source.summary, style=style)
    for unit_id, text in source.event.items():
        units += inline_unit(unit_id, "title", text, style=style)
    units += list(document.units)
    units = [unit for unit in units if unit.text.strip()]
    return _Article(source, document, units, {unit.id: unit for unit in units})


def translate_texts(
    sources: list[SourceText],
    engine: Engine,
    glossary: Glossary,
    memory: Memory | None = None,
    style: PlaceholderStyle = DEFAULT_STYLE,
) -> list[dict[str, Translation]]:
    """Translate many articles at once: one engine call per language pair for all of them."""
    articles = [_article(source, style) for source in sources]
    languages = list(dict.fromkeys(lang for a in articles for lang in a.source.languages))
    for article in articles:
        for lang in article.source.languages:
            article.hits[lang] = _lookups(memory, article.units, lang)

    # vi → en, for every unit whose English is needed itself or as the pivot of another language.
    pivot_jobs: list[tuple[_Article, Unit]] = []
    for article in articles:
        wanted = {unit.id for lang in article.source.languages for unit in article.needed(lang)}
        if PIVOT_LANGUAGE not in article.hits:
            article.hits[PIVOT_LANGUAGE] = _lookups(memory, article.units, PIVOT_LANGUAGE)
        english_hits = article.hits[PIVOT_LANGUAGE]
        for unit in article.units:
            if unit.id in wanted and unit.id not in english_hits and unit.parent not in english_hits:
                article.vi_masks[unit.id] = mask(unit.tokens, style, lambda text: glossary.find(text, SOURCE_LANGUAGE))
                pivot_jobs.append((article, unit))
    models: dict[tuple[str, str], object] = {}
    english = _run(engine, models, [a.vi_masks[u.id].text for a, u in pivot_jobs], SOURCE_LANGUAGE, PIVOT_LANGUAGE, style)
    for (article, unit), output in zip(pivot_jobs, english):
        article.pivot[unit.id] = Masked(output, article.vi_masks[unit.id].slots, style)
        article.used.setdefault(PIVOT_LANGUAGE, set()).add((SOURCE_LANGUAGE, PIVOT_LANGUAGE))
    for article in articles:
        _restore_all(article, PIVOT_LANGUAGE, glossary)
        _pivot_from_memory(article, glossary, style)

    # en → X for every other language, from the masked English.
    for lang in languages:
        if lang == PIVOT_LANGUAGE:
            continue
        jobs = [(a, u) for a in articles if lang in a.source.languages for u in a.needed(lang) if u.id in a.pivot]
        outputs = _run(engine, models, [a.pivot[u.id].text for a, u in jobs], PIVOT_LANGUAGE, lang, style)
        for (article, unit), output in zip(jobs, outputs):
            article.texts.setdefault(lang, {})[unit.id] = output
            used = article.used.setdefault(lang, set())
            used.add((PIVOT_LANGUAGE, lang))
            if unit.id in article.vi_masks:
                used.add((SOURCE_LANGUAGE, PIVOT_LANGUAGE))
        for article in articles:
            if lang in article.source.languages:
                _restore_all(article, lang, glossary)
    return [_results(article, glossary, models, style) for article in articles]


def _lookups(memory: Memory | None, units: list[Unit], language: str) -> dict[str, object]:
    if memory is None:
        return {}
    found = {}
    for unit in units:
        record = memory.lookup(SOURCE_LANGUAGE, language, unit.text)
        if record is not None:
            found[unit.id] = record
    return found


def _run(engine: Engine, models: dict, texts: list[str], from_code: str, to_code: str, style: PlaceholderStyle) -> list[str]:
    """One engine call for a language pair, for the texts that have words in them.

    A text of placeholders, digits and punctuation only (an image, a cell "2025") is
    its own translation; with nothing left (memory covered everything) there is no call.
    """
    prose = [i for i, text in enumerate(texts) if any(c.isalpha() for c in style.strict.sub("", text))]
    outputs = list(texts)
    if prose:
        models[(from_code, to_code)] = engine.model(from_code, to_code)
        for i, output in zip(prose, engine.translate([texts[i] for i in prose], from_code, to_code)):
            outputs[i] = output
    return outputs


def _restore_all(article: _Article, lang: str, glossary: Glossary) -> None:
    """Final Markdown of every unit in ``lang``: memory hits as approved, model outputs restored.

    Children (image alt and title) are restored before their parent, which renders the image.
    """
    texts = article.texts.setdefault(lang, {})
    problems = article.problems.setdefault(lang, {})
    hits = article.hits.get(lang, {})
    for unit_id, record in hits.items():
        texts[unit_id] = record.target
    raw = {unit.id: (article.pivot[unit.id].text if lang == PIVOT_LANGUAGE else texts.get(unit.id))
           for unit in article.needed(lang) if unit.id in article.pivot}
    value_of = _values(lang, texts)  # reads texts as they fill up: children first, then their parent
    for unit in sorted(article.needed(lang), key=lambda u: -u.id.count(".")):
        if raw.get(unit.id) is not None:
            texts[unit.id], problems[unit.id] = restore(raw[unit.id], article.pivot[unit.id], value_of)


def _values(lang: str, texts: Mapping[str, str]) -> Callable[[int, Slot], str]:
    def value_of(_: int, slot: Slot) -> str:
        if slot.kind == "term":
            return slot.term.target(lang)
        if slot.kind == "image":
            image = slot.image
            return image.render(texts.get(image.alt_id, ""), texts.get(image.title_id, "") if image.title_id else "")
        return slot.value

    return value_of


def _pivot_from_memory(article: _Article, glossary: Glossary, style: PlaceholderStyle) -> None:
    """Units whose English is approved in memory pivot from that English, not from the model.

    The approved text is masked again (English glossary terms, markup, URLs); an image in it
    gets its alt text and title from the approved English as well.
    """
    english_hits = article.hits.get(PIVOT_LANGUAGE, {})
    need = {unit.id for lang in article.source.languages if lang != PIVOT_LANGUAGE for unit in article.needed(lang)}
    for unit in article.units:
        if unit.id not in english_hits or unit.id not in need:
            continue
        tokens, children = inline_tokens(unit.id, unit.kind, english_hits[unit.id].target, style)
        article.pivot[unit.id] = mask(tokens, style, lambda text: glossary.find(text, PIVOT_LANGUAGE))
        for child in children:
            if child.id in article.by_id and child.id not in article.pivot:
                article.pivot[child.id] = mask(child.tokens, style, lambda text: glossary.find(text, PIVOT_LANGUAGE))


def _results(article: _Article, glossary: Glossary, models: dict, style: PlaceholderStyle) -> dict[str, Translation]:
    out = {}
    terms = {
        unit.id: tuple(slot.term for slot in (article.vi_masks.get(unit.id) or mask(
            unit.tokens, style, lambda text: glossary.find(text, SOURCE_LANGUAGE))).terms)
        for unit in article.units
    }
    for lang in article.source.languages:
        texts = article.texts.get(lang, {})
        hits = article.hits.get(lang, {})
        for unit in article.units:
            texts.setdefault(unit.id, "")
        segments = [
            SegmentResult(
                unit=unit,
                language=lang,
                target=texts[unit.id],
                terms=terms[unit.id],
                placeholder_problems=tuple(article.problems.get(lang, {}).get(unit.id, ())),
                memory=hits.get(unit.id),
            )
            for unit in article.units
            if unit.parent not in hits
        ]
        body = article.document.render(texts)
        findings = run_checks(segments, [DocumentResult("body", lang, article.source.body, body)])
        pairs = article.used.get(lang, set())
        used = [models[pair] for pair in ((SOURCE_LANGUAGE, PIVOT_LANGUAGE), (PIVOT_LANGUAGE, lang))
                if pair in pairs and pair in models]
        out[lang] = Translation(
            language=lang,
            title=texts.get("title", ""),
            summary=texts.get("summary", ""),
            body=body,
            findings=[finding.as_dict() for finding in findings],
            models=used,
            memory_hits=sum(1 for segment in segments if segment.memory is not None),
            segments=len(segments),
            glossary_terms=_applied_terms(terms.values(), lang),
            source_units={unit.id: unit.text for unit in article.units},
            units={unit.id: texts[unit.id] for unit in article.units},
        )
    return out


def _applied_terms(unit_terms, lang: str) -> list[dict[str, str]]:
    """Each glossary concept used in the article once, as the reviewer should find it."""
    seen: dict[str, dict[str, str]] = {}
    for terms in unit_terms:
        for term in terms:
            if term is not None and term.vi not in seen:
                seen[term.vi] = {"source": term.vi, "target": term.target(lang)}
    return list(seen.values())


# --- drafts ---------------------------------------------------------------------------------------


def _make_draft(article: Registered, translation: Translation, pivot: dict[str, Any] | None = None) -> Draft:
    models = translation.models
    return Draft(
        article_id=article.article_id,
        revision=article.revision,
        language=translation.language,
        source_language=SOURCE_LANGUAGE,
        title=translation.title,
        summary=translation.summary,
        body=translation.body,
        model_name=" + ".join(model.name for model in models) or MEMORY_ONLY,
        model_version=" + ".join(model.version for model in models),
        demo_model=any(model.demo for model in models),
        created_at=records.now_utc(),
        findings=translation.findings,
        segments=translation.segments,
        glossary_terms=translation.glossary_terms,
        source_units=translation.source_units,
        units=translation.units,
        pivot=dict(pivot or {}),
        event=draft_event(translation.units),
    )


def translate_revision(
    store: Store,
    engine: Engine,
    article_id: str,
    revision: str,
    glossary: Glossary | None = None,
    memory: Memory | None = None,
    style: PlaceholderStyle | None = None,
    languages: Sequence[str] | None = None,
    pivot: dict[str, Any] | None = None,
) -> list[Draft]:
    """Write a draft for every language the article asks for and the desk translates into.

    ``languages`` (default: ``FOREIGNDESK_LANGUAGES``) limits what is translated: an
    article asking for Korean on a desk configured for English and Chinese gets no
    Korean draft, and so no Korean review. Drafts already written are reused.
    ``pivot`` is recorded in the drafts written (``Draft.pivot``: the human pivot's provenance).
    Glossary, memory and placeholder style default to the desk's settings and store.
    After a crash between two drafts, the missing languages are translated again from
    the source (the English pivot included), so every draft has the same provenance.
    """
    from foreigndesk.core.settings import load_settings
    from foreigndesk.translate.glossary import load_glossary
    from foreigndesk.translate.memory import TranslationMemory
    from foreigndesk.translate.placeholder_styles import PLACEHOLDER_STYLES

    article = load_revision(store, article_id, revision)
    desk_languages = load_settings().languages if languages is None else tuple(languages)
    wanted = [lang for lang in article.languages if lang in desk_languages]
    done = {lang: load_draft(store, article_id, revision, lang) for lang in wanted
            if store.exists(draft_key(article_id, revision, lang))}
    missing = [lang for lang in wanted if lang not in done]
    if missing:
        if glossary is None or style is None:
            settings = load_settings()
            glossary = glossary or load_glossary(settings.glossary_dir)
            style = style or PLACEHOLDER_STYLES[settings.placeholder_style]
        event, event_findings = event_sources(article.event, glossary)
        source = SourceText(article.title, article.summary, article.body, tuple(missing), event)
        memory = memory if memory is not None else TranslationMemory(store)
        translations = translate_texts([source], engine, glossary, memory, style)[0]
        if article.cues:  # a subtitled clip: its sentences, translated whole, spread back over its cues
            translations = {lang: subtitle_translation(article.cues, item) for lang, item in translations.items()}
        for lang in missing:
            translations[lang].findings += event_findings
            draft = _make_draft(article, translations[lang], pivot)
            if not records.write_once(store, draft_key(article_id, revision, lang), draft):
                draft = load_draft(store, article_id, revision, lang)
            done[lang] = draft
    return [done[lang] for lang in wanted]


def untranslated_recent(
    store: Store, now: datetime, window: timedelta = RETRIGGER_WINDOW
) -> list[tuple[str, str]]:
    """(article id, revision) of every recently registered revision that has no draft yet.

    Those are the revisions whose translate run never started (its trigger failed
    after the drop had left its source) or never got past translating; ingest
    starts them again (a run that exists is never started twice).
    """
    return [
        (article.article_id, article.revision)
        for article in recent_revisions(store, now, window)
        if not any(store.exists(draft_key(article.article_id, article.revision, lang)) for lang in article.languages)
    ]

"""Clip drops: the two files of a subtitled clip, paired within one source and handled as one drop.

A source yields files one at a time; a clip is two (:mod:`.subtitle_file`). Intake routes
both halves here while it walks a source, then handles each pair whole: registered
together, or both quarantined (each with its own original bytes) with the one reason,
and only then both taken out of the source. A half whose partner has not arrived (or
is still being copied) stays where it is, untouched, and is reported as waiting — a
half is never quarantined for arriving first. One that has waited longer than the desk's
setting (``FOREIGNDESK_CLIP_PARTNER_WAIT_SECONDS``, a day) is quarantined with its bytes and
the reason, so a forgotten half does not wait in the drop zone forever.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from foreigndesk.intake.article_file import ArticleError
from foreigndesk.intake.sources import NO_OUTLET, Drop
from foreigndesk.intake.subtitle_file import parse_clip, part_of, partner_names


@dataclass
class ClipDrops:
    """The clip halves one source yielded, by (outlet, stem)."""

    #: Seconds a half waits for its partner before it is quarantined.
    partner_wait: float = 24 * 3600
    now: Callable[[], float] = time.time
    parts: dict[tuple[str, str], dict[str, list[Drop]]] = field(default_factory=dict)

    def take(self, drop: Drop) -> bool:
        """Keep ``drop`` when it is half of a clip in an outlet folder; False: an ordinary drop."""
        found = part_of(drop.name)
        if found is None or drop.outlet == NO_OUTLET or drop.problem:
            return False
        stem, kind = found
        self.parts.setdefault((drop.outlet, stem), {"subtitles": [], "sidecar": []})[kind].append(drop)
        return True

    def ingest(
        self,
        store,
        result,
        known_outlets: Collection[str],
        max_bytes: int | None,
        register: Callable,
        refuse: Callable,
    ) -> None:
        """Handle every complete pair; ``register`` and ``refuse`` are intake's own (:mod:`.ingest`)."""
        for (outlet, stem), halves in sorted(self.parts.items()):
            if not halves["subtitles"] or not halves["sidecar"]:
                self._alone(store, result, stem, halves, refuse)
                continue
            _pair(store, result, outlet, stem, halves, known_outlets, max_bytes, register, refuse)

    def _alone(self, store, result, stem: str, halves: dict[str, list[Drop]], refuse: Callable) -> None:
        """A half without its partner: waiting, until it has waited longer than ``partner_wait``."""
        kind = "subtitles" if halves["subtitles"] else "sidecar"
        drops = halves[kind]
        partner = " or ".join(partner_names(stem, kind))
        known = [drop.changed_at for drop in drops if drop.changed_at is not None]
        overdue = len(known) == len(drops) and self.now() - max(known) > self.partner_wait
        if not overdue or any(drop.not_yet for drop in drops):
            for drop in drops:
                result.waiting.append(f"{drop.location} (waiting for {partner} beside it: a clip is its "
                                      "subtitles and its sidecar)")
            return
        hours = self.partner_wait / 3600
        reason = (f"{', '.join(drop.name for drop in drops)}: {partner} never arrived beside it within "
                  f"{hours:g} h; drop a clip's subtitles and its sidecar together (content/README.md)")
        _refuse_all(store, drops, [drop.read() for drop in drops], reason, result, refuse)


def _refuse_all(store, drops: list[Drop], raws: list[bytes], reason: str, result, refuse: Callable) -> None:
    for drop, raw in zip(drops, raws):
        refuse(store, drop, raw, reason, result)
        drop.remove()


def _pair(store, result, outlet: str, stem: str, halves: dict[str, list[Drop]], known_outlets: Collection[str],
          max_bytes: int | None, register: Callable, refuse: Callable) -> None:
    subtitles, sidecars = halves["subtitles"], halves["sidecar"]
    everything = subtitles + sidecars
    if any(drop.not_yet for drop in everything):
        result.waiting.extend(drop.location for drop in everything)
        return
    raws = [drop.read() for drop in everything]
    if any(drop.still_writing(raw) for drop, raw in zip(everything, raws)):
        result.waiting.extend(drop.location for drop in everything)
        return
    if len(subtitles) > 1 or len(sidecars) > 1:
        names = ", ".join(drop.name for drop in everything)
        _refuse_all(store, everything, raws, f"{names}: more than one subtitle file or sidecar named '{stem}'; "
                                             "keep one .vtt or .srt and one .yaml per clip", result, refuse)
        return
    subtitle, sidecar = subtitles[0], sidecars[0]
    try:
        article, record = parse_clip(raws[0], subtitle.name, raws[1], sidecar.name, outlet,
                                     known_outlets=known_outlets, max_bytes=max_bytes)
        registered = register(store, article, record, subtitle.location, subtitle.name)
    except ArticleError as error:
        _refuse_all(store, everything, raws, str(error), result, refuse)
        return
    if registered is None:
        result.unchanged.append((article.article_id, article.revision))
    else:
        result.accepted.append(registered)
    for drop in everything:
        drop.remove()

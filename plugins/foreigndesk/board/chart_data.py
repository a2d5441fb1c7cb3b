"""The period's figures (the numbers behind the board's charts), from the rows the grid shows."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from foreigndesk.board.filters import parse_moment
from foreigndesk.board.rows import Row
from foreigndesk.core.decisions import EXPIRED
from foreigndesk.publish.channels import CHANNEL_NAMES


@dataclass
class ChartData:
    days: list[str]
    #: language -> [registered per day], [first published per day]
    intake: dict[str, list[int]] = field(default_factory=dict)
    published: dict[str, list[int]] = field(default_factory=dict)
    #: language -> (median, 90th percentile) hours from a review opening to its answer
    review_hours: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: (language, model) -> mean words changed per machine word, over approvals
    effort: dict[tuple[str, str], float] = field(default_factory=dict)
    qa_findings: dict[str, int] = field(default_factory=dict)
    channel_failures: dict[str, int] = field(default_factory=dict)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def chart_data(rows: list[Row], since: datetime, now: datetime, languages: tuple[str, ...]) -> ChartData:
    """The period's figures, from the same rows the grid shows (filters applied by the caller)."""
    first = since.astimezone(timezone.utc).date()
    days = [(first + timedelta(days=n)) for n in range((now.astimezone(timezone.utc).date() - first).days + 1)]
    index = {day: n for n, day in enumerate(days)}
    data = ChartData([day.isoformat() for day in days])
    for language in languages:
        data.intake[language] = [0] * len(days)
        data.published[language] = [0] * len(days)
    review_times: dict[str, list[float]] = defaultdict(list)
    efforts: dict[tuple[str, str], list[float]] = defaultdict(list)
    qa: Counter = Counter()
    failures: Counter = Counter()
    for row in rows:
        registered = index.get(parse_moment(row.article.registered_at).astimezone(timezone.utc).date())
        for cell in row.cells:
            if cell.language not in data.intake:
                continue
            if registered is not None:
                data.intake[cell.language][registered] += 1
            if cell.first_published_at:
                day = index.get(parse_moment(cell.first_published_at).astimezone(timezone.utc).date())
                if day is not None:
                    data.published[cell.language][day] += 1
            for decision in cell.decisions:
                if parse_moment(decision.decided_at) < since:
                    continue
                if decision.opened_at and decision.outcome != EXPIRED:
                    waited = parse_moment(decision.decided_at) - parse_moment(decision.opened_at)
                    hours = waited.total_seconds() / 3600
                    review_times[cell.language].append(max(0.0, hours))
                if decision.approved and decision.machine_words:
                    model = cell.draft.model if cell.draft is not None else "?"
                    efforts[(cell.language, model)].append(decision.edit_distance / decision.machine_words)
            if cell.draft is not None:
                qa.update(dict(cell.draft.findings))
            for channel in cell.channels:
                failures[channel.channel] += sum(1 for failed_at in channel.failures if parse_moment(failed_at) >= since)
    data.review_hours = {lang: (statistics.median(times), _percentile(times, 0.9))
                         for lang, times in sorted(review_times.items())}
    data.effort = {slot: statistics.fmean(values) for slot, values in sorted(efforts.items())}
    data.qa_findings = dict(qa.most_common())
    data.channel_failures = {channel: failures.get(channel, 0) for channel in CHANNEL_NAMES}
    return data

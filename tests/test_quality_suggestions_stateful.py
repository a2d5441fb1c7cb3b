"""Glossary suggestions under any order of approvals, acceptances and dismissals (hypothesis, stateful).

Every article goes through the real path (intake, the demo engine with the
glossary as it stands at that moment, review). After every step:

* the open suggestions are exactly the (term, fix) pairs made in at least three
  articles and in at least half of the articles whose machine text had the term,
  that were neither accepted nor dismissed — with those counts;
* a dismissed or accepted suggestion never comes back, whatever is approved later;
* the glossary folder passes its check, and an accepted term is translated by the
  glossary from then on (the machine text has the fix; nothing is left to edit).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from conftest import REPO
from foreigndesk.core.store import LocalStore
from foreigndesk.quality.suggestions import accept, dismiss, suggest
from foreigndesk.translate.glossary import check_glossary, load_glossary
from quality_desk import add_article, article_bytes, review

TERMS = {"hội chợ": ("fair", "博览会", "박람회"), "nông dân": ("farmers", "农民", "농민"),
         "làng nghề": ("craft village", "手工艺村", "공예 마을")}


class SuggestionDesk(RuleBasedStateMachine):
    @initialize()
    def open_desk(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="foreigndesk-suggest-"))
        self.glossary_dir = self.folder / "glossary"
        shutil.copytree(REPO / "glossary", self.glossary_dir)
        self.store = LocalStore(self.folder / "store")
        self.edited = {term: 0 for term in TERMS}
        self.kept = {term: 0 for term in TERMS}
        self.closed: dict[str, str] = {}  # term -> accepted / dismissed
        self.articles = 0

    def teardown(self) -> None:
        shutil.rmtree(getattr(self, "folder", ""), ignore_errors=True)

    def glossary(self):
        return load_glossary(self.glossary_dir)

    @rule(term=st.sampled_from(sorted(TERMS)), fix=st.booleans())
    def approve_an_article(self, term: str, fix: bool) -> None:
        self.articles += 1
        number = self.articles
        article = add_article(self.store, article_bytes(f"Tin {number}", f"Bài {number} nói về {term} ở tỉnh.\n",
                                                        languages="en"), f"a{number}.md", glossary=self.glossary())
        english = TERMS[term][0]
        review(self.store, article, "en", f"2025-04-01T08:{number % 60:02d}:00+00:00",
               edit=(lambda text: text.replace(term, english)) if fix else None)
        if self.closed.get(term) != "accepted":  # once in the glossary the machine text has the fix already
            if fix:
                self.edited[term] += 1
            else:
                self.kept[term] += 1

    def _open(self, data, action: str):
        found = suggest(self.store, self.glossary())
        if not found:
            return None
        chosen = data.draw(st.sampled_from(found))
        term = next(term for term, targets in TERMS.items() if targets[0] == chosen.approved)
        self.closed[term] = action
        return chosen, term

    @rule(data=st.data())
    def dismiss_one(self, data) -> None:
        picked = self._open(data, "dismissed")
        if picked:
            dismiss(self.store, self.glossary(), picked[0].id)

    @rule(data=st.data())
    def accept_one(self, data) -> None:
        picked = self._open(data, "accepted")
        if picked:
            chosen, term = picked
            _, zh, ko = TERMS[term]
            mark = accept(self.store, self.glossary_dir, self.glossary(), chosen.id, targets={"zh": zh, "ko": ko})
            assert mark.row["vi"] == term and mark.row["en"] == TERMS[term][0]

    @invariant()
    def open_suggestions_follow_the_counts(self) -> None:
        if not hasattr(self, "store"):
            return
        found = {(s.machine, s.approved): s.count for s in suggest(self.store, self.glossary())}
        expected = {(term, TERMS[term][0]): self.edited[term] for term in TERMS
                    if term not in self.closed and self.edited[term] >= 3
                    and self.edited[term] >= 0.5 * (self.edited[term] + self.kept[term])}
        assert found == expected

    @invariant()
    def the_glossary_always_passes_its_check(self) -> None:
        if hasattr(self, "glossary_dir"):
            assert check_glossary(self.glossary_dir)[1] == []


SuggestionDesk.TestCase.settings = settings(max_examples=6, stateful_step_count=14, deadline=None,
                                            suppress_health_check=[HealthCheck.too_slow])


def test_suggestions_in_any_order(demo_models):
    SuggestionDesk.TestCase().runTest()

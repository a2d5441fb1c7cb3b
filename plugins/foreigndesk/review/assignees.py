"""Reviewers named by username, assigned by the auth manager's user id.

The desk chief names reviewers in the ``foreigndesk_reviewers`` Variable by
username — what people know each other by. Airflow's Required actions are
assigned by *user id* (``assigned_users``), and with a database-backed auth
manager (FAB) the id is the account's number, not its name. So when a review
opens, each username is looked up: a live account is assigned by its id; a
username with no account, or a disabled one, is left out and reported to the
desk chief by name. When nobody usable is left the review does not open at all
(the review task fails without retrying, saying so): a form nobody may answer
would wait silently until it expired.

Plain Python: the lookup (which needs Airflow) is handed in as a mapping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from foreigndesk.review import notify

REVIEWERS_UNUSABLE = "reviewers_unusable"


@dataclass(frozen=True)
class Account:
    """What the auth manager knows about one username."""

    username: str
    user_id: str
    active: bool = True


@dataclass(frozen=True)
class Assignment:
    """Who the form is assigned to (``{"id", "name"}`` as HITL wants) and who was left out, with why."""

    users: tuple[dict[str, str], ...]
    unusable: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def names(self) -> list[str]:
        return [user["name"] for user in self.users]


def assign(usernames: Sequence[str], accounts: Mapping[str, Account | None]) -> Assignment:
    """Map usernames to live accounts' ids; unknown and disabled names are set aside with a reason."""
    users: list[dict[str, str]] = []
    unusable: list[tuple[str, str]] = []
    for name in usernames:
        account = accounts.get(name)
        if account is None:
            unusable.append((name, "no such account"))
        elif not account.active:
            unusable.append((name, "account disabled"))
        elif all(user["id"] != account.user_id for user in users):
            users.append({"id": account.user_id, "name": account.username})
    return Assignment(tuple(users), tuple(unusable))


def unusable_notice(assignment: Assignment, subject: str, link: str, article_id: str, revision: str,
                    language: str, attempt: int) -> notify.Notice:
    """The desk chief's notice: which names were left out, why, and what to do."""
    left_out = "; ".join(f"{name} ({why})" for name, why in assignment.unusable)
    if assignment.users:
        what = (f"The {language} review opened for {', '.join(assignment.names)} only. "
                f"Left out: {left_out}.")
    else:
        what = (f"The {language} review did NOT open: none of its reviewers can sign in ({left_out}). "
                "Nothing was approved.")
    fix = (" Fix the account (Security → List Users) or the Airflow Variable foreigndesk_reviewers"
           + (", then clear the review task (round 1) of this run to open it." if not assignment.users else "."))
    return notify.Notice(kind=REVIEWERS_UNUSABLE, subject=f"Reviewers cannot sign in: {subject}", text=what + fix,
                         link=link, article_id=article_id, revision=revision, language=language, attempt=attempt,
                         reviewers=tuple(name for name, _ in assignment.unusable))

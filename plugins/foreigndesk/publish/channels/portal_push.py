"""Channel 2: the Vietnam.vn push — each item POSTed as JSON to the portal's endpoint.

The portal publishes no intake spec, so the contract is the desk's own:
``docs/portal-push.openapi.yaml``. In short: ``POST {endpoint}`` with a Bearer
token and an ``Idempotency-Key`` naming the unit (article, revision, language);
the answer carries the portal's ``id``. A later revision is POSTed with the same
item ``id`` (our guid) and a new key, and replaces the earlier one in place.
``GET {endpoint}/{Idempotency-Key}`` tells whether a key was carried out — the
runner asks it before retrying after an ambiguous failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import requests
from foreigndesk.publish.channels import (
    Ambiguous,
    Catalogue,
    PermanentError,
    Publication,
)
from foreigndesk.publish.channels.events import PUBLIC_FIELDS
from foreigndesk.publish.channels.http import call, json_of
from foreigndesk.publish.channels.render import (
    DESK,
    item_html,
    public_summary,
    safe_url,
)

NAME = "portal-push"


@dataclass(frozen=True)
class PushConfig:
    """From the ``foreigndesk_portal_push`` connection: host = endpoint URL, password = token."""

    url: str
    token: str = field(repr=False)
    timeout: float = 10.0


def idempotency_key(item: Publication) -> str:
    return f"{item.article_id}.{item.revision}.{item.language}"


def payload(item: Publication, site_url: str) -> dict[str, object]:
    return {
        "id": item.guid,
        "article_id": item.article_id,
        "revision": item.revision,
        "language": item.language,
        "title": item.title,
        "summary": public_summary(item),
        "content_html": item_html(item, site_url),
        "url": safe_url(item.url),
        "date_published": item.first_published_at,
        "date_modified": item.published_at,
        "authors": [{"name": item.author or DESK}],
        "image": safe_url(item.image, site_url),
        "image_caption": item.image_caption,
        "source_url": safe_url(item.source_url),
        "outlet": item.outlet,
        "demo_model": item.demo_model,
        "event": event_payload(item),
    }


def event_payload(item: Publication) -> dict[str, object] | None:
    """The event object of the payload (docs/portal-push.openapi.yaml ``Event``); null without an event."""
    if not item.event:
        return None
    return {**{name: item.event.get(name) for name in PUBLIC_FIELDS if name in item.event}, "url": safe_url(item.url),
            "link": safe_url(str(item.event.get("link") or "")), "country": "VN"}


class PortalPushChannel:
    name = NAME
    remote = True

    def __init__(self, config: PushConfig, session: requests.Session, site_url: str) -> None:
        self.config = config
        self.session = session
        self.site_url = site_url
        self.secrets = (config.token,)

    def _headers(self, item: Publication) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.config.token}", "Idempotency-Key": idempotency_key(item)}

    def send(self, item: Publication, previous_id: str | None) -> str:
        what = f"portal push of {idempotency_key(item)}"
        response = call(self.session, "POST", self.config.url, json=payload(item, self.site_url),
                        headers=self._headers(item), secrets=self.secrets, timeout=self.config.timeout, what=what,
                        endpoint=True)
        return self._id(response, what)

    def find(self, item: Publication, previous_id: str | None) -> str | None:
        what = f"portal push lookup of {idempotency_key(item)}"
        url = f"{self.config.url.rstrip('/')}/{idempotency_key(item)}"
        try:
            response = call(self.session, "GET", url, headers=self._headers(item), secrets=self.secrets,
                            timeout=self.config.timeout, what=what)
        except PermanentError as error:
            if error.status == 404:
                return None
            raise
        return self._id(response, what)

    def _id(self, response: requests.Response, what: str) -> str:
        body = json_of(response, secrets=self.secrets, what=what)
        remote_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(remote_id, str) or not remote_id:
            raise Ambiguous(f"{what}: HTTP {response.status_code} without an 'id' in the answer")
        return remote_id

    def flush(self, catalogue: Catalogue) -> list[str]:
        return []

    # ---- withdrawal (foreigndesk.publish.withdrawals): the portal is told ----

    def _withdraw_headers(self, target) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.config.token}", "Idempotency-Key": withdrawal_key(target)}

    def withdraw(self, target, catalogue=None) -> str:
        """``POST {endpoint}/withdrawals``; a 404 (the portal never had it) counts as withdrawn."""
        what = f"portal withdrawal of {withdrawal_key(target)}"
        body = {"id": target.guid, "article_id": target.article_id, "language": target.language,
                "url": target.url, "withdrawn_at": target.withdrawn_at}
        try:
            response = call(self.session, "POST", f"{self.config.url.rstrip('/')}/withdrawals", json=body,
                            headers=self._withdraw_headers(target), secrets=self.secrets,
                            timeout=self.config.timeout, what=what)
        except PermanentError as error:
            if error.status == 404:
                return "the portal does not know the item"
            raise
        self._id(response, what)
        return "portal told"

    def is_withdrawn(self, target) -> bool:
        what = f"portal withdrawal lookup of {withdrawal_key(target)}"
        try:
            call(self.session, "GET", f"{self.config.url.rstrip('/')}/{withdrawal_key(target)}",
                 headers=self._withdraw_headers(target), secrets=self.secrets, timeout=self.config.timeout, what=what)
        except PermanentError as error:
            if error.status == 404:
                return False
            raise
        return True


def withdrawal_key(target) -> str:
    """The Idempotency-Key of a withdrawal: ``<article-id>.withdrawal.<language>``."""
    return f"{target.article_id}.withdrawal.{target.language}"

"""Articles in and out: ``ingest`` (what the intake DAG runs), ``publish`` and ``withdraw`` (what the publish
stage runs, with an operator's retry), on the same Connections the DAGs use."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from foreigndesk.core.settings import SettingsError, load_settings
from foreigndesk.publish.channels import CHANNEL_NAMES


def cmd_ingest(args: argparse.Namespace) -> int:
    """Exit 0 when the run worked (quarantines included); 1 when a source or the store failed."""
    from foreigndesk.core.store import StoreError, s3_client
    from foreigndesk.intake.ingest import run_intake

    settings = load_settings()
    inbox = Path(args.inbox) if args.inbox else None
    if inbox is not None and not inbox.is_dir():
        raise SettingsError(f"--inbox {inbox} is not a folder; give the folder that holds one folder per outlet")
    try:
        result = run_intake(settings, s3_client, store_url=args.store, inbox=inbox)
    except (StoreError, OSError) as error:
        print(f"foreigndesk ingest: the run failed, nothing was lost; fix this and run again: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False, indent=1))
    else:
        for item in result.accepted:
            flagged = f"  [flagged: {len(item.flags)}]" if item.flags else ""
            print(f"accepted    {item.article_id} ({item.revision}){flagged}")
        for article_id, revision in result.unchanged:
            print(f"unchanged   {article_id} ({revision})")
        for item in result.quarantined:
            print(f"quarantined {item['file']}: {item['reason']}")
    for location in result.waiting:
        print(f"foreigndesk ingest: {location} is still being copied in; left for the next run", file=sys.stderr)
    for error in result.errors:
        print(f"foreigndesk ingest: source failed: {error}", file=sys.stderr)
    return 1 if result.errors else 0


REMOTE_CONNECTION_VARIABLES = ("AIRFLOW_CONN_FOREIGNDESK_FANPAGE", "AIRFLOW_CONN_FOREIGNDESK_PORTAL_PUSH")


def _remote_configs():  # type: ignore[no-untyped-def]
    """The fanpage and push configs from the same Connections the DAG uses (None when not set).

    A Connection that cannot be read is a configuration error (exit 2), named by the message.
    """
    if not any(os.environ.get(name) for name in REMOTE_CONNECTION_VARIABLES):
        return None, None
    # Parsed by Airflow's own code, imported only when needed.
    from foreigndesk.airflow_side.connections import env_connection, remote_channel_configs

    try:
        return remote_channel_configs(env_connection)
    except ValueError as error:
        raise SettingsError(f"connection: {error}") from None


def _zalo_config():  # type: ignore[no-untyped-def]
    """The Zalo OA config from AIRFLOW_CONN_FOREIGNDESK_ZALO, the Connection the DAG reads (None when not set)."""
    if not os.environ.get("AIRFLOW_CONN_FOREIGNDESK_ZALO"):
        return None
    from foreigndesk.airflow_side.connections import env_connection, zalo_channel_config

    try:
        return zalo_channel_config(env_connection)
    except ValueError as error:
        raise SettingsError(f"connection: {error}") from None


def cmd_publish(args: argparse.Namespace) -> int:
    from foreigndesk.core.store import open_store
    from foreigndesk.publish.run import run_publish

    settings = load_settings()
    fanpage, push = _remote_configs()
    zalo = _zalo_config()
    try:
        result = run_publish(open_store(args.store or settings.store), settings, fanpage=fanpage, push=push,
                             zalo=zalo, only=args.channel, dry_run=args.dry_run, lease_wait=args.wait, retry=args.retry,
                             retry_by=f"{_operator()} (foreigndesk publish --retry)")
    except ValueError as error:
        print(f"foreigndesk: {error}", file=sys.stderr)
        return 2
    if result.lease_held:
        print(f"foreigndesk publish: {result.lease_held}", file=sys.stderr)
        return 75  # EX_TEMPFAIL: nothing was done; try again later
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False, indent=1))
    else:
        _print_publish(result)
    return 1 if result.errors else 0


def _operator() -> str:
    """Who ran an operator command (recorded in requeue and withdrawal records): FOREIGNDESK_USER, else the login."""
    import getpass

    try:
        return os.environ.get("FOREIGNDESK_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "operator"


def _print_publish(result) -> None:  # type: ignore[no-untyped-def]
    verb = "would publish" if result.dry_run else "published"
    for unit in result.requeued:
        print(f"requeued  {unit}")
    for item in result.due:
        print(f"due       {item['channel']:12} {item['article_id']} {item['language']} ({item['state']})")
    for item in result.published:
        print(f"{verb:9} {item['channel']:12} {item['article_id']} {item['language']} -> {item['remote_id']}")
    for item in result.failed:
        print(f"failed    {item['channel']:12} {item['article_id']} {item['language']}: {item['reason']}")
    for item in result.waiting:
        print(f"waiting   {item['channel']:12} {item['article_id']} {item['language']}: {item['reason']}"
              + (f" (until {item['until']})" if item.get("until") else ""))
    for channel, reason in result.paused.items():
        print(f"PAUSED    {channel:12} {reason} (its items stay pending; fix the cause, the next run resumes)",
              file=sys.stderr)
    for error in result.errors:
        if not any(error.startswith(f"{channel} paused:") for channel in result.paused):
            print(f"error     {error}", file=sys.stderr)
    if not (result.due or result.published or result.failed or result.waiting or result.errors):
        print("nothing due")


def cmd_withdraw(args: argparse.Namespace) -> int:
    """Exit 0 when every channel no longer shows the article; 1 when something is pending or failed."""
    import requests
    from foreigndesk.core.store import open_store
    from foreigndesk.publish.run import desk_channels
    from foreigndesk.publish.withdrawals import withdraw

    settings = load_settings()
    fanpage, push = _remote_configs()
    zalo = _zalo_config()
    store = open_store(args.store or settings.store)
    who = args.by or _operator()
    with requests.Session() as session:
        channels = desk_channels(store, settings, session, fanpage=fanpage, push=push, zalo=zalo)
        try:
            result = withdraw(store, settings.site_url, channels, args.article, who=who, reason=args.reason,
                              languages=args.lang or ())
        except ValueError as error:
            print(f"foreigndesk: {error}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False, indent=1))
    else:
        for request in result.requests:
            print(f"withdrawn {args.article} {request['language']}: by {request['who']} at {request['requested_at']}"
                  f" — {request['reason']}")
        for row in result.done:
            print(f"done      {row['channel']:12} {row['language']}" + (f" ({row['note']})" if row.get("note") else ""))
        for row in result.pending:
            print(f"pending   {row['channel']:12} {row['language']}: {row['reason']}")
        for row in result.failed:
            print(f"failed    {row['channel']:12} {row['language']}: {row['reason']}")
    if not result.complete:
        print("foreigndesk withdraw: not finished everywhere; fix what is named and run the same command again",
              file=sys.stderr)
    return 0 if result.complete else 1


def add_commands(commands: argparse._SubParsersAction) -> None:
    ingest = commands.add_parser(
        "ingest", help="register new articles from the drop folders, S3 inboxes and outlet feeds"
    )
    ingest.add_argument("--inbox", help="folder holding one subfolder per outlet (default: FOREIGNDESK_INBOX)")
    ingest.add_argument("--store", help="store: a folder or s3://BUCKET/PREFIX (default: FOREIGNDESK_STORE)")
    ingest.add_argument("--json", action="store_true",
                        help='print {"accepted": [ids], "unchanged": [ids], "quarantined": [{"file", "reason"}]}')
    ingest.set_defaults(func=cmd_ingest)

    publish = commands.add_parser(
        "publish", help="publish approved translations to every channel, each exactly once (what the DAG runs)")
    publish.add_argument("--store", help="store folder (default: FOREIGNDESK_STORE)")
    publish.add_argument("--channel", choices=CHANNEL_NAMES, help="only this channel")
    publish.add_argument("--dry-run", action="store_true", help="show what is due; claim, send and write nothing")
    publish.add_argument("--retry", choices=("FAILED", "STUCK"), type=str.upper,
                         help="after fixing the cause: requeue the units that failed (a refused item) or need the "
                              "operator (no outcome after the attempt limit), then publish; exactly once still holds")
    publish.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                         help="wait up to SECONDS for another publish run to finish (default: give up at once)")
    publish.add_argument("--json", action="store_true")
    publish.set_defaults(func=cmd_publish)

    withdraw = commands.add_parser(
        "withdraw", help="take an article off every channel (feeds, web page → notice, fanpage post deleted, "
                         "portal told), exactly once, recorded with who, when and why")
    withdraw.add_argument("article", help="the article id")
    withdraw.add_argument("--lang", action="append", help="only this language (repeatable; default: all)")
    withdraw.add_argument("--reason", required=True, help="why: kept in the audit record, never published")
    withdraw.add_argument("--by", help="who asks (default: FOREIGNDESK_USER, else the login name)")
    withdraw.add_argument("--store", help="store: a folder or s3://BUCKET/PREFIX (default: FOREIGNDESK_STORE)")
    withdraw.add_argument("--json", action="store_true")
    withdraw.set_defaults(func=cmd_withdraw)

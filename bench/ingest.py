"""Intake throughput: 100, 1,000 and 5,000 articles, from a local inbox and from S3.

    .venv/bin/python bench/ingest.py [--sizes 100,1000,5000] [--skip-s3]

Local: drops in ``<tmp>/inbox/<outlet>/`` into a LocalStore. S3: drops in an
S3 inbox prefix into an S3Store, both on moto's threaded S3 server on loopback
(a real HTTP S3 API, so every request is paid for). Each size starts from an
empty store, so the figures compare one run's cost at different sizes: if
intake grows linearly, the time per article stays flat (the last column).
Only the ingest itself is timed, not writing the drops. Wall time includes
waiting for the disk (LocalStore fsyncs every record) or the server; CPU time is
this process's own work, which is what an O(N^2) mistake in intake would inflate.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

from foreigndesk.core.store import LocalStore, S3Store, s3_client  # noqa: E402
from foreigndesk.intake.ingest import ingest, ingest_inbox  # noqa: E402
from foreigndesk.intake.s3_inbox import S3Inbox  # noqa: E402
from sample_articles import OUTLETS, sample_article  # noqa: E402


def article(number: int) -> tuple[str, str, bytes]:
    outlet, raw = sample_article(f"bench-{number:06d}", f"Bài số {number} về hợp tác đối ngoại", number)
    return outlet, f"bai-{number:06d}.md", raw


def bench_local(size: int, work: Path) -> tuple[float, float]:
    work = Path(tempfile.mkdtemp(dir=work))
    inbox, store = work / "inbox", LocalStore(work / "store")
    for number in range(size):
        outlet, name, raw = article(number)
        (inbox / outlet).mkdir(parents=True, exist_ok=True)
        (inbox / outlet / name).write_bytes(raw)
    start, cpu = time.perf_counter(), time.process_time()
    result = ingest_inbox(store, inbox, OUTLETS)
    elapsed = time.perf_counter() - start, time.process_time() - cpu
    assert len(result.accepted) == size and not result.quarantined, "every article must be accepted"
    return elapsed


def bench_s3(size: int, client, bucket: str) -> tuple[float, float]:
    prefix = f"run-{time.monotonic_ns()}"
    for number in range(size):
        outlet, name, raw = article(number)
        client.put_object(Bucket=bucket, Key=f"{prefix}/inbox/{outlet}/{name}", Body=raw)
    store = S3Store(client, bucket, f"{prefix}/store")
    sources = [S3Inbox(client, f"s3://{bucket}/{prefix}/inbox/{outlet}/", outlet) for outlet in OUTLETS]
    start, cpu = time.perf_counter(), time.process_time()
    result = ingest(store, sources, OUTLETS)
    elapsed = time.perf_counter() - start, time.process_time() - cpu
    assert len(result.accepted) == size and not result.quarantined and not result.errors, "all accepted"
    return elapsed


def report(backend: str, sizes: list[int], timings: list[tuple[float, float]]) -> None:
    wall_base, cpu_base = timings[0][0] / sizes[0], timings[0][1] / sizes[0]
    print(f"\n{backend}")
    print(f"{'articles':>9} {'wall s':>8} {'articles/s':>11} {'ms/article':>11} {'vs first':>9}"
          f" {'cpu ms/article':>15} {'vs first':>9}")
    for size, (wall, cpu) in zip(sizes, timings):
        print(f"{size:>9} {wall:>8.2f} {size / wall:>11.1f} {wall / size * 1000:>11.3f} {wall / size / wall_base:>8.2f}x"
              f" {cpu / size * 1000:>15.3f} {cpu / size / cpu_base:>8.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--skip-s3", action="store_true")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="foreigndesk-bench-") as work:
        report("local inbox -> LocalStore", sizes, [bench_local(size, Path(work)) for size in sizes])
    if args.skip_s3:
        return
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        client = s3_client(f"http://{host}:{port}")
        client.create_bucket(Bucket="foreigndesk-bench")
        report("S3 inbox -> S3Store (moto ThreadedMotoServer, loopback)", sizes,
               [bench_s3(size, client, "foreigndesk-bench") for size in sizes])
    finally:
        server.stop()
    print("\nLinear growth: the per-article columns stay near 1x the first size (they may fall as fixed costs amortise).")


if __name__ == "__main__":
    main()

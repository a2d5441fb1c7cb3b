"""What a hostile drop costs intake: front matter on LibYAML vs pure-Python YAML, and raw HTML cleaning.

    .venv/bin/python bench/intake_hostile.py [--repeat 5]

Each case is one file an attacker (or a broken export) could drop. The whole parse
(``parse_article``: size, front matter, fields, HTML cleaning) is timed, best of
``--repeat``, once with the desk's loader (LibYAML's parser, when PyYAML has it) and
once with the same checks on PyYAML's pure-Python parser, side by side with their
ratio. Every case must be refused (or, for raw HTML, cleaned) in milliseconds, so
that a file dropped every minute cannot stall the desk.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

import yaml  # noqa: E402
from foreigndesk.intake import article_file, front_matter  # noqa: E402

HEAD = "title: T\noutlet: tntv\napproved_by: X\napproved_at: 2025-05-18\n"


def cases() -> dict[str, bytes]:
    bomb = "a: &a [" + ", ".join(['"lol"'] * 9) + "]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8))
    return {
        "billion laughs (aliases)": f"---\n{HEAD}{bomb}---\nx\n".encode(),
        "16 KiB of nested [": ("---\ntitle: " + "[" * 16000 + "\n---\nx\n").encode(),
        "1,500 unknown keys": ("---\n" + "".join(f"k{i}: v\n" for i in range(1500)) + "---\nx\n").encode(),
        "150 unknown keys": ("---\n" + "".join(f"k{i}: v\n" for i in range(150)) + "---\nx\n").encode(),
        "a real article, 1 player": (f"---\n{HEAD}---\n" + "Đoạn văn bình thường. " * 400
                                     + "\n\n<iframe src=https://youtu.be/dQw4w9WgXcQ></iframe>\n").encode(),
        "front matter 1 MiB, no end": ("---\n" + "k: v\n" * 200_000 + "x\n").encode(),
        "duplicate keys x 700": ("---\n" + HEAD * 700 + "---\nx\n").encode(),
        "1 MiB body, 100k <script>": (f"---\n{HEAD}---\n" + "<script>x" * 100_000).encode(),
        "1 MiB body, 18k players": (f"---\n{HEAD}---\n"
                                    + "<iframe src=https://youtu.be/dQw4w9WgXcQ></iframe>" * 18_000).encode(),
    }


def best(raw: bytes, repeat: int) -> tuple[float, str]:
    times, outcome = [], ""
    for _ in range(repeat):
        started = time.perf_counter()
        try:
            article_file.parse_article(raw, "drop.md", "tntv", max_bytes=2 * 1024 * 1024)
            outcome = "accepted"
        except article_file.ArticleError as error:
            outcome = str(error).split(": ", 1)[1][:60]
        times.append(time.perf_counter() - started)
    return min(times), outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    desk_loader = front_matter._Loader

    class PureLoader(yaml.SafeLoader):
        pass

    PureLoader.yaml_implicit_resolvers = desk_loader.yaml_implicit_resolvers
    PureLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, front_matter._no_duplicate_keys)
    print(f"LibYAML available: {yaml.__with_libyaml__}; best of {args.repeat}")
    print(f"{'case':28} {'desk ms':>9} {'pure ms':>9} {'ratio':>7}  outcome")
    for name, raw in cases().items():
        front_matter._Loader = desk_loader
        desk, outcome = best(raw, args.repeat)
        front_matter._Loader = PureLoader
        pure, _ = best(raw, max(1, args.repeat // 2))
        front_matter._Loader = desk_loader
        print(f"{name:28} {desk * 1000:9.1f} {pure * 1000:9.1f} {pure / desk:7.1f}  {outcome}")


if __name__ == "__main__":
    main()

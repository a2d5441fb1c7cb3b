"""How long recording a decision's edit distance takes, for article-sized texts.

Run: .venv/bin/python bench/edit_distance.py

Prints, per case, the time of foreigndesk.review.postedit.edit_distance and of a plain
full word-level Levenshtein on the same texts (measured side by side in this
run), and whether both give the same figure. Texts are generated here,
deterministically, at the size of a long desk article (~900 words; a Chinese
article of ~2,400 characters, each character a word).
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

from foreigndesk.review.postedit import _levenshtein, edit_distance, tokens  # noqa: E402

WORDS = ("the province Thai Nguyen tea festival cooperation tourism visitors international OCOP product "
         "programme delegation committee people's provincial partner Laos Korea China 2025 culture exchange").split()
HANZI = "太原省茶节国际游客合作旅游交流文化代表团人民委员会产品年"


def english(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def chinese(rng: random.Random, characters: int) -> str:
    return "".join(rng.choice(HANZI) for _ in range(characters))


def edit_words(rng: random.Random, text: str, share: float, joiner: str = " ") -> str:
    parts = text.split(" ") if joiner == " " else list(text)
    for index in rng.sample(range(len(parts)), int(len(parts) * share)):
        parts[index] = rng.choice(WORDS if joiner == " " else HANZI)
    return joiner.join(parts)


def timed(function, *args, repeat: int = 3) -> tuple[float, int]:
    best, result = float("inf"), 0
    for _ in range(repeat):
        started = time.perf_counter()
        result = function(*args)
        best = min(best, time.perf_counter() - started)
    return best, result


def full_levenshtein(machine: str, final: str) -> int:
    return _levenshtein(tokens(machine), tokens(final))


def main() -> None:
    rng = random.Random(2025)
    en = english(rng, 900)
    zh = chinese(rng, 2400)
    cases = {
        "en unchanged (approve as is)": (en, en),
        "en 5 scattered word edits": (en, edit_words(rng, en, 5 / 900)),
        "en 30% of words edited": (en, edit_words(rng, en, 0.30)),
        "en rewritten from scratch": (en, english(rng, 900)),
        "zh 10 character edits": (zh, edit_words(rng, zh, 10 / 2400, joiner="")),
        "zh 30% of characters edited": (zh, edit_words(rng, zh, 0.30, joiner="")),
    }
    print(f"{'case':32} {'postedit':>10} {'full DP':>10} {'ratio':>7}  same figure")
    for name, (machine, final) in cases.items():
        fast, fast_value = timed(edit_distance, machine, final)
        slow, slow_value = timed(full_levenshtein, machine, final, repeat=1)
        print(f"{name:32} {fast * 1000:8.1f}ms {slow * 1000:8.1f}ms {slow / fast:6.0f}x  "
              f"{fast_value == slow_value} ({fast_value} vs {slow_value})")


if __name__ == "__main__":
    main()

"""Which placeholder format survives the model best: measured, not guessed.

    .venv/bin/python bench/placeholders.py             # the demo packages, in a private folder
    .venv/bin/python bench/placeholders.py --installed # the packages installed for this desk (real models)

For every style of ``segment.PLACEHOLDER_STYLES`` (and ``__T0__`` as a control),
a few Vietnamese sentences with placeholders in typical spots (sentence start,
between words, glued to a word, before a period) go vi→en→zh and vi→en→ko
through the desk's engine and through ``argostranslate.translate`` (its own
pivot). Printed per style: SentencePiece pieces per placeholder (fewer disturb
the model less), how many placeholders came back exactly, how many came back
in a loose form ``restore`` still recognises (full-width brackets, inner
spaces), and whether the word glued to a placeholder still translated.
With real packages installed, run it again before changing FOREIGNDESK_PLACEHOLDER_STYLE.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plugins"))

TEMPLATES = [
    "{0} hợp tác với {1} về du lịch.",
    "Tỉnh {0} và chè{1} nổi tiếng, {2}.",
    "Năm 2025, {0} {1} của tỉnh {2} phát triển du lịch {3}.",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--installed", action="store_true", help="use the packages installed for this desk")
    args = parser.parse_args(argv)
    if not args.installed:
        home = Path(tempfile.mkdtemp(prefix="foreigndesk-placeholders-"))
        atexit.register(shutil.rmtree, home, ignore_errors=True)
        os.environ.update(ARGOS_PACKAGES_DIR=str(home / "packages"), XDG_DATA_HOME=str(home / "data"),
                          XDG_CACHE_HOME=str(home / "cache"), XDG_CONFIG_HOME=str(home / "config"))
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

    import argostranslate.translate
    from foreigndesk.translate.engine import ArgosEngine
    from foreigndesk.translate.models import ensure_models
    from foreigndesk.translate.placeholder_styles import PLACEHOLDER_STYLES, PlaceholderStyle

    if not args.installed:
        ensure_models(Path(os.environ["ARGOS_PACKAGES_DIR"]) / "none", ("en", "zh", "ko"))
    engine = ArgosEngine()
    tokenizer = engine._load("vi", "en").tokenizer
    control = PlaceholderStyle("__T__", "__T", "__", "__T", "__")
    print(f"{'style':7} {'pieces':>6}  {'engine exact':>12} {'loose':>5}  {'argos exact':>11} {'loose':>5}  glued word translated (engine)")
    for style in [*PLACEHOLDER_STYLES.values(), control]:
        texts = [template.format(*(style.make(n) for n in range(4))) for template in TEMPLATES]
        wanted = [[style.make(n) for n in range(template.count("{"))] for template in TEMPLATES]
        english = engine.translate(texts, "vi", "en")
        outputs = {"engine": [], "argos": []}
        for lang in ("zh", "ko"):
            outputs["engine"] += engine.translate(english, "en", lang)
            outputs["argos"] += [argostranslate.translate.translate(text, "vi", lang) for text in texts]
        row = [f"{style.name:7}", f"{len(tokenizer.encode(style.make(7))):6d} "]
        for name in ("engine", "argos"):
            exact = loose = total = 0
            for output, expected in zip(outputs[name], wanted * 2):
                total += len(expected)
                exact += sum(1 for item in expected if item in output)
                found = {int(match.group(1)) for match in style.loose.finditer(output)}
                loose += len(found & set(range(len(expected))))
            row += [f"{exact:>6}/{total:<5}", f"{loose:>5} "]
        glued = english[1].split(style.make(1))[0].split()[-1] if style.make(1) in english[1] else "(lost)"
        row.append(f"{glued!r} from 'chè{style.make(1)}'")
        print(" ".join(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())

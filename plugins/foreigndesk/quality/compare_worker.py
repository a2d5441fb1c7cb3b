"""One translation pass of the desk's pipeline in a process of its own, for ``models compare``.

Why a process: argostranslate reads ``ARGOS_PACKAGES_DIR`` once, at import, and
the engine keeps every model it loaded for the life of the process. A candidate
package therefore gets a fresh interpreter whose packages folder is a private
temporary one; the operator's installed folder is only read (by the baseline
pass), never written.

Reads JSON on stdin — ``{"sources": [{title, summary, body, languages}],
"glossary_dir", "style", "install": path or null}`` — and writes JSON on stdout:
per source, per language, the translated title, summary, body, QA findings and
the models used. The pipeline is the translate stage's own
(:func:`foreigndesk.translate.pipeline.translate_texts`: glossary masking, the English
pivot, QA) without translation memory, which would hand back the approved texts
the passes are scored against.

Nothing may download here: :func:`forbid_network` makes any socket connection
or name lookup in this process an error.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


class NetworkForbidden(RuntimeError):
    """The compare worker tried to reach the network; it never should."""


def forbid_network() -> None:
    """An audit hook that refuses every socket connection and name lookup in this process."""

    def hook(event: str, args: tuple) -> None:
        if event in ("socket.connect", "socket.getaddrinfo", "socket.sendto"):
            raise NetworkForbidden(f"models compare downloads nothing: refused {event} {args[1:2]}")

    sys.addaudithook(hook)


def run(request: dict) -> dict:
    from foreigndesk.core.settings import load_settings
    from foreigndesk.translate.engine import ArgosEngine
    from foreigndesk.translate.glossary import load_glossary
    from foreigndesk.translate.pipeline import SourceText, translate_texts
    from foreigndesk.translate.placeholder_styles import PLACEHOLDER_STYLES

    if request.get("install"):
        import argostranslate.package

        argostranslate.package.install_from_path(Path(request["install"]))
    sources = [SourceText(s["title"], s["summary"], s["body"], tuple(s["languages"])) for s in request["sources"]]
    engine = ArgosEngine.from_settings(load_settings())
    results = translate_texts(sources, engine, load_glossary(Path(request["glossary_dir"])), None,
                              PLACEHOLDER_STYLES[request["style"]])
    return {"results": [
        {lang: {"title": t.title, "summary": t.summary, "body": t.body, "findings": t.findings,
                "models": [f"{m.name} ({m.version})" for m in t.models]} for lang, t in result.items()}
        for result in results
    ], "packages_dir": os.environ.get("ARGOS_PACKAGES_DIR", "")}


def main() -> int:
    forbid_network()
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    request = json.loads(sys.stdin.read())
    json.dump(run(request), sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())

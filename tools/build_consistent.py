"""Exit 0 when brownie's build artifacts come from one compiler run, 1 when they do not.

brownie compiles only what changed, in a compiler run of its own, which numbers source files its own way; slither
merges all artifacts and trusts those numbers, so after an incremental compile it can read one file's source map
against another file (findings at the wrong lines, or a crash). `make slither` compiles everything afresh when this
says the artifacts disagree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def consistent(build: Path) -> bool:
    seen: dict[str, str] = {}
    for artifact in sorted(build.glob("*/*.json")):
        paths = json.loads(artifact.read_text()).get("allSourcePaths") or {}
        for source_id, path in paths.items():
            if seen.setdefault(source_id, path) != path:
                return False
    return True


if __name__ == "__main__":
    sys.exit(0 if consistent(Path(sys.argv[1] if len(sys.argv) > 1 else "build")) else 1)

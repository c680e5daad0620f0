"""Check slither.config.json and slither.db.json before `make slither` trusts them (run with .venv-slither's python).

slither.config.json: every detector in ``detectors_to_exclude`` has a one-line reason in ``triage`` and every reason
names an excluded detector; no High or Medium detector is excluded wholesale; slither fails on Medium and above.
`// slither-disable-next-line <detector> (reason)` comments in contracts/: every one names its reason.
A config that does not parse is an error here, where slither itself would fall back to its defaults.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from pathlib import Path

from slither.detectors import all_detectors
from slither.detectors.abstract_detector import AbstractDetector, DetectorClassification

ALLOWED = {DetectorClassification.LOW, DetectorClassification.INFORMATIONAL, DetectorClassification.OPTIMIZATION}


def problems(root: Path) -> list[str]:
    config = json.loads((root / "slither.config.json").read_text())
    impact = {c.ARGUMENT: c.IMPACT for _, c in inspect.getmembers(all_detectors, inspect.isclass)
              if issubclass(c, AbstractDetector) and c is not AbstractDetector}
    excluded = {d for d in config.get("detectors_to_exclude", "").split(",") if d}
    reasons = {k: v for k, v in config.get("triage", {}).items() if not k.startswith("_")}
    out = [f"detector {d!r} is excluded without a reason in triage" for d in sorted(excluded - set(reasons))]
    out += [f"triage gives a reason for {d!r}, which detectors_to_exclude does not list"
            for d in sorted(set(reasons) - excluded)]
    out += [f"triage reason for {d!r} is empty" for d, why in reasons.items() if not str(why).strip()]
    out += [f"{d!r} is not a slither detector" for d in sorted(excluded - set(impact))]
    out += [f"{d!r} is a {impact[d].name} detector: triage its findings one by one beside their line instead"
            for d in sorted(excluded & set(impact)) if impact[d] not in ALLOWED]
    if config.get("fail_on") not in ("medium", "low", "pedantic"):
        out.append(f"fail_on must be 'medium' (or stricter), got {config.get('fail_on')!r}")
    for sol in sorted((root / "contracts").rglob("*.sol")):
        for n, line in enumerate(sol.read_text().splitlines(), 1):
            if "slither-disable" in line and not re.search(r"slither-disable\S*\s+[\w,-]+\s+\(.+\)", line):
                out.append(f"{sol.relative_to(root)}:{n}: a slither-disable comment needs the detector and its "
                           "reason in parentheses")
    return out


if __name__ == "__main__":
    found = problems(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
    for p in found:
        print(f"slither config: {p}", file=sys.stderr)
    sys.exit(1 if found else 0)

"""Render the dashboards to JSON, or check that the committed JSON is what the code renders.

`python -m dashboards.build [--check]` or `saksi dashboards build [--check]`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import dashboard as gd
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from dashboards import noc, port, site

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
JSON_DIR = HERE / "json"
PROVISIONING_DIR = HERE / "provisioning"
DASHBOARDS: dict[str, Callable[[], gd.Dashboard]] = {
    f"{noc.UID}.json": noc.build,
    f"{site.UID}.json": site.build,
    f"{port.UID}.json": port.build,
}


def _number_panels(data: dict[str, Any]) -> dict[str, Any]:
    """Stable panel ids in layout order (Grafana needs them unique; the SDK leaves them to us)."""
    for n, panel in enumerate(data.get("panels", []), start=1):
        panel["id"] = n
    return data


def render() -> dict[str, str]:
    """File name → JSON text, byte-for-byte what is committed."""
    out = {}
    for name, build in DASHBOARDS.items():
        data = _number_panels(json.loads(json.dumps(build().build(), cls=JSONEncoder)))
        out[name] = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return out


def write(directory: Path = JSON_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def stale(directory: Path = JSON_DIR) -> list[str]:
    """What differs from the code: changed or missing files, and JSON no dashboard renders any more."""
    rendered = render()
    out = [name for name, text in rendered.items()
           if not (directory / name).exists() or (directory / name).read_text(encoding="utf-8") != text]
    out += [f"{p.name} (no dashboard renders it)" for p in sorted(directory.glob("*.json")) if p.name not in rendered]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the committed JSON is stale")
    parser.add_argument("--out", type=Path, default=JSON_DIR)
    args = parser.parse_args(argv)
    if args.check:
        bad = stale(args.out)
        for name in bad:
            print(f"stale: {args.out / name}", file=sys.stderr)
        return 1 if bad else 0
    for path in write(args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

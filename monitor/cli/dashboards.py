"""`saksi dashboards build [--check]`: regenerate the Grafana dashboards' JSON from their code.

The builder lives in the source tree (`dashboards/`, next to `monitor/`), so this command works from a
checkout; `--check` exits 1 when the committed JSON is not what the code renders (CI runs it).
"""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer

log = logging.getLogger(__name__)
SOURCE_ROOT = Path(__file__).resolve().parents[2]  # monitor/cli/dashboards.py -> the checkout


def _builder() -> ModuleType:
    if not (SOURCE_ROOT / "dashboards" / "build.py").is_file():
        sys.stderr.write(f"saksi: no dashboards/ next to {SOURCE_ROOT / 'monitor'}: run from a source checkout\n")
        raise typer.Exit(2)
    if str(SOURCE_ROOT) not in sys.path:
        sys.path.insert(0, str(SOURCE_ROOT))
    return importlib.import_module("dashboards.build")


def register(app: typer.Typer) -> None:
    dashboards = typer.Typer(no_args_is_help=True, help="Grafana dashboards as code.")
    app.add_typer(dashboards, name="dashboards")

    @dashboards.command("build")
    def build(
        check: Annotated[bool, typer.Option("--check", help="exit 1 if the committed JSON is stale")] = False,
        out: Annotated[Path | None, typer.Option(help="folder for the JSON (default dashboards/json)")] = None,
    ) -> None:
        """Render every dashboard to JSON (dashboards/json/), or check that the committed JSON is current."""
        builder = _builder()
        folder = out or builder.JSON_DIR
        if folder.exists() and not folder.is_dir():
            sys.stderr.write(f"saksi: --out {folder}: not a folder\n")
            raise typer.Exit(2)
        if not folder.exists() and not folder.parent.is_dir():  # a typo is not a reason to create a tree
            sys.stderr.write(f"saksi: --out {folder}: no folder {folder.parent} to create it in\n")
            raise typer.Exit(2)
        if check:
            stale = builder.stale(folder)
            for name in stale:
                sys.stderr.write(f"saksi: stale dashboard JSON: {folder / name} (run `saksi dashboards build`)\n")
            raise typer.Exit(1 if stale else 0)
        written = builder.write(folder)
        for path in written:
            sys.stdout.write(f"wrote {path}\n")
        if not written:
            sys.stdout.write(f"{folder}: up to date\n")

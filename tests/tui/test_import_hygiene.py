"""Only hunter_console.tui may import textual: the domain, the CLI and the probes stay headless."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import hunter_console

PACKAGE = Path(hunter_console.__file__).resolve().parent

# Imports every module outside the TUI in a fresh interpreter, then reports what got loaded.
PROBE = r"""
import importlib, json, pkgutil, sys
import hunter_console

def skipped(name):
    return (
        name == "hunter_console.tui" or name.startswith("hunter_console.tui.")
        or ".migrations" in name          # alembic env/versions: only alembic can import them
        or name.endswith(".__main__")     # importing it would run it
    )

imported, failed = [], {}
for info in pkgutil.walk_packages(hunter_console.__path__, "hunter_console.", onerror=lambda n: None):
    if skipped(info.name):
        continue
    try:
        importlib.import_module(info.name)
        imported.append(info.name)
    except Exception as e:
        failed[info.name] = f"{type(e).__name__}: {e}"
textual = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
print(json.dumps({"imported": imported, "failed": failed, "textual": textual[:5]}))
"""


def test_no_module_outside_tui_loads_textual():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120,
                         cwd=PACKAGE.parent)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert "hunter_console.session" in report["imported"]
    assert "hunter_console.cli" in report["imported"]
    assert report["failed"] == {}, report["failed"]
    assert report["textual"] == [], f"textual loaded by a headless module: {report['textual']}"


def test_no_file_outside_tui_imports_textual():
    pattern = re.compile(r"^\s*(import textual|from textual[.\s])", re.MULTILINE)
    offenders = [
        str(path.relative_to(PACKAGE.parent))
        for path in PACKAGE.rglob("*.py")
        if "tui" not in path.relative_to(PACKAGE).parts[:1] and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_tui_does_import_textual():
    """The check above would pass vacuously if the pattern were wrong."""
    pattern = re.compile(r"^\s*(import textual|from textual[.\s])", re.MULTILINE)
    assert pattern.search((PACKAGE / "tui" / "app.py").read_text(encoding="utf-8"))

"""The wheel ships what the console needs at run time: styles, migrations, their template."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_wheel_contains_styles_and_migrations(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path), str(REPO)], check=True, capture_output=True, timeout=300)
    [wheel] = tmp_path.glob("hunter_console-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "hunter_console/styles/console.tcss" in names
    assert "hunter_console/sandbox/migrations/script.py.mako" in names
    assert "hunter_console/sandbox/migrations/versions/f786f93501ea_csp_p_model.py" in names
    assert not any(name.endswith(("audit.db", ".anchor")) for name in names)

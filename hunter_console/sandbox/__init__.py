"""A stand-in Hunter API the console can probe, migrate, deploy, break and roll back.

    create_app(settings)         the ASGI app (Starlette); settings: SandboxSettings.from_env(...)
    HEAD_REVISION                "f786f93501ea", the CSP P-Model migration (G20 columns)
    required_revision(version)   the schema revision a version needs (v1.0.0: head; v0.9.x: before it)
    script_head()                the head of the shipped migration scripts
    Faults                       the fault knobs (HUNTER_FAULT_<NAME>, /_admin/faults)

Run it: `python -m hunter_console.sandbox serve --version v0.9.0 --port 8000` and
`python -m hunter_console.sandbox alembic current|upgrade REV|downgrade REV|heads|history`.
"""

from hunter_console.sandbox.faults import Faults
from hunter_console.sandbox.schema import HEAD_REVISION, alembic_config, database_url, required_revision, script_head
from hunter_console.sandbox.settings import SandboxSettings


def create_app(settings: SandboxSettings, **kwargs):  # noqa: ANN001, ANN201 - lazy import keeps `alembic` CLI light
    from hunter_console.sandbox.app import create_app as _create_app

    return _create_app(settings, **kwargs)


__all__ = ["HEAD_REVISION", "Faults", "SandboxSettings", "alembic_config", "create_app", "database_url",
           "required_revision", "script_head"]

"""Environments and release settings from hunter.toml plus environment variables.

Secrets are referenced by the *name* of the environment variable that holds them, never stored.
Built once by the CLI (`load_settings`) and passed down; a bad file is a `ConfigError` with one
line that says where and what.
"""

from __future__ import annotations

import getpass
import os
import re
import socket
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from hunter_console import redact

EXECUTOR_KINDS = ("local", "docker", "kubernetes")
SECRET_ROLES = ("database_url", "redis_url", "api_key", "sentry_dsn", "admin_token")
DEFAULT_SECRETS = {
    "database_url": "DATABASE_URL",
    "redis_url": "REDIS_URL",
    "api_key": "HUNTER_API_KEY",
    "sentry_dsn": "SENTRY_DSN",
    "admin_token": "HUNTER_ADMIN_TOKEN",
}
DEFAULT_RELEASE = "v1.0.0"
_SECRET_NAME = re.compile(r"(?i)(PASSWORD|SECRET|TOKEN|API_?KEY|DSN|DATABASE_URL|REDIS_URL)")
DEFAULT_ENVIRONMENT = "local"


class ConfigError(Exception):
    """A configuration problem, said in one line."""


@dataclass(frozen=True)
class Environment:
    name: str
    base_url: str = "http://127.0.0.1:8000"
    executor: str = "local"
    production: bool = False
    secrets: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SECRETS))
    executor_settings: Mapping[str, Any] = field(default_factory=dict)
    env_file: Path | None = None  # the service's environment file (KEY=VALUE), like Compose's .env

    def service_env(self) -> dict[str, str]:
        """The service's environment as its env file declares it (empty without one)."""
        if self.env_file is None:
            return {}
        from dotenv import dotenv_values

        try:
            text = self.env_file.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"{self.env_file}: cannot read the env file: {e.strerror}") from None
        import io

        values = {k: v for k, v in dotenv_values(stream=io.StringIO(text)).items() if v is not None}
        for key, value in values.items():
            if _SECRET_NAME.search(key):
                redact.register_secret(value)
        return values

    def secret(self, role: str, environ: Mapping[str, str] | None = None) -> str | None:
        """The secret's value from the variable the config names for it: the environment's env
        file when it has one (it says what this environment's service gets, so a DATABASE_URL
        left in the operator's shell never points the console at the wrong database), else the
        process environment."""
        name = self.secrets.get(role)
        if not name:
            return None
        value = self.service_env().get(name) if self.env_file is not None else None
        if not value:
            value = (os.environ if environ is None else environ).get(name)
        redact.register_secret(value)
        return value or None


@dataclass(frozen=True)
class Settings:
    environments: Mapping[str, Environment]
    env_name: str
    release: str
    audit_path: Path
    operator: str
    host: str  # where the operator came from: "ssh 10.1.2.3" or "local"
    config_path: Path | None = None
    checklist_path: Path | None = None  # None: the default Hunter v1.0 checklist
    state_dir: Path | None = None  # where the demo keeps its workspace

    @property
    def environment(self) -> Environment:
        return self.environments[self.env_name]


def operator_origin(environ: Mapping[str, str]) -> str:
    """Where the operator came from: the client address of the SSH connection, or local."""
    ssh = environ.get("SSH_CONNECTION") or environ.get("SSH_CLIENT")
    if ssh:
        return f"ssh {ssh.split()[0]}"
    return f"local {socket.gethostname()}"


def default_operator(environ: Mapping[str, str]) -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return environ.get("USER") or "unknown"


def load_settings(
    config: Path | str | None = None,
    env: str | None = None,
    release: str | None = None,
    audit: Path | str | None = None,
    operator: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Settings from options, then environment variables, then hunter.toml, then defaults."""
    environ = os.environ if environ is None else environ
    config = config or environ.get("HUNTER_CONFIG")
    path: Path | None = Path(config) if config else None
    if path is None and Path("hunter.toml").is_file():
        path = Path("hunter.toml")
    raw = _read_toml(path) if path is not None else {}
    base = path.parent if path is not None else Path.cwd()

    console = _table(raw, "console", path)
    _only(console, {"release", "environment", "audit", "checklist", "state_dir"}, "console", path)
    unknown = set(raw) - {"console", "environments"}
    if unknown:
        raise ConfigError(f"{path}: unknown table or key '{sorted(unknown)[0]}' (expected console, environments)")

    environments = _environments(raw, path)
    env_name = env or environ.get("HUNTER_ENV") or _str(console, "environment", "console", path) or next(iter(environments))
    if env_name not in environments:
        raise ConfigError(
            f"{path or 'built-in config'}: no environment named '{env_name}' (known: {', '.join(environments)})"
        )
    audit_value = audit or environ.get("HUNTER_AUDIT_DB") or _str(console, "audit", "console", path)
    checklist = _str(console, "checklist", "console", path)
    state_dir = _str(console, "state_dir", "console", path)
    return Settings(
        environments=environments,
        env_name=env_name,
        release=release or environ.get("HUNTER_RELEASE") or _str(console, "release", "console", path) or DEFAULT_RELEASE,
        audit_path=_resolve(audit_value, base) if audit_value else Path("audit.db"),
        operator=operator or environ.get("HUNTER_OPERATOR") or default_operator(environ),
        host=operator_origin(environ),
        config_path=path,
        checklist_path=_resolve(checklist, base) if checklist and checklist != "default" else None,
        state_dir=_resolve(state_dir, base) if state_dir else None,
    )


def _resolve(value: str | Path, base: Path) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a config file") from None
    except PermissionError:
        raise ConfigError(f"{path}: permission denied") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid TOML: not UTF-8 text") from None


def _environments(raw: dict[str, Any], path: Path | None) -> dict[str, Environment]:
    tables = _table(raw, "environments", path)
    if not tables:
        return {DEFAULT_ENVIRONMENT: Environment(name=DEFAULT_ENVIRONMENT)}
    result = {}
    for name, table in tables.items():
        where = f"environments.{name}"
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: {where}: must be a table")
        _only(table, {"base_url", "executor", "production", "secrets", "executor_settings", "env_file"}, where, path)
        executor = _str(table, "executor", where, path) or "local"
        if executor not in EXECUTOR_KINDS:
            raise ConfigError(f"{path}: {where}.executor: '{executor}' is not one of {', '.join(EXECUTOR_KINDS)}")
        base_url = _str(table, "base_url", where, path) or "http://127.0.0.1:8000"
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"{path}: {where}.base_url: '{redact.redact(base_url)}' is not an http(s) URL")
        production = table.get("production", False)
        if not isinstance(production, bool):
            raise ConfigError(f"{path}: {where}.production: must be true or false")
        secrets = _table(table, "secrets", path, where)
        for role, var in secrets.items():
            if role not in SECRET_ROLES:
                raise ConfigError(f"{path}: {where}.secrets.{role}: unknown secret (known: {', '.join(SECRET_ROLES)})")
            if not isinstance(var, str) or not var.replace("_", "").isalnum():
                raise ConfigError(
                    f"{path}: {where}.secrets.{role}: give the NAME of an environment variable, not its value"
                )
        env_file = _str(table, "env_file", where, path)
        result[name] = Environment(
            name=name,
            base_url=base_url.rstrip("/"),
            executor=executor,
            production=production,
            secrets={**DEFAULT_SECRETS, **secrets},
            executor_settings=dict(_table(table, "executor_settings", path, where)),
            env_file=_resolve(env_file, path.parent if path else Path.cwd()) if env_file else None,
        )
    return result


def _table(raw: dict[str, Any], key: str, path: Path | None, where: str = "") -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: {where + '.' if where else ''}{key}: must be a table")
    return value


def _only(table: dict[str, Any], allowed: set[str], where: str, path: Path | None) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{path}: {where}.{key}: unknown key (allowed: {', '.join(sorted(allowed))})")


def _str(table: dict[str, Any], key: str, where: str, path: Path | None) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{path}: {where}.{key}: must be a string")
    return value

from pathlib import Path

import pytest

from hunter_console.config import ConfigError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hunter.toml"
    path.write_text(text)
    return path


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings(environ={"USER": "bob"})
    assert s.env_name == "local" and s.release == "v1.0.0" and s.audit_path == Path("audit.db")
    assert s.host.startswith("local ")


def test_origin_comes_from_ssh_connection():
    s = load_settings(environ={"SSH_CONNECTION": "192.0.2.44 5000 192.0.2.1 22"}, operator="carol")
    assert s.host == "ssh 192.0.2.44" and s.operator == "carol"


def test_environments_and_options(tmp_path):
    path = write(tmp_path, """
[console]
release = "v1.0.0"
environment = "staging"
audit = "state/audit.db"

[environments.staging]
base_url = "http://127.0.0.1:9000/"
executor = "docker"
[environments.staging.secrets]
database_url = "STAGING_DATABASE_URL"

[environments.production]
base_url = "https://hunter.example.com"
executor = "kubernetes"
production = true
""")
    s = load_settings(path, environ={})
    assert s.env_name == "staging" and s.environment.base_url == "http://127.0.0.1:9000"
    assert s.environment.secrets["database_url"] == "STAGING_DATABASE_URL"
    assert s.audit_path == tmp_path / "state/audit.db"
    prod = load_settings(path, env="production", release="v1.0.1", environ={})
    assert prod.environment.production and prod.release == "v1.0.1"


def test_secret_value_read_from_named_variable_and_registered_for_redaction(tmp_path):
    from hunter_console.redact import redact

    s = load_settings(environ={})
    assert s.environment.secret("database_url", {"DATABASE_URL": "postgresql://u:pw-9876@h/d"}) == "postgresql://u:pw-9876@h/d"
    assert "pw-9876" not in redact("dsn is postgresql://u:pw-9876@h/d and pw-9876")


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("[console\nrelease=1", "not valid TOML"),
        ('[environments.x]\nexecutor = "ssh"', "environments.x.executor: 'ssh' is not one of"),
        ('[environments.x]\nbase_url = "ftp://x"', "is not an http(s) URL"),
        ('[environments.x]\nprodution = true', "environments.x.prodution: unknown key"),
        ('[environments.x.secrets]\ndatabase_url = "postgresql://u:p@h/d"', "give the NAME"),
        ('[console]\nrelease = 1', "console.release: must be a string"),
        ('[consol]\nrelease = "x"', "unknown table or key 'consol'"),
    ],
)
def test_malformed_config_is_one_line(tmp_path, text, fragment):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    message = str(info.value)
    assert fragment in message and "\n" not in message
    assert "p@h" not in message


def test_missing_file_and_unknown_environment(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml", environ={})
    with pytest.raises(ConfigError, match="no environment named 'prod'"):
        load_settings(env="prod", environ={})


def test_env_file_supplies_service_environment_and_secrets(tmp_path):
    (tmp_path / "service.env").write_text("LOG_LEVEL=INFO\nHUNTER_API_KEY=k-demo-5678\n# comment\nDATABASE_URL='postgresql://u:pw-5555@h/d'\n")
    path = write(tmp_path, '[environments.demo]\nenv_file = "service.env"\n')
    env = load_settings(path, environ={}).environment
    assert env.service_env()["LOG_LEVEL"] == "INFO"
    assert env.secret("api_key", {}) == "k-demo-5678"
    assert env.secret("api_key", {"HUNTER_API_KEY": "from-the-shell"}) == "k-demo-5678"  # the file wins
    assert env.secret("redis_url", {"REDIS_URL": "redis://127.0.0.1:6379/2"}) == "redis://127.0.0.1:6379/2"
    from hunter_console.redact import redact

    assert redact("pw-5555 and k-demo-5678") == "*** and ***"

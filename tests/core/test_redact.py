import pytest

from hunter_console import redact


def test_password_in_url_is_masked_user_and_host_kept():
    assert redact.redact("postgresql://hunter:s3cr3t@db:5432/hunter") == "postgresql://hunter:***@db:5432/hunter"
    assert redact.redact("redis://:pw1234@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"


def test_sentry_dsn_key_is_masked():
    dsn = "https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/42"
    out = redact.redact(f"sending to {dsn}")
    assert "0123456789abcdef" not in out and "o1.ingest.sentry.io/42" in out


def test_secret_keys_and_headers_are_masked():
    assert redact.redact("password=abc host=x") == "password=*** host=x"
    assert redact.redact("X-API-Key: k-live-123") == "X-API-Key: ***"
    assert redact.redact('{"api_key": "zzz"}') == '{"api_key": "***"}'
    assert redact.redact("Authorization: Bearer abc.def") == "Authorization: Bearer ***"


def test_ordinary_text_is_left_alone():
    for text in ["LOG_LEVEL=INFO", "auth_off=true", "127.0.0.1:5432", "alembic upgrade head"]:
        assert redact.redact(text) == text


def test_registered_values_are_masked_anywhere():
    redact.register_secret("canary-value-42")
    assert redact.redact("boom: canary-value-42 leaked") == "boom: *** leaked"
    redact.register_secret("ab")  # too short to be a secret worth masking
    assert redact.redact("abc") == "abc"


def test_redact_obj_masks_nested_values_and_secret_named_keys():
    out = redact.redact_obj({"password": "x", "nested": [{"url": "postgresql://a:b@c/d"}], "n": 1})
    assert out == {"password": "***", "nested": [{"url": "postgresql://a:***@c/d"}], "n": 1}


def test_mask_value_never_shows_the_value():
    assert "hunter" not in redact.mask_value("hunter-secret")
    assert redact.mask_value("") == "(unset)"


CORPUS = [
    "plain line", "x" * 80, "DATABASE_URL=postgresql://hunter:s3cret-pw@db:5432/hunter",
    "Authorization: Bearer abc.def.ghi", "X-API-Key: 0123456789", '{"password": "hunter2", "user": "a"}',
    "PGPASSWORD=topsecret pg_dump", "sentry https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/1",
    "api_key=zzz", "ApiKey: yyy", "private-key: k", "dsn=https://x@y", "credentials=abc", "paſſword=x",
    "KEY=value", "monkey business", "registered value r3g1stered-s3cret here", "Secret_Token: t",
    "X-Admin-Token: adm", "passwd=p", "PWD=/root", "redis://:pw@host:6379/0", "access-key=a",
]


@pytest.mark.parametrize("register", [False, True])
def test_the_shortcut_never_changes_what_is_redacted(register):
    if register:
        redact.register_secret("r3g1stered-s3cret")
    for line in CORPUS:
        assert redact.redact(line) == redact._redact_always(line), line
    assert redact.redact_lines("\n".join(CORPUS)) == [redact._redact_always(line) for line in CORPUS]
    clean = "\n".join(["x" * 80] * 1000)
    assert redact.redact_lines(clean) == ["x" * 80] * 1000
    assert not redact.could_hold_secret("INFO [alembic.runtime.migration] Running upgrade c3e5 -> f786")

"""The strict TOML checklist format: loads probes and actions as written, refuses anything unknown."""

from __future__ import annotations

import pytest

from checklist_helpers import write
from hunter_console.checklist import ChecklistError, ItemKind, ProbeSpec, load_checklist, validate_file

GOOD = '''title = "Hunter v1.1"

[[sections]]
title = "Health Checks"
path = ["Pre-Deployment"]

[[sections.items]]
id = "liveness"
title = "Liveness probe configured (`/healthz/live`)"
kind = "probe"
probe = { kind = "http", path = "/healthz/live", expect = 200, interval = 10, timeout = 2 }
detail = "GET /healthz/live answers 200."

[[sections.items]]
title = "Logs reach ELK"
kind = "manual"
required = false

[[sections]]
title = "Deployment"
id = "deploy"

[[sections.items]]
title = "Roll out"
kind = "action"
action = "deploy"
commands = ["kubectl apply -f k8s/deployment.yaml"]

[[sections.items]]
title = "Backup verified"
kind = "probe"
done = true

[sections.items.probe]
kind = "backup.fresh"
max_age_h = 12
'''


def test_good_toml_loads(tmp_path):
    path = write(tmp_path, "release.toml", GOOD)
    assert validate_file(path) == []
    checklist = load_checklist(path)
    assert checklist.title == "Hunter v1.1" and checklist.source == str(path)
    assert [(s.id, s.title, s.path, s.line) for s in checklist.sections] == [
        ("health-checks", "Health Checks", ("Pre-Deployment",), 3), ("deploy", "Deployment", (), 19)]
    live, elk, roll, backup = checklist.items()
    assert live.id == "health-checks.liveness" and live.line == 7 and live.kind is ItemKind.PROBE
    assert live.probe == ProbeSpec("http", {"path": "/healthz/live", "expect": 200}, interval=10.0, timeout=2.0)
    assert (elk.id, elk.required, elk.kind) == ("health-checks.logs-reach-elk", False, ItemKind.MANUAL)
    assert (roll.id, roll.action, roll.commands) == ("deploy.roll-out", "deploy", ("kubectl apply -f k8s/deployment.yaml",))
    assert backup.done_before and backup.probe == ProbeSpec("backup.fresh", {"max_age_h": 12})


def test_toml_with_bom_and_crlf(tmp_path):
    path = write(tmp_path, "bom.toml", "\ufeff" + GOOD, "\r\n")
    assert validate_file(path) == []
    assert len(list(load_checklist(path).items())) == 4


BROKEN = [
    ("invalid", 'title = "x"\n[[sections]]\ntitle = \n', 3, "invalid TOML"),
    ("unknown-top", 'titel = "x"\n[[sections]]\ntitle = "S"\n[[sections.items]]\ntitle = "a"\nkind = "manual"\n', 1,
     "unknown key 'titel'"),
    ("unknown-section-key", '[[sections]]\ntitle = "S"\nicon = "x"\n[[sections.items]]\ntitle = "a"\nkind = "manual"\n', 3,
     "sections[0]: unknown key 'icon'"),
    ("unknown-item-key", '[[sections]]\ntitle = "S"\n[[sections.items]]\ntitle = "a"\nkind = "manual"\nowner = "x"\n', 6,
     "sections[0].items[0]: unknown key 'owner'"),
    ("unknown-probe-param", '[[sections]]\ntitle = "S"\n[[sections.items]]\ntitle = "a"\nkind = "probe"\n'
     'probe = { kind = "http", path = "/x", expct = 200 }\n', 6, "sections[0].items[0].probe: http: unknown param expct"),
    ("unknown-probe-kind", '[[sections]]\ntitle = "S"\n[[sections.items]]\ntitle = "a"\nkind = "probe"\n'
     'probe = { kind = "ftp" }\n', 6, "unknown probe kind 'ftp'"),
    ("missing-fields", '[[sections]]\ntitle = "S"\n[[sections.items]]\ntitle = "ok"\nkind = "manual"\n'
     '[[sections.items]]\ndetail = "no title or kind"\n', 6, "sections[0].items[1]: missing 'title' and 'kind'"),
    ("bad-kind", '[[sections]]\ntitle = "S"\n[[sections.items]]\ntitle = "a"\nkind = "auto"\n', 5,
     "kind: 'auto' is not one of probe, action, manual"),
    ("probe-without-spec", '[[sections]]\ntitle = "S"\n[[sections.items]]\ntitle = "a"\nkind = "probe"\n', 3,
     "kind is 'probe' but there is no probe"),
    ("unknown-action", '[[sections]]\ntitle = "S"\n[[sections.items]]\ntitle = "a"\nkind = "action"\naction = "yolo"\n', 6,
     "'yolo' is not one of verify, backup"),
    ("bad-required", '[[sections]]\ntitle = "S"\n[[sections.items]]\ntitle = "a"\nkind = "manual"\nrequired = "yes"\n', 6,
     "required: expected true or false"),
    ("duplicate-id", '[[sections]]\ntitle = "S"\n[[sections.items]]\nid = "a"\ntitle = "a"\nkind = "manual"\n'
     '[[sections.items]]\nid = "a"\ntitle = "b"\nkind = "manual"\n', 8, "duplicate id 'a'"),
    ("duplicate-title", '[[sections]]\ntitle = "S"\n[[sections.items]]\ntitle = "Same"\nkind = "manual"\n'
     '[[sections.items]]\ntitle = "same"\nkind = "manual"\n', 6, "duplicate item 'same'"),
    ("section-without-items", '[[sections]]\ntitle = "S"\n', 1, "no items"),
    ("no-sections", 'title = "x"\n', 1, "no sections"),
]


@pytest.mark.parametrize(("name", "text", "line", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_toml_reports_file_and_line(tmp_path, name, text, line, message):
    path = write(tmp_path, f"{name}.toml", text)
    problems = validate_file(path)
    assert problems
    assert any(p.line == line and message in p.message for p in problems), [str(p) for p in problems]
    assert all(str(p).startswith(f"{path}:") for p in problems)
    with pytest.raises(ChecklistError) as raised:
        load_checklist(path)
    assert str(raised.value).startswith(f"{path}:")

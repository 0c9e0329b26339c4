"""The default Hunter v1.0 checklist covers every section and item of the team's seed."""

from __future__ import annotations

from hunter_console.checklist import DEFAULT_CHECKLIST, EXPECTED_HEAD, ItemKind, default_checklist, load_checklist
from hunter_console.checklist.default import ACTIONS, G20_COLUMNS, PROBE_KINDS
from hunter_console.checklist.markdown import load_markdown
from hunter_console.probes.registry import KINDS, spec_problems


def test_default_is_what_load_checklist_gives_without_a_file():
    assert load_checklist(None) is DEFAULT_CHECKLIST is default_checklist()
    assert DEFAULT_CHECKLIST.source == "default"
    assert DEFAULT_CHECKLIST.title == "Production Deployment Checklist - Hunter v1.0"
    assert EXPECTED_HEAD == "f786f93501ea"


def test_every_seed_section_and_item_is_in_the_default_with_the_same_id_and_title(seed):
    from_seed = load_markdown(seed)
    default_sections = {s.id: s for s in DEFAULT_CHECKLIST.sections}
    assert [s.id for s in from_seed.sections] == [s.id for s in DEFAULT_CHECKLIST.sections]
    for section in from_seed.sections:
        mine = default_sections[section.id]
        assert (mine.title, mine.path) == (section.title, section.path)
        by_id = {i.id: i for i in mine.items}
        for item in section.items:
            assert item.id in by_id, f"seed item missing from the default: {item.id} ({item.title})"
            twin = by_id[item.id]
            assert (twin.title, twin.done_before, twin.required, twin.action) == (
                item.title, item.done_before, item.required, item.action), item.id
    seed_titles = {(s.title, i.title) for s in from_seed.sections for i in s.items}
    default_titles = {(s.title, i.title) for s in DEFAULT_CHECKLIST.sections for i in s.items}
    assert seed_titles <= default_titles


def test_counts():
    counts = {s.title: len(s.items) for s in DEFAULT_CHECKLIST.sections}
    assert counts == {
        "Teknik Hazırlık (Tamamlandı)": 6, "Environment Variables": 7, "Database Migration": 4, "Health Checks": 4,
        "Monitoring & Logging": 4, "Infrastructure": 4, "Step 1: Pre-Deployment Verification": 1,
        "Step 2: Database Backup": 1, "Step 3: Database Migration": 3, "Step 4: Deployment": 1,
        "Step 5: Post-Deployment Verification": 1, "Core Functionality": 4, "Bulk Operations": 3,
        "Error Handling": 3, "First 1 Hour": 4, "First 24 Hours": 5, "If Issues Detected": 3,
        "Documentation Updates": 4, "Technical": 4, "Operational": 5, "Functional": 5,
    }
    done = [i for i in DEFAULT_CHECKLIST.items() if i.done_before]
    assert len(done) == 10
    assert {DEFAULT_CHECKLIST.section_of(i.id).title for i in done} == {"Teknik Hazırlık (Tamamlandı)", "Technical"}


def test_ids_unique_and_every_item_says_what_it_checks():
    ids = [i.id for i in DEFAULT_CHECKLIST.items()]
    assert len(ids) == len(set(ids)) == 76
    for item in DEFAULT_CHECKLIST.items():
        assert item.detail and item.detail.endswith((".", ")")), item.id


def test_probe_specs_are_valid_for_the_probe_registry():
    for item in DEFAULT_CHECKLIST.items():
        assert (item.kind is ItemKind.PROBE) == (item.probe is not None), item.id
        if item.probe is not None:
            assert item.probe.kind in PROBE_KINDS, item.id
            assert spec_problems(item.probe) == [], item.id
    assert set(PROBE_KINDS) <= set(KINDS)


def test_actions_and_their_commands():
    actions = [(i.id, i.action, i.required) for i in DEFAULT_CHECKLIST.items() if i.kind is ItemKind.ACTION]
    assert actions == [
        ("step-1-pre-deployment-verification.verify", "verify", True),
        ("step-2-database-backup.backup", "backup", True),
        ("step-3-database-migration.migrate", "migrate", True),
        ("step-4-deployment.deploy", "deploy", True),
        ("step-5-post-deployment-verification.verify", "verify", True),
        ("if-issues-detected.immediate-rollback", "rollback", False),
        ("if-issues-detected.database-rollback-if-needed", "restore", False),
    ]
    assert all(a in ACTIONS for _, a, _ in actions)
    for item in DEFAULT_CHECKLIST.items():
        if item.kind is ItemKind.ACTION:
            assert item.commands and item.commands[0].strip(), item.id
    assert "pg_dump" in DEFAULT_CHECKLIST.item("step-2-database-backup.backup").commands[0]


def test_seed_thresholds():
    def spec(item_id):
        return DEFAULT_CHECKLIST.item(item_id).probe

    assert spec("step-3-database-migration.migrate") is None
    step3 = [i.probe for i in DEFAULT_CHECKLIST.find("step-3-database-migration") if i.probe]
    assert [(p.kind, p.params) for p in step3] == [
        ("postgres.revision", {"expected": EXPECTED_HEAD}), ("postgres.columns", {"columns": list(G20_COLUMNS)})]
    assert spec("environment-variables.log-level-log-level-info").params == {"var": "LOG_LEVEL", "rule": "equals", "expected": "INFO"}
    assert spec("health-checks.liveness-probe-configured-healthz-live").params["path"] == "/healthz/live"
    assert spec("bulk-operations.bulk-scan-test-10-domain").params["count"] == 10
    first_hour = {i.title: i.probe for i in DEFAULT_CHECKLIST.find("first-1-hour") if i.probe}
    assert first_hour["Error rate < 1%"].kind == "metrics.window"
    assert first_hour["Error rate < 1%"].params == {"window": "1h", "metric": "error_rate", "max": 0.01}
    assert first_hour["Latency P95 < 500ms"].params == {"window": "1h", "metric": "p95_ms", "max": 500.0}
    day = {i.title: i.probe for i in DEFAULT_CHECKLIST.find("first-24-hours") if i.probe}
    assert day["Cache hit rate > 50%"].params == {"window": "24h", "metric": "cache_hit_rate", "min": 0.5}
    assert all(p.params.get("window") == "24h" for p in day.values() if p.kind == "metrics.window")


def test_what_no_machine_can_judge_stays_manual():
    manual = {i.title for i in DEFAULT_CHECKLIST.items() if i.kind is ItemKind.MANUAL and not i.done_before}
    for title in ("Rollback planı hazır (`alembic downgrade -1`)", "Log aggregation configured (ELK or similar)",
                  "Structured logging configured", "README.md güncelle (production status)",
                  "CHANGELOG.md güncelle (v1.0.0 release)", "500 errors logged to Sentry", "Investigation"):
        assert title in manual
    assert all(i.kind is ItemKind.MANUAL for i in DEFAULT_CHECKLIST.find("documentation-updates"))

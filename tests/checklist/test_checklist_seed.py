"""The team's seed checklist loads as written: every section, every item, the ticked ones done."""

from __future__ import annotations

import re

from hunter_console.checklist import ItemKind, load_checklist, validate_file
from hunter_console.checklist.markdown import load_markdown

# (section title, path, number of items, number ticked) in the seed's order
SEED_SECTIONS = [
    ("Teknik Hazırlık (Tamamlandı)", ("Pre-Deployment Checklist",), 6, 6),
    ("Environment Variables", ("Pre-Deployment Checklist", "Deployment Hazırlık (In Progress)"), 7, 0),
    ("Database Migration", ("Pre-Deployment Checklist", "Deployment Hazırlık (In Progress)"), 4, 0),
    ("Health Checks", ("Pre-Deployment Checklist", "Deployment Hazırlık (In Progress)"), 4, 0),
    ("Monitoring & Logging", ("Pre-Deployment Checklist", "Deployment Hazırlık (In Progress)"), 4, 0),
    ("Infrastructure", ("Pre-Deployment Checklist", "Deployment Hazırlık (In Progress)"), 4, 0),
    ("Step 1: Pre-Deployment Verification", ("Deployment Steps",), 1, 0),
    ("Step 2: Database Backup", ("Deployment Steps",), 1, 0),
    ("Step 3: Database Migration", ("Deployment Steps",), 1, 0),
    ("Step 4: Deployment", ("Deployment Steps",), 1, 0),
    ("Step 5: Post-Deployment Verification", ("Deployment Steps",), 1, 0),
    ("Core Functionality", ("Smoke Tests",), 4, 0),
    ("Bulk Operations", ("Smoke Tests",), 3, 0),
    ("Error Handling", ("Smoke Tests",), 3, 0),
    ("First 1 Hour", ("Post-Deployment Monitoring",), 4, 0),
    ("First 24 Hours", ("Post-Deployment Monitoring",), 5, 0),
    ("If Issues Detected", ("Rollback Plan",), 3, 0),
    ("Documentation Updates", (), 4, 0),
    ("Technical", ("Success Criteria",), 4, 4),
    ("Operational", ("Success Criteria",), 5, 0),
    ("Functional", ("Success Criteria",), 5, 0),
]


def test_seed_is_valid(seed):
    assert validate_file(seed) == []


def test_seed_loads_every_section_and_item(seed):
    checklist = load_checklist(seed)
    assert checklist.title == "Production Deployment Checklist - Hunter v1.0"
    assert checklist.source == str(seed)
    got = [(s.title, s.path, len(s.items), sum(i.done_before for i in s.items)) for s in checklist.sections]
    assert got == SEED_SECTIONS
    items = list(checklist.items())
    assert len(items) == 74
    assert sum(i.done_before for i in items) == 10  # the 6 + 4 the seed ticks


def test_every_checkbox_line_of_the_file_is_an_item(seed):
    lines = seed.read_text(encoding="utf-8").split("\n")
    boxes = [n for n, line in enumerate(lines, 1) if re.match(r"^\s*- \[[ x]\] ", line)]
    assert len(boxes) == 66
    assert sorted(i.line for i in load_markdown(seed).items() if i.line in boxes) == boxes


def test_item_lines_point_at_the_item(seed):
    lines = seed.read_text(encoding="utf-8").split("\n")
    for item in load_markdown(seed).items():
        line = lines[item.line - 1]
        if item.kind is ItemKind.ACTION:
            assert item.title.split()[0] in line
        else:
            assert item.title.split("`")[0].split()[0] in line, (item.id, line)
    live = load_markdown(seed).item("health-checks.liveness-probe-configured-healthz-live")
    assert lines[live.line - 1] == "- [ ] Liveness probe configured (`/healthz/live`)"


def test_code_spans_and_turkish_titles_are_kept_as_written(seed):
    titles = {i.title for i in load_markdown(seed).items()}
    assert "Liveness probe configured (`/healthz/live`)" in titles
    assert "Partner Center feature flag (`PARTNER_CENTER_ENABLED=false` - Post-MVP)" in titles
    assert "Production database backup alındı" in titles
    assert "Sales Engine endpoint working (`GET /api/v1/leads/{domain}/sales-summary`)" in titles


def test_deployment_steps_are_single_action_items_with_their_commands(seed):
    checklist = load_markdown(seed)
    steps = [s for s in checklist.sections if s.path == ("Deployment Steps",)]
    assert [(s.items[0].title, s.items[0].kind, s.items[0].action) for s in steps] == [
        ("Step 1: Pre-Deployment Verification", ItemKind.ACTION, "verify"),
        ("Step 2: Database Backup", ItemKind.ACTION, "backup"),
        ("Step 3: Database Migration", ItemKind.ACTION, "migrate"),
        ("Step 4: Deployment", ItemKind.ACTION, "deploy"),
        ("Step 5: Post-Deployment Verification", ItemKind.ACTION, "verify"),
    ]
    assert [s.items[0].id for s in steps] == [
        "step-1-pre-deployment-verification.verify", "step-2-database-backup.backup",
        "step-3-database-migration.migrate", "step-4-deployment.deploy", "step-5-post-deployment-verification.verify"]
    backup = steps[1].items[0]
    assert len(backup.commands) == 1 and "pg_dump -h <production-db-host>" in backup.commands[0]
    migrate = steps[2].items[0]
    assert "alembic upgrade head" in migrate.commands[0] and "dmarc_coverage" in migrate.commands[0]
    assert all(s.items[0].required for s in steps)
    assert "Health checks" in steps[0].items[0].detail


def test_rollback_plan_numbered_steps_are_optional_items(seed):
    section = next(s for s in load_markdown(seed).sections if s.path == ("Rollback Plan",))
    got = [(i.title, i.kind, i.action, i.required, len(i.commands)) for i in section.items]
    assert got == [
        ("Immediate Rollback", ItemKind.ACTION, "rollback", False, 1),
        ("Database Rollback (if needed)", ItemKind.ACTION, "restore", False, 1),
        ("Investigation", ItemKind.MANUAL, None, False, 0),
    ]
    assert "kubectl rollout undo deployment/dyn365hunter-api" in section.items[0].commands[0]
    assert section.items[2].detail.startswith("Check Sentry for errors")


def test_ids_are_stable_unique_and_ascii(seed):
    first, second = load_markdown(seed), load_markdown(seed)
    ids = [i.id for i in first.items()]
    assert ids == [i.id for i in second.items()]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[a-z0-9-]+\.[a-z0-9-]+", i) for i in ids)
    assert "database-migration.production-database-backup-alindi" in ids
    assert "teknik-hazirlik-tamamlandi.stabilization-sprint-tamamlandi-3-gun" in ids

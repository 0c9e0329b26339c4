"""ReleaseSession: sign-offs, withdrawals, decisions and probe changes go to the audit log and to
subscribers, and a new session on the same audit log sees the same state."""

from __future__ import annotations

import pytest

from hunter_console.events import Decision, ProbeResult, SignedOff, SignOffWithdrawn, Status
from hunter_console.session import SessionError, open_session


@pytest.fixture
def session(settings):
    return open_session(settings)


def first_open(session):
    return next(item for item in session.open_items() if item.kind.value == "manual")


def test_default_checklist_starts_no_go_with_the_pre_ticked_items_done(session):
    states = session.states()
    done = [s for s in states if s.label == "DONE"]
    assert len(done) >= 6 and all(s.item.done_before for s in done)
    assert session.gate() == "NO-GO"
    assert all(not s.item.done_before for s in states if s.item in session.open_items())


def test_signoff_is_audited_with_operator_origin_and_note_and_published(session):
    seen = []
    session.subscribe(seen.append)
    item = first_open(session)
    session.signoff(item.id, "checked the ELK dashboards")
    [row] = session.audit.events(kind="signoff")
    assert (row.item, row.operator, row.host) == (item.id, "alice", "ssh 192.0.2.10")
    assert row.detail["note"] == "checked the ELK dashboards"
    assert row.release == "v1.0.0" and row.environment == "local"
    assert isinstance(seen[-1], SignedOff) and session.state(item.id).label == "SIGNED"
    assert item not in session.open_items()


def test_double_signoff_and_withdraw_without_signoff_are_refused(session):
    item = first_open(session)
    with pytest.raises(SessionError, match="no sign-off to withdraw"):
        session.withdraw(item.id)
    session.signoff(item.id)
    with pytest.raises(SessionError, match="already signed off by alice"):
        session.signoff(item.id)
    with pytest.raises(SessionError, match="no checklist item 'nope'"):
        session.signoff("nope")


def test_withdrawal_is_a_new_event_and_nothing_is_deleted(session):
    item = first_open(session)
    session.signoff(item.id, "first")
    event = session.withdraw(item.id, "was wrong")
    assert isinstance(event, SignOffWithdrawn)
    kinds = [row.kind for row in session.audit.events() if row.item == item.id]
    assert kinds == ["signoff", "signoff.withdrawn"]
    assert session.state(item.id).label == "OPEN"


def test_go_over_open_items_needs_a_reason(session):
    with pytest.raises(SessionError, match="needs a typed reason"):
        session.decide("go")
    assert session.audit.events(kind="decision") == []
    decision = session.decide("go", "hotfix, lead approved")
    assert isinstance(decision, Decision) and decision.open_items
    row = session.audit.events(kind="decision")[-1]
    assert row.status == "go" and row.detail["reason"] == "hotfix, lead approved"
    assert set(row.detail["open_items"]) == {i.id for i in session.open_items()}


def test_no_go_and_bad_verdicts(session):
    session.decide("no-go")
    assert session.last_decision.verdict == "no-go"
    with pytest.raises(SessionError, match="'go' or 'no-go'"):
        session.decide("maybe")


def test_go_without_reason_once_every_required_item_is_satisfied(session):
    for item in session.open_items():
        session.signoff(item.id, "checked by hand")
    assert session.gate() == "GO"
    assert session.decide("go").open_items == ()


def test_state_survives_a_new_session_on_the_same_log(settings, session):
    a, b = session.open_items()[:2]
    session.signoff(a.id, "one")
    session.signoff(b.id, "two")
    session.withdraw(b.id)
    session.decide("no-go", "waiting on DBA")
    again = open_session(settings)
    assert again.state(a.id).label == "SIGNED" and again.state(a.id).signoff.note == "one"
    assert again.state(b.id).label == "OPEN"
    assert again.last_decision.reason == "waiting on DBA"


def test_probe_status_changes_are_audited_repeats_are_not(session):
    item = next(i for i in session.checklist.items() if i.probe is not None)
    for status in (Status.FAIL, Status.FAIL, Status.PASS, Status.PASS, Status.FAIL):
        session.record_probe(ProbeResult(item.id, status, f"it is {status}"))
    rows = session.audit.events(kind="probe")
    assert [r.status for r in rows] == ["FAIL", "PASS", "FAIL"]
    assert session.state(item.id).label == "FAIL"


def test_the_chain_verifies_after_a_session(session):
    item = first_open(session)
    session.signoff(item.id, "password=hunter2 in a note")
    assert session.audit.verify().ok
    assert "hunter2" not in session.audit.events(kind="signoff")[0].message


def test_a_monitoring_window_signed_off_before_it_is_measured_needs_a_reason(session):
    window = next(i for i in session.checklist.items() if i.probe and i.probe.kind == "metrics.window")
    with pytest.raises(SessionError, match="needs a reason"):
        session.signoff(window.id)
    assert not session.audit.events(kind="signoff")
    session.signoff(window.id, "traffic too low tonight to measure; watched the dashboards for an hour")
    assert session.state(window.id).label == "SIGNED"

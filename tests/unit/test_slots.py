import pytest

from fleet.cadence import parse_schedule
from fleet.errors import InvalidInput
from fleet.scheduler.core import slot_key


def test_every_slots_are_aligned_and_half_open():
    c = parse_schedule("@every 2s")
    assert c.due(1.0, 7.0) == [2.0, 4.0, 6.0]
    assert c.due(2.0, 4.0) == [4.0]  # the slot at `after` already ran
    assert c.due(4.0, 5.9) == []


def test_cron_with_seconds_field_and_minutes():
    assert parse_schedule("* * * * * */15").due(0, 60) == [15.0, 30.0, 45.0, 60.0]
    assert parse_schedule("0 * * * *").due(0, 7200) == [3600.0, 7200.0]


def test_due_keeps_the_newest_when_limited():
    assert parse_schedule("@every 1s").due(0, 100, limit=3) == [98.0, 99.0, 100.0]


@pytest.mark.parametrize("bad", ["", "every 5s", "@every 0s", "* * *", "61 * * * *"])
def test_bad_specs_are_refused(bad):
    with pytest.raises(InvalidInput, match="not a valid schedule"):
        parse_schedule(bad)


def test_slot_keys_are_stable_and_distinct():
    assert slot_key("s", 2.0) == slot_key("s", 2.0) != slot_key("s", 4.0)


def test_a_schedule_far_behind_costs_no_more_than_its_limit():
    """A schedule last run long ago (Fleet down for years, or a schedule added with an old
    start) walked every missed slot: `@every 1s` since t=1e6 is 1.8e9 slots, which held the
    scheduler's tick for hours, so no other schedule ran (seen after the race test of
    tests/integration/test_scheduler.py: the drift checks after it never started)."""
    now = 1_796_600_000.0  # before the fix, the first line below did not return
    assert parse_schedule("@every 1s").due(1_000_000.0, now, limit=5) == [
        now - 4, now - 3, now - 2, now - 1, now]
    hourly = parse_schedule("0 * * * *").due(0.0, now, limit=3)
    assert hourly == [now // 3600 * 3600 - 7200, now // 3600 * 3600 - 3600, now // 3600 * 3600]

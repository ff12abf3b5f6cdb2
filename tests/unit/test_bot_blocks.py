"""The rollout message as people read it: the ladder so far, the live traffic split while
the rollout owns the endpoint, and one line per event in its thread."""

from bot import blocks

RO = {"id": "ro-1", "strategy": "canary", "endpoint": "churn", "status": "progressing",
      "baseline": {"model": "churn", "version": 1}, "candidate": {"model": "churn", "version": 2},
      "spec": {"steps": [10, 50, 100]}, "step": 1, "state": {}, "created_by": "dee",
      "updated_at": 0}
ROUTING = {"versions": [{"model": "churn", "version": 2, "weight": 50},
                        {"model": "churn", "version": 1, "weight": 50}]}


def test_the_ladder_marks_done_current_and_coming_steps():
    assert blocks.ladder([10, 50, 100], 1, "progressing") == "~10%~ ✓ → *50%* ◀ → 100%"
    assert blocks.ladder([10, 50, 100], 2, "succeeded") == "~10%~ ✓ → ~50%~ ✓ → ~100%~ ✓"
    assert blocks.ladder([10, 50], -1, "pending") == "10% → 50%"


def test_the_message_shows_the_live_split_only_while_it_is_the_endpoints_own():
    live = blocks.as_text(blocks.rollout(RO, ROUTING))
    assert "churn:1 → *churn:2* · *progressing*" in live
    assert "Live traffic: churn:2 50% · churn:1 50%" in live and "Started by dee" in live
    ended = blocks.as_text(blocks.rollout({**RO, "status": "rolled_back",
                                           "state": {"reason": "p99 420 ms > 200 ms"}}, None))
    assert "Live traffic" not in ended and "Why: p99 420 ms > 200 ms" in ended


def test_each_event_is_one_readable_line():
    check = {"weight": 50.0, "analysis": {"result": "pass", "success_rate": 0.995,
                                          "requests": 812, "reasons": []}}
    assert blocks.rollout_event("check", check) == (
        "Analysis at 50%: pass (success 99.5% over 812).")
    assert blocks.rollout_event("rolled_back", {"reason": "errors"}) == "Rolled back: errors"
    assert blocks.rollout_event("something_new", {"to": "paused"}) == "something_new: paused"


def test_a_decided_request_says_who_when_and_why():
    ap = {"status": "rejected", "decided_by": "cat", "decided_at": 60, "summary": "risky",
          "comment": "p99 too high"}
    shown = blocks.as_text(blocks.decided(ap))
    assert shown.startswith("*rejected* by cat at 00:01:00 UTC: risky")
    assert shown.endswith("> p99 too high")
    assert "> " not in blocks.as_text(blocks.decided({**ap, "comment": None}))

"""Job submission retries Ray's transient refusals, for a bounded time, then says what to check."""

import pytest

from fleet.errors import Unavailable
from fleet.jobs import submit_with_retry


def test_retries_no_available_agent_until_it_answers():
    calls, slept = [], []

    def submit():
        calls.append(1)
        if len(calls) < 4:
            raise RuntimeError("No available agent to submit job, please try again later.")
        return "raysubmit_1"

    assert submit_with_retry(submit, sleep=slept.append) == "raysubmit_1"
    assert len(calls) == 4 and slept == [0.25, 0.5, 1.0]


def test_gives_up_after_the_bound_with_a_message_that_says_what_to_check():
    def submit():
        raise RuntimeError("No available agent to submit job, please try again later.")

    with pytest.raises(Unavailable) as err:
        submit_with_retry(submit, retry_s=0.05, sleep=lambda s: None)
    assert "fleet status" in str(err.value) and "No available agent" in str(err.value)


def test_a_real_error_fails_at_once():
    calls = []

    def submit():
        calls.append(1)
        raise ValueError("runtime_env is invalid")

    with pytest.raises(ValueError):
        submit_with_retry(submit, sleep=lambda s: None)
    assert len(calls) == 1

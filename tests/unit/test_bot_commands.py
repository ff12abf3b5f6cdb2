"""/fleet parsing, without Slack or Fleet: typos get a suggestion, acting needs a mapped
identity (checked before anything is sent), and usage errors name the form."""

from bot import commands
from bot.fleet_api import Answer


class NoCalls:
    """A gateway that must not be called."""

    def read(self, *a, **kw):
        raise AssertionError("no read expected")

    def act(self, *a, **kw):
        raise AssertionError("no action expected")


def test_a_typo_gets_the_closest_subcommand():
    assert "Did you mean `rollout`" in commands.handle(NoCalls(), "rolout x", "bob", "U").text
    assert "Did you mean `approvals`" in commands.handle(NoCalls(), "aprovals", "bob", "U").text
    assert "Try `/fleet help`" in commands.handle(NoCalls(), "zzzz", "bob", "U").text


def test_help_is_the_default_and_lists_every_subcommand():
    text = commands.handle(NoCalls(), "", None, "U").text
    for sub in commands.USAGE:
        assert f"`{sub}" in text


def test_acting_needs_a_mapped_identity_and_nothing_is_sent_without_one():
    for line in ("run hello", "approve ap-1", "reject ap-1 no", "deploy m to e",
                 "rollout promote churn"):
        assert "not mapped" in commands.handle(NoCalls(), line, None, "UEVE").text


def test_usage_errors_name_the_form():
    assert "Usage: `/fleet deploy MODEL" in commands.handle(NoCalls(), "deploy m e", "bob",
                                                           "U").text


def test_a_refusal_shows_the_cores_detail_and_field_problems():
    a = Answer(422, {"detail": "The input for 'hello' is invalid: 1 problem(s), see errors.",
                     "errors": [{"field": "nme", "message": "unknown field",
                                 "fix": "Remove 'nme'."}]})
    assert "`nme`: unknown field (Remove 'nme'.)" in a.detail


class Recording:
    """A gateway that answers every action with `answer` and keeps what was sent."""

    def __init__(self, answer: Answer) -> None:
        self.answer, self.sent = answer, []

    def act(self, person, method, path, **kw):
        self.sent.append((person, method, path, kw.get("json")))
        return self.answer


def test_rollout_start_takes_a_spec_gates_and_serving_options():
    gw = Recording(Answer(200, {"id": "inv-1", "status": "succeeded", "result": {},
                                "duration_s": 1.0}))
    reply = commands.handle(gw, "rollout start churn churn:2 gates=start,promotion "
                                "steps=10,50,100 spec='{\"hold_s\": 1}' "
                                "serving='{\"max_replicas\": 2}'", "dee", "UDEE")
    assert reply.public
    (_, _, path, payload), = gw.sent
    assert path == "/v1/functions/rollout/invoke"
    assert payload == {"action": "start", "endpoint": "churn", "model": "churn:2",
                       "serving": {"max_replicas": 2},
                       "spec": {"hold_s": 1, "gates": ["start", "promotion"],
                                "steps": ["10", "50", "100"]}}
    bad = commands.handle(NoCalls(), "rollout start churn churn:2 gate=start", "dee", "U")
    assert "'gate' is not a rollout option" in bad.text and "gates" in bad.text
    assert not bad.public


def test_a_refused_action_is_ephemeral_and_a_failed_one_is_public():
    refused = Recording(Answer(200, {"id": "inv-2", "status": "failed", "duration_s": 0.1,
                                     "error": {"type": "NotFound", "message": "no rollouts"}}))
    reply = commands.handle(refused, "rollout pause churn", "dee", "UDEE")
    assert not reply.public and reply.text == ":no_entry: no rollouts"
    crashed = Recording(Answer(200, {"id": "inv-3", "status": "failed", "duration_s": 0.1,
                                     "error": {"type": "RuntimeError", "message": "boom"}}))
    assert commands.handle(crashed, "rollout pause churn", "dee", "UDEE").public

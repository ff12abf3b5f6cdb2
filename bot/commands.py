"""`/fleet SUBCOMMAND ...`: parsing and the work behind each subcommand. Each returns what
to say (text or blocks) and whether everyone in the channel should see it; the bolt app
(bot.app) acknowledges first and posts the reply after, so Slack's 3 s never matter."""

from __future__ import annotations

import difflib
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot import blocks
from bot import messages as bot_messages
from bot.fleet_api import Answer, FleetAPI
from fleet import messages
from fleet.errors import FieldProblem, FleetError, InvalidInput
from fleet.rollouts import RolloutSpec
from fleet.runtime.payloads import parse_key_values

USAGE = {
    "help": "help", "functions": "functions", "run": "run FUNCTION key=value ...",
    "status": "status INVOCATION", "models": "models", "model": "model NAME",
    "deploy": "deploy MODEL[:VERSION|@ALIAS] to ENDPOINT",
    "rollout": "rollout start ENDPOINT MODEL [strategy=canary] [steps=10,50,100] "
               "[gates=start,promotion] [spec='{...}'] [serving='{...}'] | "
               "rollout status|pause|resume|promote|abort ENDPOINT",
    "approvals": "approvals", "approve": "approve ID", "reject": "reject ID [reason]",
}
ACTS = {"run", "deploy", "approve", "reject"}  # need a Fleet identity; rollout: all but status


@dataclass
class Reply:
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    public: bool = False
    # after the reply: slow work whose outcome goes to the reply's thread
    follow_up: Callable[[], str] | None = None


def suggest(word: str) -> str:
    guess = difflib.get_close_matches(word, list(USAGE), n=1, cutoff=0.5)
    if guess:
        return bot_messages.BOT_UNKNOWN_COMMAND.format(word=word, guess=guess[0])
    return bot_messages.BOT_UNKNOWN_COMMAND_NO_GUESS.format(word=word)


def _refused(a: Answer) -> Reply:
    if a.status == 503:
        return Reply(bot_messages.BOT_FLEET_DOWN.format(reason=a.detail))
    return Reply(bot_messages.BOT_REFUSED.format(detail=a.detail))


def _usage(cmd: str) -> Reply:
    return Reply(bot_messages.BOT_USAGE.format(usage=USAGE[cmd]))


def _summary(rec: dict) -> str:
    if rec.get("error"):
        return f"{rec['error']['type']}: {rec['error']['message']}"[:1500]
    return str(rec.get("result"))[:1500]


def _result_line(rec: dict) -> str:
    dur = rec.get("duration_s")
    return bot_messages.BOT_RESULT.format(id=rec["id"], status=rec["status"],
                                      duration=f"{dur:.2f} s" if dur is not None else "-",
                                      summary=_summary(rec))


def handle(api: FleetAPI, text: str, person: str | None, user: str) -> Reply:
    """One /fleet command from Slack user `user`, mapped to the Fleet identity `person`
    (None: not mapped, so read-only)."""
    try:
        words = shlex.split(text or "")
    except ValueError:
        words = (text or "").split()
    if not words or words[0] == "help":
        return Reply(bot_messages.BOT_HELP)
    cmd, args = words[0].lower(), words[1:]
    if cmd not in USAGE:
        return Reply(suggest(cmd))
    acting = cmd in ACTS or (cmd == "rollout" and args[:1] != ["status"])
    if acting and not person:
        return Reply(bot_messages.BOT_NOT_MAPPED.format(user=user))
    return _HANDLERS[cmd](api, args, person)


def _functions(api, args, person) -> Reply:
    a = api.read("/v1/functions")
    if not a.ok:
        return _refused(a)
    rows = [f"• `{f['name']}`: {f['description']}" for f in a.body["functions"]]
    return Reply("\n".join(rows) or bot_messages.BOT_NO_FUNCTIONS)


def _run(api, args, person) -> Reply:
    if not args:
        return _usage("run")
    name = args[0]
    try:
        payload = parse_key_values(args[1:])
    except Exception as exc:  # a FleetError with the field and the fix
        return Reply(bot_messages.BOT_REFUSED.format(detail=str(exc)))
    a = api.act(person, "POST", f"/v1/functions/{name}/spawn", json=payload)
    if not a.ok:
        return _refused(a)
    inv_id = a.body["id"]

    def result() -> str:  # read as the person: an invocation's result is its caller's
        done = api.act(person, "GET", f"/v1/invocations/{inv_id}")
        for _ in range(600):  # up to 10 min of polling, then the status as it is
            if not done.ok or done.body["status"] not in ("queued", "running"):
                break
            time.sleep(1)
            done = api.act(person, "GET", f"/v1/invocations/{inv_id}")
        return _result_line(done.body) if done.ok else bot_messages.BOT_REFUSED.format(
            detail=done.detail)

    return Reply(bot_messages.BOT_STARTED.format(function=name, who=person, id=inv_id),
                 public=True, follow_up=result)


def _status(api, args, person) -> Reply:
    if len(args) != 1:
        return _usage("status")
    # as the person when Fleet knows them: their own invocations show whole
    path = f"/v1/invocations/{args[0]}"
    a = api.act(person, "GET", path) if person else api.read(path)
    return Reply(_result_line(a.body)) if a.ok else _refused(a)


def _models(api, args, person) -> Reply:
    a = api.read("/v1/models")
    if not a.ok:
        return _refused(a)
    rows = [f"• `{m['model']}` latest v{m['latest']}" + (
        "  " + ", ".join(f"@{k}→v{v}" for k, v in m["aliases"].items()) if m["aliases"] else "")
        for m in a.body["models"]]
    return Reply("\n".join(rows) or "No models yet.")


def _model(api, args, person) -> Reply:
    if len(args) != 1:
        return _usage("model")
    a = api.read(f"/v1/models/{args[0]}")
    if not a.ok:
        return _refused(a)
    rows = [f"• v{v['version']} {v.get('metrics', {})}" for v in a.body["versions"]]
    return Reply(f"*{args[0]}* aliases {a.body['aliases']}\n" + "\n".join(rows))


def _refusals() -> frozenset[str]:
    """The error types of Fleet's refusals (4xx: bad input, missing, conflicting, not
    allowed): an invocation that ended in one was refused, it did not fail."""
    def kinds(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from kinds(sub)

    return frozenset(k.__name__ for k in kinds(FleetError) if k("x").status < 500)


REFUSALS = _refusals()


def _invoke(api, person, function: str, payload: dict) -> Reply:
    """Run an action as `person`; its outcome goes to the channel, a refusal (nothing
    running to pause, a role missing) only to the person, as an ephemeral message."""
    a = api.act(person, "POST", f"/v1/functions/{function}/invoke", json=payload,
                params={"wait": 300})
    if not a.ok:
        return _refused(a)
    error = a.body.get("error") or {}
    if a.body["status"] == "failed" and error.get("type") in REFUSALS:
        return Reply(bot_messages.BOT_REFUSED.format(detail=error.get("message", "")))
    return Reply(_result_line(a.body), public=True)


def _deploy(api, args, person) -> Reply:
    if len(args) != 3 or args[1] != "to":
        return _usage("deploy")
    return _invoke(api, person, "deploy", {"model": args[0], "endpoint": args[2]})


def _rollout(api, args, person) -> Reply:
    if len(args) < 2 or args[0] not in ("start", "status", "pause", "resume", "promote",
                                        "abort"):
        return _usage("rollout")
    action, endpoint = args[0], args[1]
    if action == "status":
        a = api.read("/v1/rollouts", endpoint=endpoint, limit=1)
        if not a.ok:
            return _refused(a)
        if not a.body["rollouts"]:
            return Reply(messages.ENDPOINT_HAS_NO_ROLLOUTS.format(endpoint=endpoint))
        r = a.body["rollouts"][0]
        return Reply(f"`{r['id']}` {r['strategy']} on {endpoint}: *{r['status']}* at "
                     f"{r['weight']:g}% (candidate {r['candidate']['model']}:"
                     f"{r['candidate']['version']})")
    payload: dict[str, Any] = {"action": action, "endpoint": endpoint}
    if action == "start":
        if len(args) < 3:
            return _usage("rollout")
        payload["model"] = args[2]
        try:
            payload.update(_start_options(args[3:]))
        except FleetError as exc:
            return Reply(bot_messages.BOT_REFUSED.format(detail=str(exc)))
    elif len(args) != 2:
        return _usage("rollout")
    return _invoke(api, person, "rollout", payload)


def _start_options(args: list[str]) -> dict[str, Any]:
    """`key=value` after the model: a RolloutSpec field (`steps` and `gates` also as
    comma lists), `spec=` JSON for the whole spec, `serving=` JSON; the rollout function
    validates them and names a bad field."""
    given = parse_key_values(args)
    out: dict[str, Any] = {}
    spec = given.pop("spec", None) or {}
    if not isinstance(spec, dict):
        raise InvalidInput(bot_messages.BOT_SPEC_NOT_OBJECT, [FieldProblem(
            "spec", "not a JSON object", "Write spec='{\"gates\": [\"start\"]}'.")])
    if "serving" in given:
        out["serving"] = given.pop("serving")
    for key, value in given.items():
        if key not in RolloutSpec.model_fields:
            raise InvalidInput(bot_messages.BOT_UNKNOWN_OPTION.format(
                key=key, known=", ".join(sorted(RolloutSpec.model_fields))), [FieldProblem(
                    key, "not a rollout option", "Use one of the options listed.")])
        if key in ("steps", "gates") and isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        spec[key] = value
    if spec:
        out["spec"] = spec
    return out


def _approvals(api, args, person) -> Reply:
    a = api.read("/v1/approvals", status="pending")
    if not a.ok:
        return _refused(a)
    pending = a.body["approvals"]
    if not pending:
        return Reply(bot_messages.BOT_NO_APPROVALS)
    out = [b for ap in pending[:10] for b in blocks.approval(ap)]
    return Reply(bot_messages.BOT_NO_APPROVALS if not out else "Pending approvals", out,
                 public=True)


def decide(api, person: str, approval_id: str, approve: bool, reason: str = "") -> Answer:
    verb = "approve" if approve else "reject"
    return api.act(person, "POST", f"/v1/approvals/{approval_id}/{verb}",
                   json={"comment": reason})


def _approve(api, args, person) -> Reply:
    if len(args) != 1:
        return _usage("approve")
    a = decide(api, person, args[0], True)
    return Reply(blocks.as_text(blocks.decided(a.body)), public=True) if a.ok else _refused(a)


def _reject(api, args, person) -> Reply:
    if not args:
        return _usage("reject")
    a = decide(api, person, args[0], False, " ".join(args[1:]))
    return Reply(blocks.as_text(blocks.decided(a.body)), public=True) if a.ok else _refused(a)


_HANDLERS: dict[str, Callable[[FleetAPI, list[str], str | None], Reply]] = {
    "functions": _functions, "run": _run, "status": _status, "models": _models,
    "model": _model, "deploy": _deploy, "rollout": _rollout, "approvals": _approvals,
    "approve": _approve, "reject": _reject,
}

"""Every string the Slack bot shows a person, in one place (as fleet.messages is for the core)."""

BOT_HELP = (
    "*/fleet* runs Fleet from Slack:\n"
    "• `help` this text\n"
    "• `functions` the functions you can run\n"
    "• `run FUNCTION key=value ...` start one; its result comes in a thread\n"
    "• `status INVOCATION` one invocation (an id prefix works)\n"
    "• `models`, `model NAME` the registry\n"
    "• `deploy MODEL[:VERSION|@ALIAS] to ENDPOINT` serve a version\n"
    "• `rollout start|status|pause|resume|promote|abort ENDPOINT [MODEL]` steer a rollout\n"
    "• `approvals` pending approval requests\n"
    "• `approve ID`, `reject ID [reason]` decide one (as yourself)"
)
BOT_UNKNOWN_COMMAND = "`{word}` is not a /fleet command. Did you mean `{guess}`? Try `/fleet help`."
BOT_UNKNOWN_COMMAND_NO_GUESS = "`{word}` is not a /fleet command. Try `/fleet help`."
BOT_USAGE = "Usage: `/fleet {usage}`"
BOT_NOT_MAPPED = (
    "Your Slack user ({user}) is not mapped to a Fleet identity, so you can read but not act. "
    "Ask an operator to add you under bot.users in fleet.yaml."
)
BOT_REFUSED = ":no_entry: {detail}"
BOT_FLEET_DOWN = "Fleet's gateway cannot be reached right now ({reason}). Try again in a minute."
BOT_STARTED = "Started `{function}` as {who}: `{id}`. The result comes in this thread."
BOT_RESULT = "`{id}` {status} in {duration}: {summary}"
BOT_APPROVAL = (
    "*Approval needed* ({gate} gate): {summary}\nRequested by {who}; needs role `{role}`."
)
BOT_DECIDED = "*{status}* by {who} at {when}: {summary}"
BOT_DECIDED_WHY = "> {comment}"
BOT_BAD_SIGNATURE_LOG = "Refused a request with an invalid Slack signature (body not logged)."
BOT_SPEC_NOT_OBJECT = "spec must be a JSON object, e.g. spec='{\"gates\": [\"start\"]}'."
BOT_UNKNOWN_OPTION = "'{key}' is not a rollout option. Options: {known}, spec, serving."
BOT_NO_APPROVALS = "No approval requests are pending."
BOT_NO_FUNCTIONS = "No functions are registered."
BOT_CONFIG_MISSING = (
    "The bot needs {name} in its environment ({why}). See docs/operations.md, Slack bot."
)
BOT_MODE = ("`fleet bot {mode}` is not a mode; use `fleet bot`, `--socket`, `notify` or "
            "`console`.")
BOT_ROLLOUT_HEAD = ("*Rollout `{id}`* ({strategy}) on `{endpoint}`: {baseline} → *{candidate}*"
                    " · *{status}*")
BOT_ROLLOUT_LADDER = "Ladder: {ladder}"
BOT_ROLLOUT_TRAFFIC = "Live traffic: {split}"
BOT_ROLLOUT_FOOT = "Started by {who} · updated {when}"
BOT_ROLLOUT_REASON = "Why: {reason}"
# One line in the rollout's thread per event (rollout.<kind>); unknown kinds use the default.
BOT_ROLLOUT_EVENTS = {
    "started": "Started: the candidate gets {weight}%.",
    "step": "Stepped up: the candidate gets {weight}%.",
    "check": "Analysis at {weight}%: {verdict}.",
    "approval_requested": "Waiting for approval ({gate} gate) before going on.",
    "paused": "Paused.",
    "resumed": "Resumed.",
    "promoting": "Promoting: the candidate takes all traffic.",
    "succeeded": "Succeeded: the candidate serves 100%.",
    "rolling_back": "Rolling back: {reason}",
    "rolled_back": "Rolled back: {reason}",
    "aborted": "Aborted: {reason}",
    "failed": "Failed: {reason}",
    "retired": "Retired the versions it left behind.",
}
BOT_ROLLOUT_EVENT_DEFAULT = "{kind}: {to}"
BOT_DRIFT_ALERT = (":warning: *Drift on `{endpoint}`* ({version}): {drifted} of {total} "
                   "columns drifted in the last window ({rows} rows against {reference} "
                   "reference rows). Report `{id}`.")
BOT_ALERT_FIRING = ":rotating_light: *{name}* ({severity}): {summary}"
BOT_ALERT_RESOLVED = ":white_check_mark: *{name}* resolved: {summary}"
BOT_DEGRADED_ALERT = (":warning: *Performance dropped on `{endpoint}`* ({version}) in the "
                      "last window; no column drifted ({total} checked). Report `{id}`.")
BOT_PERFORMANCE = ("• {metric}: {realised} on {labelled} labels (at registration {registered}; "
                   "estimated from confidence {estimated}){verdict}")
BOT_PERFORMANCE_DEGRADED = ": *degraded*"
BOT_DRIFT_COLUMN = "• `{column}`: {method} {score:.3g} (threshold {threshold:g}), PSI {psi:.2f}"
BOT_DRIFT_ASKED = "{who} asked to {action} `{endpoint}`: approval `{id}` waits for an approver."
BOT_DRIFT_SNOOZED = "{who} snoozed drift alerts of `{endpoint}` until {until}."
BOT_DRIFT_PLOT = "Drift of {endpoint}, report {id}"
BOT_NOTIFIER_STARTED = "Notifier {holder}: delivering '{consumer}' outbox events to {channel}"

"""Serving, rollouts, approvals and the outbox."""

# -- serving, rollouts, approvals ---------------------------------------------------------
UNKNOWN_ENDPOINT = (
    "No endpoint named '{name}'. Deploy a model to it first: "
    "`fleet invoke deploy model=NAME:VERSION endpoint={name}`."
)
UNKNOWN_ROLLOUT = "No rollout with id '{id}'. Run `fleet rollouts` to list them."
UNKNOWN_APPROVAL = "No approval request with id '{id}'. Run `fleet approvals` to list them."
ROLLOUT_ACTIVE = (
    "Endpoint '{endpoint}' already has an active rollout ({id}). Wait for it, or abort it "
    "with `fleet invoke rollout action=abort endpoint={endpoint}`."
)
ROLLOUT_NOT_ALLOWED = (
    "Rollout {id} is {status}; '{action}' works only when it is {allowed}."
)
APPROVAL_DECIDED = (
    "Approval {id} was already decided: {status} by {who}. A request is decided once."
)
APPROVAL_EXPIRED = "Approval {id} has expired. Ask the requester to start the step again."
APPROVAL_SELF = (
    "'{who}' requested approval {id} and cannot approve it. Ask another person with the role."
)
APPROVAL_ROLE = (
    "'{who}' lacks the role '{role}' that approval {id} needs. Roles come from the token's "
    "'roles' in fleet.yaml."
)
APPROVAL_NEEDS_IDENTITY = (
    "Deciding an approval needs to know who you are: pass --token or set FLEET_TOKEN to a "
    "token from fleet.yaml."
)
VERSION_NOT_ROUTED = (
    "Header {header}: version '{version}' is not served by endpoint '{endpoint}'. It serves "
    "{versions}."
)
ENDPOINT_HAS_NO_VERSIONS = "Endpoint '{endpoint}' has no version to route to yet."
MODEL_UNAVAILABLE = (
    "Version {version} of endpoint '{endpoint}' failed to answer (reference {ref})."
)
ROUTER_ROUTES = (
    "The router answers POST/GET /endpoints/NAME, POST /endpoints/NAME/feedback, /metrics "
    "and /healthz."
)
FEEDBACK_INVALID = (
    "Feedback must be JSON like {\"request_id\": \"...\", \"reward\": 1} or "
    "{\"request_id\": \"...\", \"labels\": [...]}; request_id is the x-fleet-request-id "
    "header of the answer, reward a number from 0 to 1."
)
FEEDBACK_UNKNOWN = (
    "Request id '{id}' is unknown to this endpoint. Send the x-fleet-request-id header of an "
    "answer from this endpoint."
)
FEEDBACK_NOT_BANDIT = (
    "Answer '{id}' was not chosen by a bandit rollout, so a reward has nothing to teach. "
    "Send its ground truth as \"labels\" instead."
)
FEEDBACK_LABELS_INVALID = (
    "labels must be a list with one label per instance of the request (null for one you do "
    "not know, at most 10000), or label one value for a one-instance request; each label a "
    "number, a string of at most 200 characters, or a boolean."
)
LABEL_DUPLICATE = "Answer '{id}' already has its labels; each instance is labelled once."
VERSION_STARTING = (
    "Version {version} of endpoint '{endpoint}' is not running yet (it is being deployed or "
    "restored). Retry in a few seconds."
)
ALIAS_NEEDS_APPROVAL = (
    "{model}@{alias} is protected: approval {id} was requested. Someone with the role "
    "'{role}' approves it with `fleet approve {id}`; the alias moves then."
)
ROLLOUT_GATE_PENDING = (
    "Rollout {id} waits for approval {approval}: it cannot {action} until that is decided "
    "(`fleet approve {approval}` by someone with the approver role, or "
    "`fleet reject {approval}`); abort it to give up instead.")
ROLLOUT_AWAITS_APPROVAL = (
    "Rollout {id} already waits for promotion approval {approval}; it promotes when that is "
    "approved (`fleet approve {approval}`)."
)
INJECTED_FAULT = "This version was deployed with fault_error_rate > 0."
ENDPOINT_ROUTES_NOWHERE = "Endpoint '{endpoint}' routes to no version; `deploy` one first."
ROLLOUT_NEEDS_MODEL = "Starting a rollout needs the candidate model."
ROLLOUT_SAME_VERSION = "{version} already serves '{endpoint}'."
ENDPOINT_HAS_NO_ROLLOUTS = "Endpoint '{endpoint}' has no rollouts yet."
ENDPOINT_CHANGED = "Endpoint '{endpoint}' changed while deploying; run it again."
ROUTER_MISSED_TABLE = (
    "The router at {url} did not pick up endpoint '{endpoint}' within {timeout:g}s. Check "
    "`fleet status` and logs/server.log."
)
ROLLOUT_KEPT_CHANGING = "Rollout {id} kept changing; try again."


# -- the outbox ------------------------------------------------------------------------------
OUTBOX_NOT_HELD = ("Event {event} is not held by you for '{consumer}': your claim ran out and "
                   "another notifier took it, or it was already reported. Claim again.")
OUTBOX_STATE = "Unknown delivery state '{state}'; use one of {states}."
OUTBOX_EMPTY = "No deliveries{where}."
OUTBOX_REPLAYED = "Replayed {n} dead-lettered deliveries for '{consumer}'."
ROLLOUT_OTHER_ENDPOINT = ("Rollout {id} is not on endpoint '{endpoint}'. Name the endpoint it "
                          "rolls out on, or leave `id` out for the endpoint's latest rollout.")
INVALID_FIELDS = "The request is not valid: {problems}."
SERVED_BODY_TOO_LARGE = ("The request body is over this app's limit of {limit} bytes "
                         "(serving.max_body_bytes). Send less, or raise the limit.")
RAG_KB_EMPTY = ("Knowledge base '{kb}' has no documents yet. Ingest some first: "
                "`fleet ingest PATH --kb {kb}`.")

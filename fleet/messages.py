"""Every user-facing sentence Fleet prints or returns, in one place.

Keeping the text here (the bolt-python way) means the CLI, the HTTP gateway and, later, the
Slack bot say the same thing for the same situation, and wording is reviewed in one file.
Each entry is a format string; callers fill it with keyword arguments only.
"""

from __future__ import annotations

UNKNOWN_FUNCTION = (
    "No function named '{name}'. Run `fleet functions` (or GET /v1/functions) to list the "
    "registered ones."
)
UNKNOWN_INVOCATION = (
    "No invocation with id '{id}'. Run `fleet invocations` (or GET /v1/invocations) to list "
    "recent ones."
)
INVALID_PAYLOAD = "The input for '{name}' is invalid: {count} problem(s), see errors."
FIELD_FIX = "Send a value that matches the schema of '{field}' (GET /v1/functions/{name})."
PAYLOAD_NOT_OBJECT = "The request body must be a JSON object with the fields of '{name}'s input."
PAYLOAD_NOT_JSON = "The request body is not valid JSON: {reason}. Send a JSON object."
BODY_TOO_LARGE = (
    "The request body is {size} bytes; the limit is {limit} bytes. Put large inputs in artifact "
    "storage and pass their URI instead."
)
AUTH_MISSING = "Missing bearer token. Send 'Authorization: Bearer <token>' (see `fleet status`)."
AUTH_INVALID = "The bearer token is not valid. Check the token configured in fleet.yaml."
AUTH_SCOPE = "The token '{who}' lacks the '{scope}' scope needed here. Ask an admin for it."
WAIT_OUT_OF_RANGE = "'wait' must be between 0 and {max} seconds; got {value}."
IDEMPOTENCY_KEY_TOO_LONG = "The Idempotency-Key header must be at most {max} characters."
IDEMPOTENCY_KEY_REUSED = (
    "Idempotency-Key '{key}' was already used for function '{other}'. Use a new key for a "
    "different function."
)
NOT_CANCELLABLE = (
    "Invocation {id} is already {status}; only queued or running ones can be cancelled."
)
INTERNAL_ERROR = "Fleet hit an internal error (reference {ref}). The operator's logs have details."
CLUSTER_UNAVAILABLE = (
    "Fleet cannot reach its Ray cluster{detail}. Start it with `fleet up`, then try again."
)
RUNTIME_NOT_UP = (
    "Fleet's server (supervisor and scheduler) is not running on the cluster. Start it with "
    "`fleet up`."
)
STORE_UNAVAILABLE = "Fleet cannot reach its store: {reason}. Check store_url in fleet.yaml."

TIMED_OUT = "Ran longer than its timeout of {timeout_s:g} s and was stopped."
WORKER_DIED = (
    "Its worker process died {attempts} time(s) (retries={retries}); the last cause: {cause}"
)
CANCELLED_BY = "Cancelled by {who}."
LOST_ON_RESTART = (
    "The Fleet supervisor restarted while this ran, and the run was lost. Invoke it again."
)
RESULT_INVALID = "The function returned a value that does not match its output model: {reason}"

BAD_KEY_VALUE = "Arguments must look like key=value; got '{arg}'."
BAD_JSON_OPTION = "--json must be a JSON object: {reason}"

FUNCTION_DEFINITION = "@function on {where}: {problem}"
DUPLICATE_FUNCTION = (
    "Two functions are named '{name}' ({first} and {second}). Give one a different name=."
)
IMPORT_FAILED = "Could not import function module '{module}': {reason}"

BAD_SCHEDULE = (
    "'{spec}' is not a valid schedule. Use a cron expression ('*/5 * * * *', with an optional "
    "sixth field for seconds) or '@every <N>s|m|h'."
)
SCHEDULE_EXISTS = "A schedule named '{name}' already exists. Remove it first or pick another name."
UNKNOWN_SCHEDULE = "No schedule named '{name}'. Run `fleet schedules` to list them."
SCHEDULE_FROM_CODE = (
    "Schedule '{name}' comes from the @function decorator of '{function}'; change it in code."
)

CONFIG_INVALID = "fleet.yaml is invalid: {reason}"
CONFIG_SCOPE = "Token '{name}' has unknown scope '{scope}'. Use read, invoke or admin."

NOT_UP = "Fleet is not running here. Start it with `fleet up`."
UP_ALREADY = "Fleet is already up."
JOB_FAILED = "Ray job {job_id} ended {status}: {message}"

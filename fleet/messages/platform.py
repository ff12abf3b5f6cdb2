"""Data access, identities and tokens, start-up, the store, artifacts and training data."""

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
    "Identity '{name}' already has an active token. To rotate it, add a second one with "
    "`fleet tokens add {name} --rotate` (same scopes and roles), move the callers, then "
    "revoke the old one by its id (`fleet tokens revoke tok_…`); or revoke it first "
    "(`fleet tokens revoke {name}`) and add a new one."
)
TOKEN_NOTHING_TO_ROTATE = (
    "Identity '{name}' has no active token to rotate: add one with `fleet tokens add {name} "
    "--scopes ...`."
)
TOKEN_ROTATING = (
    "Identity '{name}' is already being rotated (active tokens {ids}): revoke the old one "
    "by its id first."
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
VERSION_URL_CLOSED = (
    "This URL ('{name}') skips the router, and serving.endpoint_tokens guards endpoints: call "
    "the endpoint through the router (its URL is in `fleet endpoints`), or list who may call "
    "this version directly under serving.endpoint_tokens['{name}'] (or 'models/*', or '*')."
)

# Start-up.
DID_NOT_COME_UP = (
    "{what} did not come up within {timeout_s:.0f} s; see the logs under FLEET_HOME/logs."
)
RAY_EXITED = "Ray failed to start (exit {code}); see {log}."
RAY_EXITED_BECAUSE = "Ray failed to start (exit {code}): {cause} (Ray's output: {log})"
RAY_CAUSE_SOCKET_PATH = (
    "a socket path under Ray's temp dir passes the kernel's {limit}-byte limit ({path}). "
    "Set RAY_TMPDIR to a short folder (for example RAY_TMPDIR=/tmp) and run `fleet up` again."
)
RAY_CAUSE_ALREADY_RUNNING = (
    "a Ray cluster already runs at {address} (a `fleet up` that was not stopped, another "
    "installation, or your own `ray start`). `fleet down` stops this installation's; "
    "`ray stop` stops one you started; or give this installation another cluster.gcs_port."
)
RAY_CAUSE_PORT_IN_USE = (
    "a port Ray needs is in use{port}. `fleet doctor` names the configured ports that are "
    "taken; stop what holds it, or set that cluster.*_port key (null: a free one)."
)
RAY_CAUSE_DENIED = (
    "Ray cannot write {path} (left by another user or an older run?). Remove it, or set "
    "RAY_TMPDIR to a folder you own."
)
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

FLAGGER_SUMMARY = "Flagger {kind} for {namespace}/{name} (phase {phase}, revision {checksum})"

AUDIT_NOT_ALLOWED = ("'{who}' cannot read the audit trail: it needs the admin scope or the "
                     "'auditor' role.")
AUDIT_BAD_TIME = ("'{field}' must be a time like 2026-12-07T14:30:00Z (UTC unless it names a "
                  "zone), an epoch in seconds, or how long ago (30m, 2h, 7d); got '{text}'.")
AUDIT_NOTHING_SERVED = "Endpoint '{endpoint}' had no routing table at {at}: it was created later."
PERMISSION_NEEDED = ("'{who}' may not {verb} {resource}: that needs the role {roles} or the admin "
                     "scope. An admin grants a role with `fleet tokens add NAME --roles ROLE` "
                     "(roles are defined in fleet.yaml's `roles:`).")

# The CLI's lists.
UNKNOWN_OUTPUT = "Unknown output '{output}': -o takes table, wide, json or yaml."
DEMO_DOCTOR_FAILED = (
    "fleet doctor found what would make the demo fail (above, each with its fix); fix it "
    "and run `make demo` again."
)

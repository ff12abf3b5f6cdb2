"""What each configured Serve app (serving.apps) is doing, and why one is not serving.

The Fleet server starts the apps in a thread after `fleet up` has seen the gateway answer,
so without a record `fleet up` returned before the apps served, and a failed app showed
only as Ray's words ("Deployment(name='llm', app='llm') is unavailable because it failed
to deploy") to whoever called it. The server writes each app's state here as it changes:
`starting`, `running`, or `failed` with the reason (the first line of the cause, found in
Serve's deployment status, not Serve's summary) and the fix. `fleet up` waits on it,
`fleet status` lists it, `fleet ask` waits a bounded time for a starting app, and a failed
app's route gets a stand-in that answers 503 with the same reason and fix
(fleet.serving.unavailable).

The record is FLEET_HOME/run/apps.json, written whole and renamed into place, stamped
with the server's pid so a reader never takes a previous server's record for this one's.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import asdict, dataclass, field

from fleet import messages
from fleet.config import Settings

STARTING, RUNNING, FAILED = "starting", "running", "failed"
# The last line of a Python traceback: "package.module.SomeError: what happened".
_RAISED = re.compile(r"^\s*(?:[A-Za-z_][\w.]*\.)?([A-Z]\w*(?:Error|Exception|Exit|Missing"
                     r"|Unavailable|Refused|Conflict|NotFound|Timeout|Exceeded)): (.+)$")


@dataclass
class AppState:
    name: str
    state: str = STARTING
    route_prefix: str | None = None
    reason: str = ""
    fix: str = ""
    since: float = field(default_factory=time.time)

    def public(self) -> dict:
        out = {"state": self.state, "route_prefix": self.route_prefix}
        if self.state == FAILED:
            out.update(reason=self.reason, fix=self.fix)
        return out


def path(settings: Settings):
    return settings.run_dir / "apps.json"


SERVER = {"pid": None}  # set by the Fleet server process (fleet.server.main)


def write(settings: Settings, apps: dict[str, AppState]) -> None:
    """Record `apps`, stamped with the Fleet server's pid: this process's when it is the
    server, else the pid already recorded (a test or an operator re-running apps.start for
    the running server), else this process's."""
    target = path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    pid = SERVER["pid"]
    if pid is None:
        try:
            pid = json.loads(target.read_text()).get("server_pid")
        except (OSError, ValueError):
            pid = None
    tmp = target.with_name(f".apps.{os.getpid()}.json")
    tmp.write_text(json.dumps({"server_pid": pid or os.getpid(),
                               "apps": {n: asdict(a) for n, a in apps.items()}}, indent=2))
    tmp.replace(target)


def read(settings: Settings, server_pid: int | None = None) -> dict[str, AppState] | None:
    """The apps' states, or None when there is no record (or, given `server_pid`, none
    written by that server: a previous server's record says nothing about this one)."""
    try:
        data = json.loads(path(settings).read_text())
    except (OSError, ValueError):
        return None
    if server_pid is not None and data.get("server_pid") != server_pid:
        return None
    return {n: AppState(**a) for n, a in data.get("apps", {}).items()}


def all_starting(settings: Settings) -> dict[str, AppState]:
    """Every configured app, starting: what a server records before it starts them."""
    return {c.name: AppState(c.name, route_prefix=c.route_prefix)
            for c in settings.serving.apps}


def current(settings: Settings, server_pid: int | None) -> dict[str, AppState]:
    """Every configured app's state in `server_pid`'s record; an app it has not recorded
    yet is starting."""
    states = read(settings, server_pid) or {}
    return {n: states.get(n, a) for n, a in all_starting(settings).items()}


def cause(text: str) -> tuple[str, str]:
    """(reason, fix) from an error text, a traceback included: the last raised exception's
    message, its first sentence the reason and the rest the fix (Fleet's messages say what
    is wrong, then what to do); the generic fix when it names none."""
    message = text.strip().splitlines()[-1].strip() if text.strip() else ""
    for line in reversed(text.splitlines()):
        m = _RAISED.match(line)
        if m:
            message = m.group(2).strip()
            break
    reason, dot, rest = message.partition(". ")
    return (reason + ("." if dot else ""), rest.strip() or messages.SERVE_APP_GENERIC_FIX)


def deploy_failure(name: str, exc: Exception) -> tuple[str, str]:
    """(reason, fix) of app `name` that serve.run refused: the cause from Serve's status of
    its deployments (the replica's own traceback), else the exception itself."""
    details = []
    try:
        from ray import serve

        app = serve.status().applications.get(name)
        if app is not None:
            details = [d.message for d in app.deployments.values() if d.message]
            details += [app.message] if app.message else []
    except Exception:  # Serve itself may be what failed: the exception is all there is
        pass
    for text in details:
        if any(_RAISED.match(ln) for ln in text.splitlines()):
            return cause(text)
    return cause(f"{type(exc).__name__}: {exc}")


def wait(settings: Settings, server_pid: int | None, timeout_s: float,
         progress=lambda _msg: None, names: list[str] | None = None,
         poll_s: float = 0.5) -> dict[str, AppState]:
    """The apps' states once none of `names` (default: all configured) is starting, or at
    `timeout_s`; `progress` hears each change. Apps with no record yet count as starting."""
    deadline = time.monotonic() + timeout_s
    seen: dict[str, str] = {}
    while True:
        now = {n: a for n, a in current(settings, server_pid).items()
               if names is None or n in names}
        for n, a in now.items():
            if seen.get(n) != a.state:
                seen[n] = a.state
                progress(messages.SERVE_APP_STATE.format(
                    name=n, state=a.state, reason=f": {a.reason}" if a.reason else ""))
        if all(a.state != STARTING for a in now.values()) or time.monotonic() >= deadline:
            return now
        time.sleep(poll_s)


__all__ = ["FAILED", "RUNNING", "SERVER", "STARTING", "AppState", "all_starting", "cause",
           "current", "deploy_failure", "read", "wait", "write"]

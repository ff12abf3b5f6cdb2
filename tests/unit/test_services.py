"""The service layer (fleet.services): every public method of every service takes the
acting identity first and checks it before it reads or writes anything, so a token whose
scopes do not cover a call learns which scope it lacks, whichever entry point it came
through (the gateway, the CLI, the demo, the built-in functions, the Serve apps)."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from fleet.config import load_settings
from fleet.errors import Forbidden
from fleet.identity import Identity, expand
from fleet.runtime import Client
from fleet.services import Services

NOBODY = Identity("nobody", frozenset())
# Approvals.decide looks the request up first: a refusal is audited against it
# (test_approvals: the requester, a missing role and a missing scope are each refused).
CHECKED_ELSEWHERE = {("approvals", "decide")}


@pytest.fixture
def services(tmp_path, store_url):
    (tmp_path / "fleet.yaml").write_text(f"store_url: {store_url}\n")
    return Services(Client(load_settings(tmp_path)))


def identity_first_methods(svc: Services):
    for name in ("invocations", "approvals", "schedules", "endpoints", "rollouts", "models",
                 "runs", "tokens", "outbox", "drift", "usage"):
        service = getattr(svc, name)
        for attr, fn in inspect.getmembers(service, inspect.ismethod):
            params = list(inspect.signature(fn).parameters.values())
            if attr.startswith("_") or not params or params[0].name != "who":
                continue
            yield name, attr, fn, params[1:]


def call_with_dummies(fn, params):
    args = [("x" if p.name != "event_ids" else [1]) for p in params
            if p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD]
    kwargs = {p.name: "x" for p in params if p.default is p.empty and p.kind is p.KEYWORD_ONLY}
    out = fn(NOBODY, *args, **kwargs)
    if inspect.iscoroutine(out):
        asyncio.run(out)


def test_every_service_method_refuses_an_identity_without_its_scope(services):
    seen = []
    for name, attr, fn, params in identity_first_methods(services):
        if (name, attr) in CHECKED_ELSEWHERE:
            continue
        with pytest.raises(Forbidden) as err:
            call_with_dummies(fn, params)
        assert "nobody" in str(err.value) and "scope" in str(err.value), (name, attr)
        seen.append(f"{name}.{attr}")
    # the services the entry points use are all here, reads and writes alike
    for expected in ("invocations.list", "invocations.cancel", "invocations.ainvoke",
                     "approvals.move_alias", "schedules.add", "rollouts.describe",
                     "rollouts.start", "rollouts.command", "endpoints.route_first",
                     "endpoints.record_deployment", "models.register", "runs.open",
                     "runs.checkpoint", "tokens.add", "tokens.add_client", "outbox.replay",
                     "outbox.register", "drift.snooze", "drift.save_report", "usage.report"):
        assert expected in seen
    assert len(seen) >= 55


def test_a_read_scope_reads_but_does_not_write(services):
    reader = Identity("rita", expand(["read"]))
    assert services.endpoints.list(reader) == []
    assert services.models.list(reader) == []
    with pytest.raises(Forbidden, match="admin"):
        services.tokens.add(reader, "mallory", scopes=["admin"])
    with pytest.raises(Forbidden, match="admin"):
        services.tokens.list(reader)
    with pytest.raises(Forbidden, match="invoke"):
        services.invocations.invoke(reader, "hello", {}, via="python")


def test_an_invocation_is_its_callers_to_read_whole_and_to_cancel(services):
    inv, _ = services.store.invocations.create(
        function="hello", payload={"name": "secret"}, caller="admin", via="http",
        timeout_s=5, retries=0)
    reader = Identity("rita", expand(["read"]))
    seen = services.invocations.get(reader, inv.id)
    assert seen.caller == "admin" and seen.status.value == "queued"
    assert seen.payload is None and "secret" not in str(seen.public())
    assert [i.payload for i in services.invocations.list(reader)] == [None]
    auditor = Identity("audrey", expand(["read"]), frozenset({"auditor"}))
    assert services.invocations.get(auditor, inv.id).payload == {"name": "secret"}
    with pytest.raises(Forbidden, match="operator"):
        services.invocations.cancel(Identity("dee", expand(["invoke"])), inv.id)

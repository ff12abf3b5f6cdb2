"""The model registry: versions with lineage, and aliases (champion, challenger, ...).

Moving an alias is one function with one transaction (the alias row, its history and the
audit entry), because it is the action that approvals will gate.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from fleet import messages
from fleet.errors import FieldProblem, InvalidInput, NotFound
from fleet.names import ALIAS_RE, MODEL_RE
from fleet.store import audit
from fleet.store.engine import Engines
from fleet.store.schema import alias_history as H
from fleet.store.schema import model_aliases as A
from fleet.store.schema import model_versions as V


@dataclass(frozen=True)
class ModelVersion:
    model: str
    version: int
    run_id: str | None
    artifact_uri: str
    flavor: str
    metrics: dict
    params: dict
    lineage: dict
    tags: dict
    evaluation: dict | None
    created_at: float
    created_by: str

    def public(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _check_name(model: str) -> None:
    if not MODEL_RE.match(model):
        raise InvalidInput(messages.BAD_MODEL_NAME.format(model=model), [FieldProblem(
            "model", "invalid name", "Use letters, digits, '_', '-' or '.', up to 128.")])


class ModelRepo:
    def __init__(self, engines: Engines) -> None:
        self._e = engines

    def register(self, *, model: str, artifact_uri: str, flavor: str, run_id: str | None,
                 metrics: dict, params: dict, lineage: dict, actor: str,
                 tags: dict | None = None) -> ModelVersion:
        """Add the next version. Registering the same run twice returns its version."""
        _check_name(model)
        for _ in range(5):  # a concurrent registration took the number: take the next
            if run_id:
                existing = self._by_run(run_id)
                if existing is not None:
                    return existing
            try:
                with self._e.write.begin() as conn:
                    if self._e.dialect == "postgresql":
                        # One allocator per model at a time: under READ COMMITTED, concurrent
                        # registrations would all read the same max(version). (SQLite's
                        # BEGIN IMMEDIATE already serialises writers.)
                        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                                     {"key": f"fleet-model-version:{model}"})
                    version = (conn.execute(select(func.max(V.c.version))
                                            .where(V.c.model == model)).scalar() or 0) + 1
                    conn.execute(insert(V).values(
                        model=model, version=version, run_id=run_id,
                        artifact_uri=artifact_uri, flavor=flavor, metrics=metrics,
                        params=params, lineage=lineage, tags=tags or {},
                        created_at=time.time(), created_by=actor))
                    audit.record(conn, actor=actor, action="model.register",
                                 target=f"model:{model}:{version}",
                                 detail={"run_id": run_id, "artifact_uri": artifact_uri})
                return self.get(model, version)
            except IntegrityError:
                continue
        raise RuntimeError(f"could not allocate a version for model '{model}'")

    def _by_run(self, run_id: str) -> ModelVersion | None:
        with self._e.read.connect() as conn:
            r = conn.execute(select(V).where(V.c.run_id == run_id)).first()
        return ModelVersion(**dict(r._mapping)) if r else None

    def get(self, model: str, version: int | None = None, *,
            alias: str | None = None) -> ModelVersion:
        with self._e.read.connect() as conn:
            if alias is not None:
                version = conn.execute(select(A.c.version).where(
                    A.c.model == model, A.c.alias == alias)).scalar()
                if version is None:
                    raise NotFound(messages.UNKNOWN_ALIAS.format(model=model, alias=alias))
            q = select(V).where(V.c.model == model)
            q = q.where(V.c.version == version) if version is not None else q.order_by(
                V.c.version.desc()).limit(1)
            r = conn.execute(q).first()
        if r is None:
            what = f"version {version}" if version is not None else "versions"
            raise NotFound(messages.UNKNOWN_MODEL_VERSION.format(model=model, what=what))
        return ModelVersion(**dict(r._mapping))

    def resolve(self, ref: str) -> ModelVersion:
        """'name', 'name:3' or 'name@champion'."""
        if "@" in ref:
            name, alias = ref.split("@", 1)
            return self.get(name, alias=alias)
        if ":" in ref:
            name, version = ref.rsplit(":", 1)
            if not version.isdigit():
                raise InvalidInput(messages.BAD_MODEL_REF.format(ref=ref), [FieldProblem(
                    "model", "bad version", "Use name, name:3 or name@alias.")])
            return self.get(name, int(version))
        return self.get(ref)

    def versions(self, model: str) -> list[ModelVersion]:
        with self._e.read.connect() as conn:
            rows = conn.execute(select(V).where(V.c.model == model).order_by(V.c.version))
            return [ModelVersion(**dict(r._mapping)) for r in rows]

    def models(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Models, the most recently registered first."""
        q = (select(V.c.model, func.max(V.c.version), func.count()).group_by(V.c.model)
             .order_by(func.max(V.c.created_at).desc()).limit(limit))
        with self._e.read.connect() as conn:
            out = [{"model": m, "latest": v, "versions": n} for m, v, n in conn.execute(q)]
            for row in out:
                row["aliases"] = self.aliases(row["model"], conn=conn)
        return out

    def aliases(self, model: str, conn=None) -> dict[str, int]:
        q = select(A.c.alias, A.c.version).where(A.c.model == model)
        if conn is not None:
            return dict(conn.execute(q).all())
        with self._e.read.connect() as c:
            return dict(c.execute(q).all())

    def describe(self, model: str) -> dict[str, Any]:
        """Versions, aliases and alias history of a model (NotFound if it has none)."""
        versions = [v.public() for v in self.versions(model)]
        if not versions:
            self.get(model)  # raises the clear NotFound
        return {"model": model, "versions": versions, "aliases": self.aliases(model),
                "history": self.alias_history(model)}

    def set_evaluation(self, model: str, version: int, evaluation: dict) -> None:
        with self._e.write.begin() as conn:
            conn.execute(update(V).where(V.c.model == model, V.c.version == version)
                         .values(evaluation=evaluation))

    def move_alias(self, *, model: str, alias: str, version: int | None, actor: str,
                   reason: str, expected: int | None | str = "any") -> bool:
        """Point `alias` at `version` (None removes it): one transaction with history and
        audit. `expected` makes it a compare-and-set on the current target."""
        check_alias_move(alias, reason)
        with self._e.write.begin() as conn:
            return apply_alias_move(conn, model=model, alias=alias, version=version,
                                    actor=actor, reason=reason, expected=expected)

    def request_alias_move(self, *, model: str, alias: str, version: int | None, actor: str,
                           reason: str, role: str, ttl_s: float):
        """For a protected alias: open an approval request; approving it moves the alias in
        the approval's own transaction (fleet.approvals: ApprovalRepo.settle runs the move)."""
        from fleet.store.approvals import ApprovalRepo, request_approval

        check_alias_move(alias, reason)
        with self._e.write.begin() as conn:
            if version is not None:
                _check_version(conn, model, version)
            target = "nothing" if version is None else f"v{version}"
            aid = request_approval(
                conn, gate="alias", target=f"model:{model}@{alias}", role=role, ttl_s=ttl_s,
                summary=f"Move {model}@{alias} to {target}: {reason}", requested_by=actor,
                payload={"model": model, "alias": alias, "version": version,
                         "reason": reason})
        return ApprovalRepo(self._e).get(aid)

    def alias_history(self, model: str) -> list[dict[str, Any]]:
        q = select(H).where(H.c.model == model).order_by(H.c.id)
        with self._e.read.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]


def check_alias_move(alias: str, reason: str) -> None:
    if not ALIAS_RE.match(alias):
        raise InvalidInput(messages.BAD_ALIAS.format(alias=alias), [FieldProblem(
            "alias", "invalid", "Use lower-case letters, digits, '_' or '-'.")])
    if not reason.strip():
        raise InvalidInput(messages.ALIAS_NEEDS_REASON, [FieldProblem(
            "reason", "empty", "Say why, e.g. 'beats v3 on F1 by 2 points'.")])


def _check_version(conn, model: str, version: int) -> None:
    if conn.execute(select(V.c.version).where(V.c.model == model,
                                              V.c.version == version)).first() is None:
        raise NotFound(messages.NO_SUCH_VERSION.format(model=model, version=version))


def apply_alias_move(conn, *, model: str, alias: str, version: int | None, actor: str,
                     reason: str, expected: int | None | str = "any") -> bool:
    """The alias move inside the caller's transaction: row, history and audit."""
    if version is not None:
        _check_version(conn, model, version)
    current = conn.execute(select(A.c.version).where(
        A.c.model == model, A.c.alias == alias)).scalar()
    if expected != "any" and current != expected:
        return False
    now = time.time()
    if version is None:
        conn.execute(A.delete().where(A.c.model == model, A.c.alias == alias))
    elif current is None:
        conn.execute(insert(A).values(model=model, alias=alias, version=version,
                                      updated_at=now, updated_by=actor, reason=reason))
    else:
        conn.execute(update(A).where(A.c.model == model, A.c.alias == alias).values(
            version=version, updated_at=now, updated_by=actor, reason=reason))
    conn.execute(insert(H).values(model=model, alias=alias, from_version=current,
                                  to_version=version, actor=actor, reason=reason, at=now))
    audit.record(conn, actor=actor, action="model.alias", target=f"model:{model}",
                 detail={"alias": alias, "from": current, "to": version, "reason": reason})
    return True

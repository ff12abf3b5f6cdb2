"""The rollout controller: a state machine over stored rollouts (Flagger and Argo Rollouts
are the models).

    pending ──(gate start?)── awaiting_approval ─┐
       └──────────────────────────────────────── progressing ⇄ paused
                 step passes → next step (gate step?) │ checks fail > allowed
                 last step passes (gate promotion?)   ↓
                        promoting ── hold_s ──→ succeeded      rolling_back ── drain ──→ rolled_back

Every move is one `RolloutRepo.transition`: a compare-and-set on the rollout's revision
that also writes the routing table, any approval request, an event, an audit entry and an
outbox entry. The controller keeps nothing in memory, so its ticks (from the scheduler) can
stop at any point: after a restart it reads the same row and continues at the same step,
and a tick that lost a race to another controller changes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from fleet import messages
from fleet.errors import Conflict
from fleet.rollouts.analysis import Verdict, Window, judge
from fleet.rollouts.spec import RolloutSpec
from fleet.serving import routing
from fleet.serving.routing import Arm
from fleet.store import Change, Rollout, Store

log = logging.getLogger("fleet.rollouts")
CONTROLLER = "fleet-controller"
PAUSED_FOR_S = 10 * 365 * 86400.0
ACTIONS = {
    "pause": ("progressing", "awaiting_approval"),
    "resume": ("paused",),
    "promote": ("progressing", "paused", "awaiting_approval"),
    "abort": ("pending", "awaiting_approval", "progressing", "paused", "promoting"),
}


def arm(d: dict | None) -> Arm | None:
    return None if d is None else Arm(model=d["model"], version=d["version"], app=d["app"])


def table_for(ro: Rollout, step: int) -> routing.RoutingTable:
    base, cand = arm(ro.baseline), arm(ro.candidate)
    if ro.strategy == "shadow":
        return routing.shadowed(base, cand)
    if ro.strategy == "bandit":
        return routing.bandit(base, cand)
    return routing.canary(base, cand, ro.spec["steps"][step])


class Controller:
    """`analysis` maps a provider name to an object with `window(...)`; `retire(app)`
    deletes a Serve application that no endpoint routes to any more."""

    def __init__(self, store: Store, *, analysis: dict, retire: Callable[[str], None],
                 snapshot: Callable[[Rollout], dict] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.analysis = analysis
        self.retire = retire
        self.snapshot = snapshot or (lambda ro: {})
        self.clock = clock

    # -- ticks ----------------------------------------------------------------------------

    def tick(self) -> list[str]:
        """Advance every due rollout once; retire drained apps. Returns the event kinds."""
        done = []
        for ro in self.store.rollouts.due(self.clock()):
            try:
                out = self.advance(ro)
                if out is not None:
                    done.append(out)
            except Exception:
                log.exception("rollout %s: tick failed; the next tick retries", ro.id)
        self.store.approvals.expire()
        self.collect()
        return done

    def _move(self, ro: Rollout, change: Change, actor: str = CONTROLLER) -> str | None:
        return change.kind if self.store.rollouts.transition(ro, change, actor=actor) else None

    def _window(self, ro: Rollout) -> dict:
        """A fresh analysis window (and a fresh count of unreachable checks)."""
        return {"window_start": self.clock(), "cursor": self.snapshot(ro), "inconclusive": 0}

    def _enter_step(self, ro: Rollout, step: int, kind: str, detail: dict | None = None,
                    actor: str = CONTROLLER) -> str | None:
        spec = RolloutSpec.model_validate(ro.spec)
        return self._move(ro, Change(
            kind=kind, to_status="progressing", step=step, failed_checks=0,
            routing=table_for(ro, step).dump(), state=self._window(ro),
            next_at=self.clock() + spec.interval_s, detail=detail or {}), actor)

    def _ask(self, ro: Rollout, gate: str, after: dict, summary: str,
             requested_by: str | None = None) -> str | None:
        """Open an approval for `gate`: in the name of `requested_by` (a person's manual
        promote), else of the rollout's starter; the starter is a party either way."""
        spec = RolloutSpec.model_validate(ro.spec)
        approval = {"gate": gate, "summary": summary, "role": spec.approver_role,
                    "ttl_s": spec.approval_ttl_s}
        if requested_by is not None:
            approval["requested_by"] = requested_by
        return self._move(ro, Change(
            kind="approval_requested", to_status="awaiting_approval",
            state={"gate": gate, "after": after}, next_at=self.clock(), approval=approval,
            detail={"gate": gate}), requested_by or CONTROLLER)

    def _promote(self, ro: Rollout, actor: str = CONTROLLER, detail: dict | None = None):
        spec = RolloutSpec.model_validate(ro.spec)
        return self._move(ro, Change(
            kind="promoting", to_status="promoting", step=len(spec.steps) - 1,
            routing=routing.promoted(arm(ro.baseline), arm(ro.candidate)).dump(),
            next_at=self.clock() + spec.hold_s, detail=detail or {}), actor)

    def _roll_back(self, ro: Rollout, reason: str, actor: str = CONTROLLER,
                   detail: dict | None = None) -> str | None:
        spec = RolloutSpec.model_validate(ro.spec)
        return self._move(ro, Change(
            kind="rolling_back", to_status="rolling_back",
            routing=routing.single(arm(ro.baseline)).dump(), state={"reason": reason},
            next_at=self.clock() + spec.drain_s, detail={"reason": reason, **(detail or {})}),
            actor)

    def advance(self, ro: Rollout) -> str | None:
        spec = RolloutSpec.model_validate(ro.spec)
        now = self.clock()
        if ro.status == "pending":
            if "start" in spec.gates:
                return self._ask(ro, "start", {"step": 0},
                                 f"Start {ro.strategy} of {ro.candidate['model']} "
                                 f"v{ro.candidate['version']} on {ro.endpoint}")
            return self._enter_step(ro, 0, "started")
        if ro.status == "awaiting_approval":
            return self._on_approval(ro)
        if ro.status == "progressing":
            return self._check(ro, spec)
        if ro.status == "promoting":
            return self._move(ro, Change(
                kind="succeeded", to_status="succeeded",
                routing=routing.single(arm(ro.candidate)).dump(),
                state={"retire": [ro.baseline["app"]] if ro.baseline else [],
                       "retire_at": now + spec.drain_s},
                detail={"held_s": spec.hold_s}))
        if ro.status == "rolling_back":
            return self._move(ro, Change(
                kind="rolled_back", to_status="rolled_back",
                state={"retire": [ro.candidate["app"]], "retire_at": now},
                detail={"reason": ro.state.get("reason", "")}))
        return None

    def _on_approval(self, ro: Rollout) -> str | None:
        ap = self.store.approvals.get(ro.state["approval_id"])
        if ap.status == "pending":
            return None
        if ap.status != "approved":
            return self._roll_back(ro, f"approval {ap.id} {ap.status}",
                                   detail={"approval_id": ap.id, "decided_by": ap.decided_by})
        after = ro.state.get("after", {})
        detail = {"approval_id": ap.id, "approved_by": ap.decided_by, "gate": ap.gate}
        if ap.gate == "promotion":
            return self._promote(ro, detail=detail)
        return self._enter_step(ro, after.get("step", 0),
                                "started" if ap.gate == "start" else "step", detail)

    def _check(self, ro: Rollout, spec: RolloutSpec) -> str | None:
        verdict = self._analyse(ro, spec)
        now = self.clock()
        detail = {"analysis": verdict.as_dict()}
        if verdict.result == "inconclusive" and not verdict.unreachable:  # too little traffic
            return self._move(ro, Change(kind="check", next_at=now + spec.interval_s,
                                         state={"inconclusive": 0}, detail=detail))
        if verdict.unreachable:
            in_a_row = ro.state.get("inconclusive", 0) + 1
            if in_a_row < spec.max_inconclusive_checks:
                return self._move(ro, Change(kind="check", next_at=now + spec.interval_s,
                                             state={"inconclusive": in_a_row},
                                             detail={**detail, "inconclusive": in_a_row}))
            # an analysis that cannot say anything for this long is a failed check, or a
            # rollout would wait for ever on a source that is down
            reason = messages.ANALYSIS_INCONCLUSIVE.format(
                n=in_a_row, reasons="; ".join(verdict.reasons))
            verdict = Verdict("fail", [reason], verdict.window)
            detail = {"analysis": verdict.as_dict(), "inconclusive": in_a_row}
        if verdict.result == "fail":
            failed = ro.failed_checks + 1
            if failed > spec.max_failed_checks:
                return self._roll_back(ro, "; ".join(verdict.reasons),
                                       detail={**detail, "failed_checks": failed})
            return self._move(ro, Change(kind="check", failed_checks=failed,
                                         state=self._window(ro),
                                         next_at=now + spec.interval_s, detail=detail))
        last = ro.step >= len(spec.steps) - 1
        if last:
            if ro.strategy == "bandit" and not self._candidate_won(ro):
                return self._roll_back(ro, "the baseline earned more reward", detail=detail)
            if "promotion" in spec.gates:
                return self._ask(ro, "promotion", {},
                                 f"Promote {ro.candidate['model']} v{ro.candidate['version']} "
                                 f"on {ro.endpoint}")
            return self._promote(ro, detail=detail)
        if "step" in spec.gates:
            return self._ask(ro, "step", {"step": ro.step + 1},
                             f"Raise {ro.candidate['model']} v{ro.candidate['version']} on "
                             f"{ro.endpoint} to {spec.steps[ro.step + 1]:g}%")
        return self._enter_step(ro, ro.step + 1, "step", detail)

    def _analyse(self, ro: Rollout, spec: RolloutSpec) -> Verdict:
        provider = self.analysis.get(spec.analysis)
        if provider is None:
            return Verdict("inconclusive", [f"no '{spec.analysis}' analysis configured"],
                           unreachable=True)
        version = f"{ro.candidate['model']}:{ro.candidate['version']}"
        try:
            window, _ = provider.window(
                ro.endpoint, version, since=ro.state.get("cursor", {}),
                start=ro.state.get("window_start", ro.updated_at), now=self.clock(),
                shadow=ro.strategy == "shadow")
        except Exception as exc:  # an unreachable source is not a verdict on the version
            return Verdict("inconclusive", [f"analysis source failed: {exc}"], Window(),
                           unreachable=True)
        return judge(window, spec.thresholds)

    def _candidate_won(self, ro: Rollout) -> bool:
        arms = self.store.endpoints.arms(ro.endpoint).get(ro.endpoint, {})

        def mean(d: dict | None) -> float:
            d = d or {}
            return (1 + d.get("successes", 0)) / (2 + d.get("pulls", 0))

        cand = f"{ro.candidate['model']}:{ro.candidate['version']}"
        base = f"{ro.baseline['model']}:{ro.baseline['version']}"
        return mean(arms.get(cand)) >= mean(arms.get(base))

    # -- retiring drained versions ---------------------------------------------------------

    def collect(self) -> None:
        """Retire what finished rollouts left behind once drained: every version that no
        routing table and no unfinished rollout needs, however old the rollout (before, only
        the 20 newest were looked at, and versions behind older ones ran for ever)."""
        now = self.clock()
        in_use = None
        for ro in self.store.rollouts.unretired():
            if now < ro.state.get("retire_at", 0):
                continue
            if in_use is None:
                in_use = self.store.endpoints.apps_in_use()  # tables and unfinished rollouts
            apps = [a for a in ro.state.get("retire", []) if a not in in_use]
            for app in apps:
                self.retire(app)
            self._move(ro, Change(kind="retired", state={"retired": True}, retired=True,
                                  detail={"apps": apps}))

    # -- starting -----------------------------------------------------------------------------

    def start(self, *, endpoint: str, baseline: dict, candidate: tuple[str, int],
              spec: RolloutSpec, actor: str, deploy: Callable[[], str]) -> Rollout:
        """Deploy the candidate (`deploy()` returns its Serve app) and record the rollout.
        The record is a compare-and-set on the endpoint's active rollout, and deploying
        takes seconds, so another start can win in between: then the app just deployed is
        removed again unless something else needs it, and the loser gets the Conflict."""
        model, version = candidate
        app = deploy()
        try:
            return self.store.rollouts.create(
                endpoint=endpoint, strategy=spec.strategy, baseline=baseline,
                candidate={"model": model, "version": version, "app": app},
                spec=spec.model_dump(mode="json"), actor=actor)
        except Conflict:
            if app not in self.store.endpoints.apps_in_use():
                self.retire(app)
            raise

    # -- commands from people ---------------------------------------------------------------

    def _pending_approval(self, ro: Rollout) -> str | None:
        """The id of the approval this rollout waits for (awaiting it, or paused while
        awaiting it), None when none is pending."""
        aid = ro.state.get("approval_id")
        waiting = ro.status == "awaiting_approval" or (
            ro.status == "paused" and ro.state.get("paused_from") == "awaiting_approval")
        if not aid or not waiting:
            return None
        return aid if self.store.approvals.get(aid).status == "pending" else None

    def command(self, ro: Rollout, action: str, *, actor: str) -> Rollout:
        """pause, resume, promote or abort, as `actor`; a clear error when not allowed."""
        for _ in range(5):
            allowed = ACTIONS[action]
            if ro.status not in allowed:
                raise Conflict(messages.ROLLOUT_NOT_ALLOWED.format(
                    id=ro.id, status=ro.status, action=action, allowed=" or ".join(allowed)))
            spec = RolloutSpec.model_validate(ro.spec)
            now = self.clock()
            waiting = self._pending_approval(ro)
            if action == "promote" and waiting:  # a gate is never skipped, by anyone
                if ro.state.get("gate") == "promotion":  # it promotes once approved
                    raise Conflict(messages.ROLLOUT_AWAITS_APPROVAL.format(
                        id=ro.id, approval=waiting))
                raise Conflict(messages.ROLLOUT_GATE_PENDING.format(
                    id=ro.id, approval=waiting, action=action))
            if action == "pause":
                ok = self._move(ro, Change(kind="paused", to_status="paused",
                                           state={"paused_from": ro.status},
                                           next_at=now + PAUSED_FOR_S), actor)
            elif action == "resume":
                back = ro.state.get("paused_from", "progressing")
                ok = self._move(ro, Change(kind="resumed", to_status=back,
                                           state=self._window(ro),
                                           next_at=now + (spec.interval_s
                                                          if back == "progressing" else 0)),
                                actor)
            elif action == "promote":
                if "promotion" in spec.gates:  # a person's promote still passes the gate
                    ok = self._ask(ro, "promotion", {}, f"Promote {ro.candidate['model']} "
                                   f"v{ro.candidate['version']} on {ro.endpoint} (manual)",
                                   requested_by=actor)
                else:
                    ok = self._promote(ro, actor, detail={"manual": True})
            else:
                ok = self._roll_back(ro, f"aborted by {actor}", actor)
            if ok:
                return self.store.rollouts.get(ro.id)
            ro = self.store.rollouts.get(ro.id)  # lost a race with a tick: look again
        raise Conflict(messages.ROLLOUT_KEPT_CHANGING.format(id=ro.id))

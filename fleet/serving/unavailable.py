"""A stand-in on a failed app's route: every request gets a 503 problem that names the app,
the reason it did not start and the fix, instead of Serve's 404 for a route with no app.

Why a Serve app and not a check in each caller: the LLM and RAG apps are reached through
Serve's proxy by any HTTP client (an OpenAI SDK, curl, the RAG app itself), which never
sees Fleet's records; the route is the one place all of them meet. It is a plain HTTP
deployment with no CPU reserved, replaced by the real app on the next `fleet up` after the
fix.
"""

from __future__ import annotations

import json

from ray import serve

from fleet import messages


@serve.deployment(ray_actor_options={"num_cpus": 0}, max_ongoing_requests=100)
class Unavailable:
    def __init__(self, name: str, reason: str, fix: str) -> None:
        self.body = json.dumps({
            "type": "about:blank", "title": "Service Unavailable", "status": 503,
            "detail": messages.SERVE_APP_UNAVAILABLE.format(name=name, reason=reason, fix=fix),
            "app": name, "reason": reason, "fix": fix}).encode()

    async def __call__(self, request):
        from starlette.responses import Response

        return Response(self.body, status_code=503, media_type="application/problem+json",
                        headers={"retry-after": "60"})


def stand_in(name: str, reason: str, fix: str, route_prefix: str | None, run=None) -> None:
    """Put the stand-in on app `name`'s route (replacing what Serve has under that name)."""
    run = run or serve.run
    run(Unavailable.bind(name, reason, fix), name=name, route_prefix=route_prefix)


__all__ = ["Unavailable", "stand_in"]

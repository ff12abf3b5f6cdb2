"""The gateway's /metrics: the store's metrics (fleet.telemetry, the same from any
instance) and this instance's HTTP request counter, summed with its peers'."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, generate_latest

from fleet.serving.metrics import merge
from fleet.telemetry import StoreCollector

GATEWAY_INSTANCES = ("fleet_gateway_instances", "Gateway instances whose request counters "
                     "this answer sums.")


class GatewayMetrics:
    """The store's metrics (the same from any instance) and this instance's request
    counter, which /metrics sums with its peers' (several gateway instances share a port,
    so a scrape reaches one of them)."""

    def __init__(self, collector: StoreCollector) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(collector)
        self.http = CollectorRegistry()
        self.requests = Counter("fleet_http_requests", "Gateway HTTP requests.",
                                ["route", "code"], registry=self.http)

    def render_http(self) -> bytes:
        """This instance's own request counter, for a peer's /metrics."""
        return generate_latest(self.http)

    def render(self, peers: list[bytes] = ()) -> bytes:
        return generate_latest(self.registry) + merge([self.render_http(), *peers],
                                                      GATEWAY_INSTANCES)


class RequestCounter:
    """Pure-ASGI request counting by route template and status (cheaper than Starlette's
    BaseHTTPMiddleware on the hot path)."""

    def __init__(self, app, counter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status = 500

        async def send_status(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.counter.labels(route, str(status)).inc()

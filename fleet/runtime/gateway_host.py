"""Serving the HTTP gateway from a supervisor instance's event loop.

An HTTP invocation then reaches the supervisor without a Ray hop. `gateway.instances`
supervisor instances serve it on one port (SO_REUSEPORT): a killed instance drops only the
requests it held while the others take every new connection, and whichever instance
answers /metrics sums every live instance's request counter.
"""

from __future__ import annotations

from fleet.runtime import collector


class GatewayHost:
    """The gateway half of `fleet.runtime.supervisor.Supervisor` (which provides
    `settings`, `name`, `count`, `_gateway_app`, `_gateway`, `_http_metrics`, `_peers`: a
    fleet.peers.Peers of the other instances).

    The app comes from the factory the Fleet server hands the supervisor
    (`fleet.gateway.create_app`): the runtime hosts an ASGI app and never imports the
    gateway, which sits above it."""

    async def _ensure_gateway(self) -> None:
        """Serve the HTTP gateway from this actor's event loop.

        An HTTP invocation then reaches the supervisor without a Ray hop: bench/gateway
        measured each hop at a few ms on a 2-core machine. Re-run after a restart (the
        scheduler pings every tick), so a crashed supervisor brings its gateway back."""
        if self._gateway_app is None or self._gateway is not None:
            return
        from fleet.asgi import serve_in_loop
        from fleet.runtime.api import Client

        app = self._gateway_app(self.settings, Client(self.settings, local_supervisor=self),
                                peers=self._peer_counters if self.count > 1 else None)
        self._http_metrics = app.state.metrics
        gw = self.settings.gateway
        self._gateway = True  # claimed: concurrent pings must not start a second server
        try:
            self._gateway = await serve_in_loop(app, host=gw.host, port=gw.port,
                                                shared=self.count > 1)
        except BaseException:
            self._gateway = None
            raise
        collector.settle()  # the app is built: what is on the heap now stays

    async def serving(self) -> bool:
        """Whether this instance's HTTP server is up (it starts on the first ping after a
        restart)."""
        return self._gateway not in (None, True)  # True: claimed, still starting

    async def http_counters(self) -> bytes:
        """This instance's gateway request counter, for a peer's /metrics."""
        return b"" if self._http_metrics is None else self._http_metrics.render_http()

    async def _peer_counters(self) -> list[bytes]:
        """The other live instances' request counters (fleet.peers)."""
        return [a for a in await self._peers.ask("http_counters") if a]

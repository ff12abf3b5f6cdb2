"""The router's Ray actor: it owns a Router and serves it from its own event loop (the Fleet
server starts `serving.routers` of them on one port)."""

from __future__ import annotations

from fleet.serving.router import Router


class RouterActor:
    """Owns a Router and serves it from this actor's loop (started by the Fleet server).

    Instance `index` of `count`, all on `serving.router_port` (SO_REUSEPORT): killing one
    loses only the requests it held. Each answers /metrics for all of them."""

    def __init__(self, index: int = 0, count: int = 1) -> None:
        from fleet.config import load_settings
        from fleet.peers import Peers
        from fleet.serving import router_name
        from fleet.store import open_store

        self.index, self.count = index, count
        self.settings = load_settings()
        self._peers = Peers(router_name(i) for i in range(count) if i != index)
        self.router = Router(self.settings, open_store(self.settings.resolved_store_url),
                             peers=self._peers.ask if count > 1 else None)
        self._server = None

    async def start(self) -> str:
        if self._server is None:
            from fleet.asgi import serve_in_loop

            self._server = True
            await self.router.start()
            cfg = self.settings.serving
            try:
                self._server = await serve_in_loop(self.router, host=cfg.host,
                                                   port=cfg.router_port,
                                                   shared=self.count > 1)
            except BaseException:
                self._server = None
                raise
        return "ok"

    async def ping(self) -> str:
        return await self.start()

    async def counters(self) -> bytes:
        """This instance's own metrics, for a peer's /metrics."""
        return self.router.metrics.render()

    async def serving(self) -> bool:
        """Whether this instance's HTTP server is up (for a peer's /healthz)."""
        return self._server not in (None, True)  # True: claimed, still starting


"""Serve an ASGI app from the event loop of the Ray actor that owns the state it needs.

The gateway (in the supervisor) and the router both do this: a request then reaches the
code that handles it without a Ray hop. The bind error, if any, is raised to the caller so
`fleet up` can report a port in use.
"""

from __future__ import annotations

import asyncio


async def serve_in_loop(app, *, host: str, port: int):
    """Start uvicorn on the running loop; return the server once it accepts connections."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           access_log=False, lifespan="off"))
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises the bind error
            raise RuntimeError(f"the HTTP server on {host}:{port} stopped while starting")
        await asyncio.sleep(0.05)
    server._fleet_task = task  # keep a reference: the loop holds tasks weakly
    return server

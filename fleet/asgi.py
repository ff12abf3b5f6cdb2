"""Serve an ASGI app from the event loop of the Ray actor that owns the state it needs.

The gateway (in the supervisor) and the router both do this: a request then reaches the
code that handles it without a Ray hop. The bind error, if any, is raised to the caller so
`fleet up` can report a port in use.
"""

from __future__ import annotations

import asyncio
import socket


async def serve_in_loop(app, *, host: str, port: int, shared: bool = False):
    """Start uvicorn on the running loop; return the server once it accepts connections.

    `shared`: bind with SO_REUSEPORT, so several instances (the routers) listen on one port
    and the kernel spreads new connections over them; when one dies, its socket closes and
    the others get every new connection, with no refused window. Linux lets only sockets of
    the same user join a port's group, and `fleet up` refuses a port already in use."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           access_log=False, lifespan="off"))
    sockets = [_shared_socket(host, port)] if shared else None
    task = asyncio.get_running_loop().create_task(server.serve(sockets=sockets))
    while not server.started:
        if task.done():
            task.result()  # raises the bind error
            raise RuntimeError(f"the HTTP server on {host}:{port} stopped while starting")
        await asyncio.sleep(0.05)
    server._fleet_task = task  # keep a reference: the loop holds tasks weakly
    return server


def _shared_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.setblocking(False)
    return sock

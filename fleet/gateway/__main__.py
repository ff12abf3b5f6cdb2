"""`python -m fleet.gateway`: serve the gateway with uvicorn in a process that holds Ray
handles (started in the background by `fleet up`)."""

from __future__ import annotations

import logging

import uvicorn

from fleet.cluster import connect
from fleet.config import load_settings
from fleet.gateway.app import create_app


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    settings = load_settings()
    connect(settings)
    app = create_app(settings)
    uvicorn.run(app, host=settings.gateway.host, port=settings.gateway.port,
                log_level="warning", access_log=False)


if __name__ == "__main__":
    main()

"""The HTTP gateway: `create_app()` builds the FastAPI app; `python -m fleet.gateway` serves it."""

from fleet.gateway.app import create_app

__all__ = ["create_app"]

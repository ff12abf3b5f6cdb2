"""The HTTP gateway: `create_app()` builds the FastAPI app. The Fleet server serves it from the
supervisor actor (fleet.server, fleet.runtime.supervisor); serve_apps.gateway as a Serve app."""

from fleet.gateway.app import create_app

__all__ = ["create_app"]

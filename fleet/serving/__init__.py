"""Model serving: routing tables, the router in front of every endpoint, prediction logs.

Model versions themselves are Serve applications (serve_apps.model); this package is the
part of serving that the core owns and the Fleet server runs.
"""

from __future__ import annotations

from fleet.addresses import http_url
from fleet.serving.routing import Arm, ArmStats, RoutingTable, choose

__all__ = ["ROUTER_NAME", "Arm", "ArmStats", "RoutingTable", "choose", "ensure_serve",
           "router_name", "router_url", "version_url"]

ROUTER_NAME = "fleet-router"  # instance i is the actor f"{ROUTER_NAME}-{i}"


def router_name(index: int) -> str:
    return f"{ROUTER_NAME}-{index}"


def ensure_serve(settings) -> None:
    """Start Serve's controller and HTTP proxy on the configured host and port (idempotent).
    The proxy serves each version at /models/NAME/vN; the router reaches them by handle."""
    from ray import serve

    serve.start(http_options={"host": settings.serving.host,
                              "port": settings.serving.serve_port})


def router_url(settings) -> str:
    """The router's base URL as other nodes and people reach it (fleet.addresses)."""
    s = settings.serving
    return http_url(s.host, s.router_port, s.advertise_host)


def version_url(settings, model: str, version: int) -> str:
    """A model version's URL on Serve's proxy, as other nodes and people reach it."""
    s = settings.serving
    return f"{http_url(s.host, s.serve_port, s.advertise_host)}/models/{model}/v{version}"

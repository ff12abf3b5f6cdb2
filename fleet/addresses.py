"""The address other processes reach a Fleet server at, which is not always the one it binds.

A server bound to every interface (`host: 0.0.0.0`, as on a KubeRay head) cannot be reached
at "0.0.0.0" from another node, and a URL with it in it, printed or handed to a deploy on a
worker node or the rollout analysis, leads nowhere. So a URL uses, in order: the configured
`advertise_host` (the head Service's DNS name in KubeRay), the bind host when it is a real
one, or the head node's IP as Ray reports it: the gateway and the routers live on the head
(fleet.multinode), so a deploy running on a worker node still gets the head's address.
"""

from __future__ import annotations

WILDCARDS = frozenset({"0.0.0.0", "::", ""})


def head_ip() -> str:
    """The head node's IP from Ray's node table when this process is connected, else this
    node's own (the CLI and the Fleet server run on the head); loopback if Ray cannot tell."""
    try:
        import ray
        import ray.util

        from fleet.multinode import HEAD_RESOURCE, alive_nodes

        if ray.is_initialized():
            for node in alive_nodes():
                if HEAD_RESOURCE in node.get("Resources", {}):
                    return node["NodeManagerAddress"]
        return ray.util.get_node_ip_address()
    except Exception:
        return "127.0.0.1"


def advertised_host(bind_host: str, advertise_host: str | None = None) -> str:
    if advertise_host:
        return advertise_host
    return head_ip() if bind_host in WILDCARDS else bind_host


def http_url(bind_host: str, port: int, advertise_host: str | None = None) -> str:
    host = advertised_host(bind_host, advertise_host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

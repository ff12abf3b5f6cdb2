"""Running invocations: the client-side invoke path and the cluster-side supervisor."""

from fleet.runtime.api import (
    SUPERVISOR_NAME,
    Client,
    client,
    default_caller,
    invoke,
    supervisor_name,
)

__all__ = ["SUPERVISOR_NAME", "Client", "client", "default_caller", "invoke", "supervisor_name"]

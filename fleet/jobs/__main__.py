"""`python -m fleet.jobs NAME key=value ...`: run a Fleet function as (or from) a Ray job.

    ray job submit --working-dir . -- python -m fleet.jobs validate_data path=data.csv

The invocation goes through the same path as every other entry point and is recorded with
entry point `job` and the Ray job's submission id, as the identity of the FLEET_TOKEN in
the job's environment (`ray-job` without one). Exit code: 0 succeeded, 1 the function
did not succeed, 2 bad input, 4 Fleet unavailable.
"""

from __future__ import annotations

import json
import os
import sys

from fleet.errors import FleetError, exit_code
from fleet.jobs import current_job_id
from fleet.runtime import Client
from fleet.runtime.payloads import parse_key_values


def _identity(client: Client):
    """The identity of FLEET_TOKEN (a revoked or unknown token fails the job), or ray-job:
    whoever can submit Ray jobs may invoke, but approves and administers nothing."""
    from fleet.identity import Identities, ray_job

    token = os.environ.get("FLEET_TOKEN")
    if not token:
        return ray_job()
    return Identities(client.settings, client.store).identify(token).require("invoke")


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    name, args = argv[0], argv[1:]
    try:
        payload = parse_key_values(args)
        import ray

        if not ray.is_initialized():
            ray.init(address=os.environ.get("RAY_ADDRESS", "auto"), namespace="fleet",
                     log_to_driver=False)
        client = Client()
        who = _identity(client)
        from fleet.services import Services  # the job is an entry point: roles apply

        inv = Services(client).invocations.invoke(who, name, payload, via="job",
                                                  ray_job_id=current_job_id(), wait=True)
    except FleetError as err:
        print(f"error: {err}", file=sys.stderr)
        return exit_code(err)
    print(json.dumps(inv.public(), indent=2, default=str))
    return 0 if inv.status.value == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

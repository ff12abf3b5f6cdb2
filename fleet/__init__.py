"""Fleet: a serverless-style ML function platform on Ray.

The public API:

    from fleet import function, invoke

    @function(cpus=1, timeout_s=600, retries=1)
    def train(req: TrainRequest) -> TrainResult: ...

    inv = invoke("train", {"epochs": 3})
"""

from fleet.artifacts.access import ReadLocation, WriteLocation
from fleet.errors import FleetError
from fleet.flavors.factories import model_factory
from fleet.runtime import Client, client, invoke
from fleet.runtime.context import Progress
from fleet.spec import FunctionSpec, function
from fleet.store import Invocation, Status

__all__ = ["Client", "FleetError", "FunctionSpec", "Invocation", "Progress", "ReadLocation",
           "Status", "WriteLocation", "client", "function", "invoke", "model_factory"]
__version__ = "0.1.0"

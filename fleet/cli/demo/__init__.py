"""`fleet demo`: the whole story, end to end, on the embedded defaults (story), in parts:
serving and rollouts, the knowledge base, drift; and the data it makes (data), which the
tests and benches use too."""

from fleet.cli.demo.common import DemoError
from fleet.cli.demo.data import CHECKS, make_data
from fleet.cli.demo.story import run

__all__ = ["CHECKS", "DemoError", "make_data", "run"]

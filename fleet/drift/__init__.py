"""Drift monitoring: statistics that compare a reference sample with a current one
(stats), and a comparison of two tables column by column with its verdicts (report)."""

from fleet.drift.report import ColumnDrift, DriftOptions, DriftResult, compare
from fleet.drift.stats import THRESHOLDS, Column, categorical, choose, drifted, numeric, psi, score

__all__ = ["THRESHOLDS", "Column", "ColumnDrift", "DriftOptions", "DriftResult", "categorical",
           "choose", "compare", "drifted", "numeric", "psi", "score"]

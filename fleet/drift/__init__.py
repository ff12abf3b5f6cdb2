"""Drift monitoring: statistics that compare a reference sample with a current one
(stats), a comparison of two tables column by column with its verdicts (report), the same
against a reference's statistics stored once (profile), where the data comes from
(sources) and the plots (plots).

The options live with the settings (fleet.config.drift) and are re-exported here; the rest
is imported lazily: it brings numpy and scipy, which a process that only reads settings
should not pay for."""

from fleet.config.drift import DriftConfig, DriftOptions

_LAZY = {"ColumnDrift": "report", "DriftResult": "report", "compare": "report",
         "THRESHOLDS": "stats", "Column": "stats", "categorical": "stats", "choose": "stats",
         "drifted": "stats", "numeric": "stats", "psi": "stats", "score": "stats",
         "Profile": "profile", "compare_profile": "profile"}

__all__ = ["DriftConfig", "DriftOptions", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"fleet.drift.{_LAZY[name]}"), name)
    raise AttributeError(name)

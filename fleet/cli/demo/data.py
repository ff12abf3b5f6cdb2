"""The demo's data: a churn table with a known signal, a copy with the flaws real exports
have, and the checks validate_data runs on them. The tests and benches train on it too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

CHECKS = {
    "required_columns": {"age": "int", "income": "float", "plan": "string", "churned": "int"},
    "max_null_ratio": 0.01,
    "ranges": {"age": {"min": 18, "max": 100}, "income": {"min": 0}},
    "allowed_values": {"plan": ["basic", "pro", "team"]},
    "max_duplicate_ratio": 0.01,
    "min_rows": 1000,
    "label_column": "churned",
    "min_class_ratio": 0.1,
}


def make_data(folder: Path, rows: int = 5000, seed: int = 7) -> tuple[Path, Path]:
    """A churn table with a known signal, and a copy with the flaws data really has."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    age = rng.integers(18, 90, rows)
    income = rng.gamma(4.0, 12_000.0, rows).round(2)
    plan = rng.choice(["basic", "pro", "team"], rows, p=[0.6, 0.3, 0.1])
    # A known signal: older, lower-income customers on the basic plan churn more.
    logit = -0.4 - 0.00005 * income + 0.08 * (age - 50) + np.where(plan == "basic", 0.8, -0.4)
    churned = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    good = pd.DataFrame({"age": age, "income": income, "plan": plan, "churned": churned})
    good_path = folder / "customers.parquet"
    good.to_parquet(good_path, index=False)
    bad = good.copy()
    bad.loc[bad.sample(frac=0.05, random_state=1).index, "income"] = None
    bad.loc[:9, "age"] = 240
    bad.loc[10:19, "plan"] = "enterprise"
    bad = pd.concat([bad, bad.head(300)])
    bad_path = folder / "customers_export.csv"
    bad.to_csv(bad_path, index=False)
    return good_path, bad_path

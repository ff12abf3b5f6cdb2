"""bench/drift: one drift check of 1e6 rows x 20 features (14 numeric, 6 categorical)
against a reference of 1e6 rows, end to end through fleet.drift.compare, beside the plain
scipy baseline on the same data in the same run (scipy.stats.wasserstein_distance,
scipy.spatial.distance.jensenshannon over pandas value counts and numpy histograms).
Goal: <= 2 s on 2 cores, and the same scores as the baseline.

    python -m bench.drift [--rows 1000000]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from bench.common import quiet, write_result

NUMERIC, CATEGORICAL = 14, 6


def tables(rows: int, seed: int = 1):
    import pandas as pd

    rng = np.random.default_rng(seed)

    def one(shift: float):
        data = {f"n{i}": rng.normal(i + (shift if i == 0 else 0), 1 + i / 10, rows)
                for i in range(NUMERIC)}
        for j in range(CATEGORICAL):
            levels = np.array([f"c{j}-{k}" for k in range(4 + j)])
            data[f"c{j}"] = levels[rng.integers(0, levels.size, rows)]
        return pd.DataFrame(data)

    return one(0.0), one(0.3)


def baseline(reference, current) -> dict[str, float]:
    """Plain scipy, column by column, the scores compare() reports at this size."""
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import wasserstein_distance

    out = {}
    for name in reference.columns:
        ref, cur = reference[name].to_numpy(), current[name].to_numpy()
        if name.startswith("n"):
            out[name] = wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)
        else:
            r = reference[name].value_counts()
            c = current[name].value_counts().reindex(r.index.union(current[name].unique()),
                                                     fill_value=0)
            r = r.reindex(c.index, fill_value=0)
            p, q = r.to_numpy() / len(ref), c.to_numpy() / len(cur)
            p[p == 0], q[q == 0] = 1e-4, 1e-4
            out[name] = jensenshannon(p / p.sum(), q / q.sum())
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    from fleet.drift import compare

    reference, current = tables(args.rows)
    columns = list(reference.columns)
    compare(reference.head(5000), current.head(5000), columns)  # imports, warm caches
    quiet()
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        result = compare(reference, current, columns)
        runs.append(time.perf_counter() - started)
    quiet()
    started = time.perf_counter()
    plain = baseline(reference, current)
    plain_s = time.perf_counter() - started
    ours = {c.column: c.score for c in result.columns}
    worst = max(abs(ours[k] - plain[k]) for k in plain)
    figures = {"rows": args.rows, "features": len(columns),
               "fleet_s": round(min(runs), 3), "fleet_runs_s": [round(r, 3) for r in runs],
               "scipy_baseline_s": round(plain_s, 3),
               "ratio_to_baseline": round(min(runs) / plain_s, 3),
               "max_abs_score_difference": worst, "drifted": result.drifted_columns,
               "goal_le_2s": min(runs) <= 2.0}
    print(figures)
    write_result("drift", figures)
    return 0 if worst < 1e-9 else 1


if __name__ == "__main__":
    sys.exit(main())

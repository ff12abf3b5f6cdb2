"""A drift report's pictures, as PNG bytes: reference against current for each drifted
column (histograms for numbers, category shares for categories), and a summary of every
column's PSI, drifted columns in red. Matplotlib's Agg backend: no display, no fonts to
fetch, safe in a Ray worker."""

from __future__ import annotations

import io

import numpy as np

REF, CUR, BAD, OK = "#4c72b0", "#dd8452", "#c44e52", "#8c8c8c"
MAX_CATEGORIES = 20


def _figure(width: float, height: float):
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def summary(title: str, columns: list[dict]) -> bytes:
    """One bar per column: its PSI, red where the column's own test said it drifted."""
    cols = sorted(columns, key=lambda c: c["psi"])
    fig = _figure(7, max(2.0, 0.35 * len(cols) + 1.2))
    ax = fig.add_subplot()
    labels = [f"{c['column']} ({c['method']} {c['score']:.3g})" for c in cols]
    ax.barh(labels, [c["psi"] for c in cols],
            color=[BAD if c["drifted"] else OK for c in cols])
    ax.axvline(0.2, color="black", linewidth=0.8, linestyle="--")  # PSI's usual "moved" line
    ax.set_xlabel("PSI (dashed: 0.2)")
    ax.set_title(title, fontsize=10)
    return _png(fig)


def column(name: str, kind: str, reference, current, verdict: str) -> bytes:
    """Reference against current for one column."""
    fig = _figure(6, 3.2)
    ax = fig.add_subplot()
    if kind == "numeric":
        r = np.asarray(reference, dtype="float64")
        c = np.asarray(current, dtype="float64")
        r, c = r[~np.isnan(r)], c[~np.isnan(c)]
        lo, hi = np.percentile(np.concatenate([r, c]), [0.5, 99.5])
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        bins = np.linspace(lo, hi, 41)
        ax.hist(r, bins=bins, density=True, alpha=0.55, color=REF, label="reference")
        ax.hist(c, bins=bins, density=True, alpha=0.55, color=CUR, label="current")
        ax.set_ylabel("density")
    else:
        import pandas as pd

        rs = pd.Series(reference).dropna().astype(str).value_counts(normalize=True)
        cs = pd.Series(current).dropna().astype(str).value_counts(normalize=True)
        cats = list((rs.add(cs, fill_value=0)).sort_values(ascending=False).index)
        cats = cats[:MAX_CATEGORIES]
        x = np.arange(len(cats))
        ax.bar(x - 0.2, [rs.get(k, 0.0) for k in cats], 0.4, color=REF, label="reference")
        ax.bar(x + 0.2, [cs.get(k, 0.0) for k in cats], 0.4, color=CUR, label="current")
        ax.set_xticks(x, cats, rotation=45 if len(cats) > 6 else 0, fontsize=8)
        ax.set_ylabel("share")
    ax.set_title(f"{name}: {verdict}", fontsize=10)
    ax.legend(fontsize=8)
    return _png(fig)

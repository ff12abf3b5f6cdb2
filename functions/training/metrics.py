"""Evaluation metrics in numpy (no extra dependency): what `evaluate` reports."""

from __future__ import annotations

import numpy as np


def accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean(y == pred))


def f1(y: np.ndarray, pred: np.ndarray, classes: list) -> float:
    """Binary F1 for the second class; macro F1 for more classes."""
    labels = [classes[1]] if len(classes) == 2 else classes
    scores = []
    for c in labels:
        tp = np.sum((pred == c) & (y == c))
        fp = np.sum((pred == c) & (y != c))
        fn = np.sum((pred != c) & (y == c))
        denom = 2 * tp + fp + fn
        scores.append(2 * tp / denom if denom else 0.0)
    return float(np.mean(scores))


def roc_auc(y_pos: np.ndarray, score: np.ndarray) -> float | None:
    """AUC as the Mann-Whitney statistic (ties counted half); None with one class only."""
    pos, neg = score[y_pos], score[~y_pos]
    if len(pos) == 0 or len(neg) == 0:
        return None
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    allv = np.concatenate([pos, neg])[order]
    i = 0
    while i < len(allv):  # average ranks over ties
        j = i
        while j + 1 < len(allv) and allv[j + 1] == allv[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    r_pos = ranks[:len(pos)].sum()
    return float((r_pos - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def rmse(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.sqrt(np.mean((y - pred) ** 2)))


def mae(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean(np.abs(y - pred)))


def disparity(groups: np.ndarray, outcome: np.ndarray) -> tuple[float, dict[str, float]]:
    """Largest gap between groups in the mean outcome (demographic parity difference for a
    0/1 outcome); also returns each group's mean."""
    means = {str(g): float(np.mean(outcome[groups == g])) for g in np.unique(groups)}
    return (max(means.values()) - min(means.values()) if means else 0.0), means

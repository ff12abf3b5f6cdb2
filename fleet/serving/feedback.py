"""Parsing the router's feedback bodies: a bandit's reward and/or the ground truth
(labels) for an answer, named by its signed request id. Pure: the router verifies the id,
the stores record what it carries."""

from __future__ import annotations

import math

from fleet import messages
from fleet.errors import InvalidInput
from fleet.http_edge import load_json

MAX_LABELS = 10_000  # labels in one feedback body (one per instance of the answer)


def parse_feedback(body: bytes) -> tuple[str, float | None, dict[int, object] | None]:
    """(request_id, reward, labels by instance index) from a feedback body; ValueError
    with the message a caller sees. Labels are numbers, strings or booleans: one per
    instance ("labels", null for an instance without one) or "label" for one instance."""
    try:
        data = load_json(body or b"{}")
        rid = data["request_id"]
        if not isinstance(rid, str) or not rid:
            raise TypeError
    except (InvalidInput, KeyError, TypeError, AttributeError):
        raise ValueError(messages.FEEDBACK_INVALID) from None
    reward = data.get("reward")
    if reward is not None:
        if isinstance(reward, bool) or not isinstance(reward, (int, float)) \
                or not 0 <= reward <= 1:
            raise ValueError(messages.FEEDBACK_INVALID)
        reward = float(reward)
    labels = None
    if "label" in data and "labels" in data:
        raise ValueError(messages.FEEDBACK_LABELS_INVALID)
    if "label" in data:
        labels = {0: data["label"]}
    elif "labels" in data:
        if not isinstance(data["labels"], list) or not data["labels"] \
                or len(data["labels"]) > MAX_LABELS:
            raise ValueError(messages.FEEDBACK_LABELS_INVALID)
        labels = {i: v for i, v in enumerate(data["labels"]) if v is not None}
    if labels is not None and (not labels or not all(
            isinstance(v, (int, float, str, bool)) and (not isinstance(v, str) or len(v) <= 200)
            and (not isinstance(v, float) or math.isfinite(v)) for v in labels.values())):
        raise ValueError(messages.FEEDBACK_LABELS_INVALID)
    if reward is None and labels is None:
        raise ValueError(messages.FEEDBACK_INVALID)
    return rid, reward, labels


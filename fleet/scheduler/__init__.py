"""Schedules: cron or '@every' cadences, each slot run once as an invocation."""

from fleet.cadence import Cadence, parse_schedule

__all__ = ["Cadence", "parse_schedule"]

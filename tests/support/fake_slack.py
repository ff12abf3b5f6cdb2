"""The Slack Web API stand-in the tests use: the bot's own (bot.standin)."""

from bot.standin import LocalSlack as FakeSlack

__all__ = ["FakeSlack"]

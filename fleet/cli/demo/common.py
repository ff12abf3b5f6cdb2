"""What every part of the demo shares: its console, its numbered steps, its error, the
second person who approves, and where the bot's console session writes."""

from __future__ import annotations

from importlib.metadata import entry_points

from rich.console import Console
from rich.text import Text

from fleet.identity import Identity, expand
from fleet.services import Services

console = Console()
APPROVER = "approver"
APPROVER_NAME = "demo-approver"  # the second person, who approves
DEPLOYER = "deployer"
DEPLOYER_NAME = "demo-deployer"  # who asks for a retrain from Slack (a role, not admin)
# Who the demo's own steps act as in the audit log (an admin on this machine, like the CLI's
# local-admin); what a person does in the story goes through the gateway with a token.
DEMO = Identity("demo", expand(["admin"]))


def svc(client) -> Services:
    """The installation's services over the demo's client (building them opens nothing)."""
    return Services(client)


def person_token(client, name: str, role: str) -> str:
    """A person with `role`, in the store's token table (hashed). Its token is shown only
    once, so each demo run revokes the last one and adds a fresh one."""
    from fleet.errors import NotFound

    try:
        svc(client).tokens.revoke(DEMO, name)
    except NotFound:
        pass
    # returns once every gateway knows it
    token, _ = svc(client).tokens.add(DEMO, name, scopes=["read", "invoke"], roles=[role])
    console.print(f"  added identity '{name}' (role {role}); `fleet tokens` lists it")
    return token


class DemoError(RuntimeError):
    """A step did not end as the story needs; `run` prints it and exits 1."""


def bot_session(*args, **kwargs):
    """The Slack bot's console session (`fleet bot console`, scripted). The bot registers
    it as the `fleet.bot` entry point `console`: the core never imports the bot."""
    found = [ep for ep in entry_points(group="fleet.bot") if ep.name == "console"]
    if not found:
        raise DemoError("The Slack bot is not installed (no `fleet.bot` entry point named "
                        "console): `pip install -e .` from the checkout installs it.")
    return found[0].load()(*args, **kwargs)


def step(n: int, title: str) -> None:
    console.rule(f"[bold]{n}. {title}")


class Transcript:
    """Where the console session writes: each line indented, printed as plain text."""

    def write(self, text: str) -> None:
        for line in text.rstrip("\n").splitlines():
            console.print(Text("  " + line))

    def flush(self) -> None:
        pass

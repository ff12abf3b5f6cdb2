"""Every user-facing sentence Fleet prints or returns, in one place (the Slack bot's own are
in bot/messages.py).

Keeping the text here (the bolt-python way) means the CLI, the HTTP gateway and the bot say
the same thing for the same situation, and wording is reviewed in one package: callers use
`from fleet import messages` and `messages.NAME`, whichever file below holds it. Each entry is
a format string; callers fill it with keyword arguments only.
"""

from fleet.messages.invocations import *  # noqa: F401,F403
from fleet.messages.platform import *  # noqa: F401,F403
from fleet.messages.serving import *  # noqa: F401,F403

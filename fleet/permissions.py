"""May this identity do VERB to RESOURCE? One answer for every service (fleet.config.roles
says what the roles grant). The admin scope may do everything; otherwise one of the
identity's roles must grant the verb on a pattern that matches the resource. A refusal
names the verb, the resource and the roles that would allow it, so the person knows whom to
ask and for what."""

from __future__ import annotations

from fnmatch import fnmatchcase

from fleet import messages
from fleet.config import Settings
from fleet.errors import Forbidden
from fleet.identity import Identity


def granting(settings: Settings, verb: str, resource: str) -> list[str]:
    """The roles that grant `verb` on `resource`."""
    return sorted(name for name, grants in settings.resolved_roles.items()
                  if any(verb in g.verbs and any(fnmatchcase(resource, p) for p in g.resources)
                         for g in grants))


def allows(settings: Settings, who: Identity, verb: str, resource: str) -> bool:
    if "admin" in who.scopes:
        return True
    return bool(set(granting(settings, verb, resource)) & set(who.roles))


def require(settings: Settings, who: Identity, verb: str, resource: str) -> Identity:
    """`who`, when allowed; else Forbidden naming what would allow it."""
    if not allows(settings, who, verb, resource):
        roles = granting(settings, verb, resource)
        raise Forbidden(messages.PERMISSION_NEEDED.format(
            who=who.name, verb=verb, resource=resource,
            roles=" or ".join(f"'{r}'" for r in roles) or "no role (ask an admin to add one)"))
    return who


__all__ = ["allows", "granting", "require"]

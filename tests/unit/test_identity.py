"""Identities: hashed tokens in the store, revocation, and acting on behalf of a person."""

from __future__ import annotations

import pytest

from fleet.config import load_settings
from fleet.errors import Conflict, Forbidden, NotFound, Unauthorized
from fleet.identity import Identities, local_admin
from fleet.store import Store, token_hash

BOT = "bot-token-0123456789abcdef"


@pytest.fixture
def settings(tmp_path):
    (tmp_path / "fleet.yaml").write_text(
        "tokens:\n"
        f"  - {{name: slack-bot, token_sha256: {token_hash(BOT)}, scopes: [read, invoke, "
        "act_as], roles: [approver]}\n")
    return load_settings(tmp_path)


@pytest.fixture
def store(store_url):
    s = Store(store_url)
    yield s
    s.close()


def test_a_token_is_shown_once_and_stored_only_as_its_hash(store, settings):
    raw, rec = store.tokens.add(name="bob", scopes=["invoke"], roles=["approver"], actor="ann")
    with store.engines.read.connect() as conn:
        dump = str([tuple(r) for r in conn.exec_driver_sql("SELECT * FROM tokens")])
    assert raw not in dump and token_hash(raw) in dump
    assert "sha256" not in rec.public()
    who = Identities(settings, store).identify(raw)
    assert who.name == "bob" and "invoke" in who.scopes and "admin" not in who.scopes
    assert who.roles == {"approver"}
    with pytest.raises(Conflict, match="already has an active token"):
        store.tokens.add(name="bob", scopes=["read"], roles=[], actor="ann")


def test_a_revoked_token_is_refused_at_the_next_refresh(store, settings):
    raw, _ = store.tokens.add(name="bob", scopes=["invoke"], roles=[], actor="ann")
    ids = Identities(settings, store)
    assert ids.identify(raw).name == "bob"
    store.tokens.revoke("bob", actor="ann")
    ids.refresh()  # a gateway does this every REFRESH_S; `fleet tokens revoke` waits for it
    with pytest.raises(Unauthorized):
        ids.identify(raw)
    assert [a["action"] for a in store.audit_entries(target="identity:bob")] == [
        "token.revoke", "token.add"]


def test_an_expired_job_token_is_refused(store, settings):
    raw, _ = store.tokens.add(name="bob", scopes=["invoke"], roles=[], actor="bob",
                              kind="job", ttl_s=-1)
    with pytest.raises(Unauthorized):
        Identities(settings, store).identify(raw)


def test_a_client_acts_for_a_known_person_with_the_persons_roles_only(store, settings):
    store.tokens.add(name="dee", scopes=["admin"], roles=[], actor="ann")
    store.tokens.add(name="bob", scopes=["invoke"], roles=["approver"], actor="ann")
    ids = Identities(settings, store)
    bot = ids.identify(BOT)
    dee = ids.act_as(bot, "dee")
    assert dee.name == "dee" and dee.on_behalf_of == "slack-bot"
    assert dee.roles == frozenset()  # not the bot's approver role
    assert "admin" not in dee.scopes and "act_as" not in dee.scopes  # capped by the bot's
    assert ids.act_as(bot, "bob").roles == {"approver"}
    with pytest.raises(Forbidden, match="not a Fleet identity"):
        ids.act_as(bot, "mallory")
    with pytest.raises(Forbidden, match="act_as"):  # a token without act_as cannot
        ids.act_as(local_admin(), "bob")


def test_a_token_rotates_with_a_second_one_then_the_old_is_revoked_by_id(store, settings):
    """docs/operations.md's rotation, as the code allows it: a second token for the same
    person, with the person's scopes and roles whatever was asked; a third is refused
    while two are active; revoking the old one by id leaves the new one working."""
    old, first = store.tokens.add(name="bob", scopes=["invoke"], roles=["approver"],
                                  actor="ann")
    new, second = store.tokens.add(name="bob", scopes=["admin"], roles=[], actor="ann",
                                   rotate=True)
    assert (second.scopes, second.roles) == (["invoke"], ["approver"])
    ids = Identities(settings, store)
    assert ids.identify(old).name == ids.identify(new).name == "bob"
    assert ids.identify(new).roles == {"approver"} and "admin" not in ids.identify(new).scopes
    with pytest.raises(Conflict, match="already being rotated"):
        store.tokens.add(name="bob", scopes=["invoke"], roles=[], actor="ann", rotate=True)
    store.tokens.revoke(first.id, actor="ann")
    ids.refresh()
    with pytest.raises(Unauthorized):
        ids.identify(old)
    assert ids.identify(new).name == "bob"
    with pytest.raises(NotFound, match="no active token to rotate"):
        store.tokens.add(name="carol", scopes=["read"], roles=[], actor="ann", rotate=True)


def test_ten_thousand_tokens_are_found_by_hash_and_a_near_miss_is_refused(tmp_path):
    """Authentication looks a token up by its hash (its cost does not grow with the
    number of tokens: bench figures in the closing note of issue 28)."""
    from fleet.store import Store

    (tmp_path / "fleet.yaml").write_text(f"store_url: sqlite:///{tmp_path}/t.db\n")
    settings = load_settings(tmp_path)
    store = Store(settings.resolved_store_url)
    raws = [store.tokens.add(name=f"u{i}", scopes=["read"], roles=[], actor="ann")[0]
            for i in range(0, 10_000, 1000)]
    with store.engines.write.begin() as conn:  # the rest in one go: add() is one per call
        conn.exec_driver_sql(
            "INSERT INTO tokens (id, name, sha256, scopes, roles, kind, created_at, "
            "created_by) VALUES (?, ?, ?, '[\"read\"]', '[]', 'person', 0, 'ann')",
            [(f"tok_x{i}", f"x{i}", f"{i:064x}") for i in range(1, 9991)])
    ids = Identities(settings, store)
    assert len(store.tokens.active()) == 10_000
    assert [ids.identify(r).name for r in raws] == [f"u{i}" for i in range(0, 10_000, 1000)]
    with pytest.raises(Unauthorized):
        ids.identify(raws[0][:-1] + ("0" if raws[0][-1] != "0" else "1"))

"""``oaken keys create|list|revoke`` as a user runs them (docs/operations.md, "API keys")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from oaken.keys.store import PREFIX, hash_key


def oaken(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "oaken", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_create_list_rotate_and_revoke(database_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAKEN_")}
    env.update({"OAKEN_HOME": str(tmp_path), "OAKEN_DATABASE_URL": database_url})
    first = oaken(env, "keys", "create", "shop")
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()  # the key alone on stdout, once
    assert key.startswith(PREFIX) and len(key) == len(PREFIX) + 43
    second = oaken(env, "keys", "create", "shop")
    assert "now holds two keys" in second.stderr
    third = oaken(env, "keys", "create", "shop")
    assert third.returncode == 1 and third.stdout == ""
    assert third.stderr.strip().splitlines() == [
        "error: shop already holds 2 keys: revoke one first (oaken keys list, then oaken "
        "keys revoke shop --key-id ID)"]
    bad = oaken(env, "keys", "create", "replay:x")
    assert bad.returncode == 1 and "key name 'replay:x'" in bad.stderr

    listed = oaken(env, "keys", "list", "--json")
    keys = json.loads(listed.stdout)
    assert [k["name"] for k in keys] == ["shop", "shop"]
    assert all(k["last_used_at"] is None and k["revoked_at"] is None for k in keys)
    table = oaken(env, "keys", "list")
    for output in (listed, table):
        assert key not in output.stdout + output.stderr
        assert hash_key(key) not in output.stdout + output.stderr

    old = keys[0]["key_id"]
    rotated = oaken(env, "keys", "revoke", "shop", "--key-id", old)
    assert rotated.returncode == 0 and f"revoked {old} of shop" in rotated.stderr
    left = json.loads(oaken(env, "keys", "list", "--json").stdout)
    assert [k["key_id"] for k in left] == [keys[1]["key_id"]]
    every = json.loads(oaken(env, "keys", "list", "--json", "--revoked").stdout)
    assert [k["revoked_at"] is not None for k in every] == [True, False]
    assert oaken(env, "keys", "revoke", "shop").returncode == 0
    nothing = oaken(env, "keys", "revoke", "shop")
    assert nothing.returncode == 1
    assert nothing.stderr.strip() == ("error: no active key named 'shop' (oaken keys list "
                                      "shows them)")

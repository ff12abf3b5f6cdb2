"""Worker-port blocks: a local worker node never gets a block that the head (or another
node) chose but has not bound yet; two nodes sharing one would fight over ports later."""

from __future__ import annotations

from pathlib import Path

from fleet.ports import free_block
from fleet.worker_nodes import node_ports


def overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def test_a_block_avoids_the_ranges_already_chosen():
    home = Path("/srv/fleet-home")
    first = free_block(home, 200)
    again = free_block(home, 200)
    assert again == first  # the same home starts at the same block: stable across restarts
    other = free_block(home, 200, avoid=(first,))
    assert not overlap(first, other)
    wide = free_block(home, 400, avoid=(first, other))
    assert not overlap(wide, first) and not overlap(wide, other)


def test_worker_nodes_get_distinct_ports_outside_the_heads_block(tmp_path):
    from fleet.config import load_settings

    settings = load_settings(tmp_path)
    head = free_block(settings.home / "worker-1", 200)  # the block worker 1 would take
    ports = node_ports(settings, 1, taken=(head,))
    block = (ports["min-worker-port"], ports["max-worker-port"])
    assert not overlap(block, head)
    singles = [p for k, p in ports.items() if not k.endswith("worker-port")]
    assert len(set(singles)) == len(singles)

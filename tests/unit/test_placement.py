"""Which resource asks no node can ever meet, and what the refusal says."""

from fleet.runtime.placement import unschedulable

CPU_NODE = {"CPU": 2.0, "memory": 8 * 1024**3}
GPU_NODE = {"CPU": 8.0, "GPU": 1.0, "memory": 32 * 1024**3}


def test_a_gpu_on_a_cpu_cluster_is_refused_naming_both_sides():
    why = unschedulable({"CPU": 0.1, "GPU": 1.0}, [CPU_NODE])
    assert "0.1 CPU, 1 GPU" in why and "largest node has 2 CPU, 0 GPU" in why


def test_some_node_with_everything_is_enough():
    assert unschedulable({"CPU": 4.0, "GPU": 1.0}, [CPU_NODE, GPU_NODE]) is None


def test_resources_split_across_nodes_do_not_add_up():
    # 2 CPUs here and 1 GPU there is not one node with 4 CPUs and a GPU... unless one has both
    assert unschedulable({"CPU": 9.0, "GPU": 1.0}, [CPU_NODE, GPU_NODE]) is not None


def test_busy_is_not_impossible_and_no_nodes_gives_no_verdict():
    assert unschedulable({"CPU": 2.0}, [CPU_NODE]) is None  # busy now, frees up later
    assert unschedulable({"CPU": 64.0}, []) is None


def test_memory_is_named_in_mib():
    why = unschedulable({"memory": 16 * 1024**3}, [CPU_NODE])
    assert "16,384 MiB memory" in why and "8,192 MiB memory" in why

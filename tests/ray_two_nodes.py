"""A Ray cluster of two nodes, as a lab builds one, played through the run registry; run by tests/test_ray_nodes.py
in a process of its own (Ray reads its address and token settings when imported), it prints what happened as JSON.

A head that trains nothing (0 CPUs, like the README's ``ray start --head --num-cpus 0``) and one worker node of 1 CPU,
each its own raylet and object store on this machine (Ray's ``cluster_utils.Cluster``, what Ray's own tests use for
many nodes on one host), on loopback, with the token in the environment. Ada's run trains on the worker node and its
model comes home; Bo's node leaves the cluster mid-run and the run fails with a sentence. (That the next Start then
trains on another worker, tests/test_ray_runs.py shows.)

Usage: python tests/ray_two_nodes.py MODELS_FOLDER
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

from cnnlib.training.cluster import job_runtime_env  # noqa: E402 - first: keeps Ray's token auth on
import ray  # noqa: E402
from ray._common.utils import get_default_ray_temp_dir, reset_ray_address  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402

from cnnlib.training import runs  # noqa: E402
from cnnlib.training.runs import RunRegistry, submit_for  # noqa: E402
from test_ray_runs import finished, kept, learner, tiny, wait_for  # noqa: E402

NODE = {"num_cpus": 1, "node_ip_address": "127.0.0.1"}


def afternoon(cluster: Cluster, node, folder: Path) -> dict:
    """Ada trains; Bo's node leaves mid-run: what each saw, as plain values."""
    os.environ[runs.RAY_ADDRESS_ENV] = cluster.address
    registry = RunRegistry()
    runs.server_registry = lambda: registry
    ada, bo = learner(folder), learner(folder)
    try:
        trained = finished(submit_for(ada, tiny(ada)))
        cpus = ray.cluster_resources().get("CPU")
        lost = submit_for(bo, tiny(bo, epochs=50))
        wait_for(lost, lambda progress: progress.batches_done >= 2)
        cluster.remove_node(node)
        lost = finished(lost)
    finally:
        registry.shutdown()
    return {"cpus": cpus, "trained": [trained.state, kept(ada, trained)],
            "lost": [lost.state, lost.ending, lost.refusal_key, bool(lost.model_name)]}


def main() -> None:
    """Start the two nodes, play the afternoon, print it, remove every node and the address Ray noted."""
    Path(get_default_ray_temp_dir()).mkdir(parents=True, exist_ok=True)  # Cluster notes its address there
    cluster = Cluster(initialize_head=True, head_node_args={**NODE, "num_cpus": 0, "include_dashboard": False})
    try:
        node = cluster.add_node(**NODE)
        ray.init(address=cluster.address, runtime_env=job_runtime_env(), log_to_driver=False)
        print(json.dumps(afternoon(cluster, node, Path(sys.argv[1]))), flush=True)
    finally:
        ray.shutdown()
        cluster.shutdown()
        reset_ray_address()


if __name__ == "__main__":
    main()

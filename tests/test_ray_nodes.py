"""Trainings on a Ray cluster of two nodes (a head that trains nothing and a worker node that joined it): a learner's
run trains on the worker node and its model comes home through Ray's object store; a node that leaves the cluster
mid-run fails its run with a sentence and keeps nothing. Played by
tests/ray_two_nodes.py in a process of its own, with the token and loopback settings Ray reads when imported.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

from conftest import ROOT


def test_a_run_trains_on_the_worker_node_and_a_node_that_leaves_fails_its_run_with_a_sentence(tmp_path):
    environment = {**os.environ, "RAY_AUTH_TOKEN": secrets.token_hex(32), "RAY_AUTH_MODE": "token",
                   "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "TF_CPP_MIN_LOG_LEVEL": "2"}
    played = subprocess.run([sys.executable, "tests/ray_two_nodes.py", str(tmp_path)], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=400)
    assert played.returncode == 0, played.stderr[-2000:]
    seen = json.loads(played.stdout.splitlines()[-1])
    assert seen["cpus"] == 1  # the head has none: every training ran on the worker node
    assert seen["trained"] == ["done", True]  # its model, card and snapshots came home to Ada's workspace
    assert seen["lost"] == ["failed", "trainer_error", "train.ray.worker_lost", False]

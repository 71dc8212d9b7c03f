"""A class presses Start together: N learners' trainings through the app's run registry, on local trainer
processes or on a Ray cluster, each run's wait and training time, the makespan, and the web server's CPU meanwhile.

The registry runs in this process as it runs in the web server, so this process's own CPU time (its children and
Ray's workers not counted) is what the web server spends while the class trains. Local: at most
``CNN_EXPLORER_MAX_TRAININGS`` (default 1) trainer processes at once, on the web server's machine. Ray: every run an
actor on the cluster at ``CNN_EXPLORER_RAY_ADDRESS``, or with ``--ray`` on a Ray started here first with all this
machine's cores (``cnnlib.training.cluster.cluster_in_this_process``; one machine, and the report says so). From the
measured time per run on a worker (the makespan over its rounds of runs at once) it estimates the makespan for K
worker machines of this machine's size: ceil(N / (K x runs at once per machine)) x that time.

Usage: python bench/class_trainings.py [--learners 10] [--epochs 1] [--train-limit 1000] [--ray] [--machines 1 2 5]
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnnlib.training.config import DEFAULT_PRESET, PRESETS, TrainConfig  # noqa: E402
from cnnlib.training.runs import RAY_ADDRESS_ENV, RunRegistry  # noqa: E402

POLL_S = 0.2


def server_cpu_s() -> float:
    """CPU seconds this process (the web server's part) has used, children not counted."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def class_config(epochs: int, train_limit: int) -> TrainConfig:
    """The default recipe, shortened, on the offline subset: what each learner starts."""
    return TrainConfig(hp=replace(PRESETS[DEFAULT_PRESET], epochs=epochs), data_source="offline",
                       train_limit=train_limit)


def followed(runs: list, started: float) -> list[tuple[float, float, str]]:
    """Poll every run until all have ended: per run, its wait (Start to its first batch's cost, what a learner sees
    as waiting: the queue, a free worker, TensorFlow's start), its training time (from there to the end), its state."""
    began, ended = {}, {}
    while len(ended) < len(runs):
        now = time.monotonic() - started
        for number, run in enumerate(runs):
            progress = run.snapshot()
            if len(progress.batch_costs) and number not in began:
                began[number] = now
            if progress.finished and number not in ended:
                ended[number] = (now, progress.state)
        time.sleep(POLL_S)
    return [(began.get(n, ended[n][0]), ended[n][0] - began.get(n, ended[n][0]), ended[n][1]) for n in range(len(runs))]


def press_start(learners: int, config: TrainConfig, folder: Path) -> tuple[list, float, float]:
    """Every learner presses Start within a second; per-run results, the makespan, the server's CPU seconds."""
    os.environ["CNN_EXPLORER_MODELS_DIR"] = str(folder)
    registry = RunRegistry()
    cpu, started = server_cpu_s(), time.monotonic()
    runs = []
    for learner in range(learners):
        runs.append(registry.submit(replace(config, model_name=f"learner-{learner}"), f"learner-{learner}"))
        time.sleep(1.0 / learners)
    results = followed(runs, started)
    makespan, cpu = time.monotonic() - started, server_cpu_s() - cpu
    registry.shutdown()
    return results, makespan, cpu


def report(where: str, results: list, makespan: float, cpu: float, parallel: int, machines: list[int]) -> None:
    """Each run's wait and training time, the makespan, the server's CPU, and estimates for K machines."""
    print(f"\n{where}: {len(results)} learners, {parallel} run(s) at once per machine")
    for number, (wait, training, state) in enumerate(results):
        print(f"  learner {number:2d}: waited {wait:6.1f} s, trained {training:6.1f} s, {state}")
    median = statistics.median(training for _, training, _ in results)
    per_round = makespan / math.ceil(len(results) / parallel)  # one run on a worker, its start included
    print(f"  makespan {makespan:.1f} s; web server CPU {cpu:.1f} s ({100 * cpu / makespan:.0f}% of one core); "
          f"median training after the first cost {median:.1f} s; {per_round:.1f} s per run on a worker, start included")
    for count in machines:
        estimate = math.ceil(len(results) / (count * parallel)) * per_round
        print(f"  estimated makespan on {count} worker machine(s) like this one: {estimate:.0f} s")


def trained_on_ray(here: bool):
    """Where the runs go on Ray (a cluster started in this process when ``here``), and runs at once per machine."""
    cpus_per_run = int(os.environ.get("CNN_EXPLORER_RAY_CPUS", "1"))
    if not here:
        return contextlib.nullcontext(), max(1, (os.cpu_count() or 1) // cpus_per_run)
    from cnnlib.training.cluster import cluster_in_this_process

    os.environ[RAY_ADDRESS_ENV] = "auto"  # joins the cluster this process runs
    return cluster_in_this_process(os.cpu_count() or 1), max(1, (os.cpu_count() or 1) // cpus_per_run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--train-limit", type=int, default=1000)
    parser.add_argument("--ray", action="store_true", help="train on a Ray head started here (this machine only)")
    parser.add_argument("--machines", type=int, nargs="+", default=[1, 2, 5])
    args = parser.parse_args()
    config = class_config(args.epochs, args.train_limit)
    with tempfile.TemporaryDirectory(prefix="class_trainings_") as folder:
        if args.ray or os.environ.get(RAY_ADDRESS_ENV):
            where, parallel = trained_on_ray(args.ray)
            with where:
                results, makespan, cpu = press_start(args.learners, config, Path(folder))
            name = "Ray, one machine (this one)" if args.ray else f"Ray at {os.environ[RAY_ADDRESS_ENV]}"
        else:
            results, makespan, cpu = press_start(args.learners, config, Path(folder))
            parallel, name = int(os.environ.get("CNN_EXPLORER_MAX_TRAININGS", "1")), "local trainer processes"
        report(name, results, makespan, cpu, parallel, args.machines)


if __name__ == "__main__":
    main()

"""Trainings on a Ray cluster: each run one actor (``cnnlib.training.worker.TrainerActor``) that looks to the run like
the child process it follows otherwise (``cnnlib.training.remote_run``). Imported only when
``CNN_EXPLORER_RAY_ADDRESS`` is set (``cnnlib.training.runs.default_launcher``).

    launcher = RayLauncher("auto")      # or "HOST:PORT", "ray://HOST:10001"
    trainer = launcher.take()           # the actor kept ready, or a new one that Ray places when a worker is free
    launcher.worker_place(trainer)      # while it waits: the runs ahead of it, the cluster's free and total CPUs

Each actor asks for ``CNN_EXPLORER_RAY_CPUS`` CPUs (default 1) and gets as many TensorFlow and OpenMP threads, set
in its environment before TensorFlow starts; it runs this server's own ``cnnlib`` (sent as a Ray ``py_modules``
package), so a worker needs only the requirements. The actor kept ready has imported TensorFlow and traced the
default run's network, as the child process kept ready does. The driver keeps Ray's token authentication on
(``RAY_AUTH_MODE=token`` unless set otherwise): the token is ``RAY_AUTH_TOKEN``, the file at ``RAY_AUTH_TOKEN_PATH``
or ``~/.ray/auth_token``, the same on the head, the workers and this server.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import tempfile
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

AUTH_MODE_ENV = "RAY_AUTH_MODE"  # Ray's own variable; "token": the driver sends the cluster's token
os.environ.setdefault(AUTH_MODE_ENV, "token")  # before Ray is imported: it reads its settings then

import ray  # noqa: E402 - after its settings
from ray.exceptions import RayError  # noqa: E402

from cnnlib.mnist.data import NPZ_ENV, SOURCE_ENV  # noqa: E402
from cnnlib.store.files import without_folders  # noqa: E402
from cnnlib.training.config import TrainConfig  # noqa: E402
from cnnlib.training.launcher import WorkerPlace, trainer_environment  # noqa: E402
from cnnlib.training.remote_run import ActorProcess, ActorTrainer, handed_over  # noqa: E402
from cnnlib.training.trainer import INTRA_OP_THREADS_ENV  # noqa: E402
from cnnlib.training.worker import TrainerActor  # noqa: E402

RAY_CPUS_ENV = "CNN_EXPLORER_RAY_CPUS"
CNNLIB_DIR = Path(__file__).resolve().parents[1]
CPUS_READ_EVERY_S = 1.0  # pages ask for the cluster's CPUs on every refresh; Ray is asked at most this often
ACTOR_THREADS = 4  # training runs in a thread of its own; events, Stop, results and ping are served beside it
CONNECT_TIMEOUT_S = 20.0  # a Start that finds no cluster says so after this (joining goes on in the background)

RemoteTrainer = ray.remote(TrainerActor)
_connecting = threading.Lock()
_joining: Joining | None = None  # this process's latest attempt to join


def cpus_per_run() -> int:
    """CPUs each run's actor asks for (``CNN_EXPLORER_RAY_CPUS``, default 1), its threads to match."""
    return max(1, int(os.environ.get(RAY_CPUS_ENV, "1")))


def actor_options() -> dict:
    """How a trainer actor runs: its CPUs, as many threads (set before TensorFlow starts), none of this server's data
    settings, threads to answer while it trains."""
    threads = str(cpus_per_run())
    env_vars = {"OMP_NUM_THREADS": threads, INTRA_OP_THREADS_ENV: threads, "TF_NUM_INTEROP_THREADS": threads,
                "TF_CPP_MIN_LOG_LEVEL": "2", SOURCE_ENV: "", NPZ_ENV: ""}
    return {"num_cpus": cpus_per_run(), "max_concurrency": ACTOR_THREADS, "runtime_env": {"env_vars": env_vars}}


def job_runtime_env() -> dict:
    """What every actor of this server gets: this server's ``cnnlib``, uploaded to the cluster when it joins."""
    return {"py_modules": [str(CNNLIB_DIR)], "excludes": ["__pycache__"]}


class Joining:
    """One attempt to join the cluster as its driver, in a thread of its own: Ray keeps trying a cluster that does not
    answer for minutes, and a Start waits for it only ``CONNECT_TIMEOUT_S``."""

    def __init__(self, address: str) -> None:
        self.done, self.error = threading.Event(), None
        threading.Thread(target=self._join, args=(address,), name="train-ray-join", daemon=True).start()

    def _join(self, address: str) -> None:
        """``ray.init`` with this server's ``cnnlib`` for every actor; a refusal is kept as a ConnectionError."""
        try:
            ray.init(address=address, runtime_env=job_runtime_env(), logging_level=logging.WARNING,
                     log_to_driver=False)
        except (RayError, OSError, RuntimeError) as error:  # AuthenticationError: no token here, or not the cluster's
            self.error = ConnectionError(without_folders(str(error).splitlines()[0] if str(error) else repr(error)))
        finally:
            self.done.set()


def connect(address: str) -> None:
    """Join the Ray cluster at ``address`` (once per process; one that joined already stays joined); ConnectionError
    (an OSError) when it does not answer within ``CONNECT_TIMEOUT_S`` or refuses, the next call tries again."""
    global _joining
    with _connecting:
        if ray.is_initialized():
            return
        if _joining is None or _joining.error is not None:
            _joining = Joining(address)
        joining = _joining
    if not joining.done.wait(CONNECT_TIMEOUT_S):
        raise ConnectionError(f"the Ray cluster did not answer within {CONNECT_TIMEOUT_S:.0f} s")
    if joining.error is not None:
        raise joining.error


def new_trainer(ready: TrainConfig | None = None) -> ActorTrainer:
    """A new trainer actor, made ready for ``ready``'s run (with its data) when given; Ray places it when it can."""
    environment, arguments = trainer_environment(), () if ready is None else handed_over(ready)
    return ActorTrainer(ActorProcess(RemoteTrainer.options(**actor_options()).remote(*arguments)), environment)


class RayLauncher:
    """Hands out trainer actors on the Ray cluster at ``address``, one made ready ahead of time once asked to (as
    ``Launcher`` keeps a child process ready); says where a run waits for a worker."""

    trainings_at_once = sys.maxsize  # Ray decides: every run is handed over at once and waits there for a worker

    def __init__(self, address: str) -> None:
        self.address = address
        self._spare: ActorTrainer | None = None
        self._starting = False  # a spare is being made, in the background
        self._generation = 0  # counts close(): a spare made before a close is not kept after it
        self._waiting: list[ActorTrainer] = []  # handed out and not yet placed, oldest first
        self._cpus = (-CPUS_READ_EVERY_S, 0.0, 0.0)  # when read, free CPUs, all CPUs
        self._lock = threading.Lock()

    def take(self) -> ActorTrainer:
        """The actor kept ready if it is alive and saw the environment as it is now, else a new one (a stale one is
        ended); ConnectionError when the cluster cannot be reached."""
        connect(self.address)
        with self._lock:
            trainer, self._spare = self._spare, None
        if trainer is None or trainer.environment != trainer_environment() or not trainer.alive():
            if trainer is not None:
                trainer.end()
            trainer = new_trainer()
        with self._lock:
            self._waiting = [*self._still_waiting(), trainer]
        return trainer

    def _still_waiting(self) -> list[ActorTrainer]:
        """Under the lock: the trainers handed out that have no worker yet (and did not end), oldest first."""
        return [other for other in self._waiting if not other.process.placed and other.process.returncode is None]

    def keep_one_ready(self) -> None:
        """Make an actor ready ahead of time unless one is (or is being made), in the background: a page never waits
        for the cluster."""
        with self._lock:
            if self._starting or self._spare is not None:
                return
            self._starting, generation = True, self._generation
        threading.Thread(target=self._make_spare, args=(generation,), name="train-ray-spare", daemon=True).start()

    def _make_spare(self, generation: int) -> None:
        """Make the actor kept ready for the default run; keep it unless closed meanwhile."""
        fresh = None
        try:
            connect(self.address)
            fresh = new_trainer(ready=TrainConfig())
        except (OSError, RayError):  # no cluster now: the next Start connects itself and says why it cannot
            pass
        finally:
            with self._lock:
                self._starting = False
                kept = fresh is not None and generation == self._generation
                if kept:
                    self._spare = fresh
        if fresh is not None and not kept:
            fresh.end()

    def waiting_count(self) -> int:
        """How many runs handed out wait for a worker (no Ray call: what the runs' own followers saw)."""
        with self._lock:
            self._waiting = self._still_waiting()
            return len(self._waiting)

    def worker_place(self, trainer: ActorTrainer) -> WorkerPlace | None:
        """Where ``trainer``'s run waits for a worker: the runs handed out before it still waiting, the cluster's
        CPUs; None once it has a worker (or ended)."""
        with self._lock:
            self._waiting = self._still_waiting()
            if trainer not in self._waiting:
                return None
            ahead = self._waiting.index(trainer)
        if time.monotonic() - self._cpus[0] >= CPUS_READ_EVERY_S:
            self._cpus = (time.monotonic(), ray.available_resources().get("CPU", 0.0),
                          ray.cluster_resources().get("CPU", 0.0))
        return WorkerPlace(ahead, self._cpus[1], self._cpus[2], cpus_per_run())

    def close(self) -> None:
        """End the actor kept ready, if any; one being made now is ended once it is."""
        with self._lock:
            spare, self._spare = self._spare, None
            self._generation += 1
        if spare is not None:
            spare.end()


@contextmanager
def cluster_in_this_process(cpus: int) -> Iterator[None]:
    """A Ray cluster of ``cpus`` CPUs on this machine only, started in this process (loopback, no dashboard, token
    authentication with a token made for it, a short temporary folder): for tests and benches; shut down after."""
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # short: Ray's socket paths live under it
    token = os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
    mode = os.environ.pop("RAY_AUTH_MODE", None)  # a new local cluster turns token authentication on itself
    try:
        ray.init(num_cpus=cpus, include_dashboard=False, _node_ip_address="127.0.0.1", _temp_dir=temp,
                 runtime_env=job_runtime_env(), log_to_driver=False)
        yield
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)
        if os.environ.get("RAY_AUTH_TOKEN") == token:
            os.environ.pop("RAY_AUTH_TOKEN")
        if mode is not None:
            os.environ["RAY_AUTH_MODE"] = mode

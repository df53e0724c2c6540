"""Races on a shared server: a worker process per race, one race at a time, a queue, and heartbeats.

Streamlit serves every session on a thread of one process, so a race trained there would take the
interpreter and the CPU from every other visitor. Here each race runs in its own worker process,
started with "spawn" (a fresh interpreter: no copy of the server's threads, locks or TensorFlow state),
at a lower priority (nice 10) and with one TensorFlow thread. One race runs at a time per server
process; visitors who press Train meanwhile wait in a first-in, first-out queue and see their place
and the expected wait. A visitor (a session) holds at most one job: a second Train returns the first.

A job ends at its budget, at Stop (its worker is terminated, so its CPU is free at once), or when its
session goes away: the page touches its job on every poll, and a job nobody touched for
`heartbeat_timeout` seconds is cancelled. While the race page is being visited, one worker that has
already imported TensorFlow waits for the next job (the standby), so a race starts in about a second
instead of after the ~5 s that importing TensorFlow takes.

One supervisor thread owns the processes: it starts, reads, terminates and reaps them. Session
threads only change job records under the lock and wake it. What runs inside a worker is `rnndemo.race_worker`.
"""

from __future__ import annotations

import atexit
import functools
import itertools
import sys
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from multiprocessing import connection as mp_connection
from multiprocessing import get_context
from typing import Any

from rnndemo.race import CurvePoint, RaceResult, result_from_json
from rnndemo.race_tasks import RaceConfig
from rnndemo.race_worker import start_without_main_script, worker_main

HEARTBEAT_TIMEOUT = 10.0  # seconds without a poll from the page before its job is cancelled
KEEP_FINISHED_SECONDS = 900.0  # a finished job's result waits this long for its page to come back
STANDBY_IDLE_SECONDS = 300.0  # the standby (~275 MB private) goes when the race page was not opened for this long
KILL_AFTER_SECONDS = 0.5  # a terminated worker still alive after this is killed (Stop frees the CPU within 1 s)
POLL_SECONDS = 0.25  # the supervisor wakes at least this often
STANDBY_RETRY_SECONDS = 30.0  # after a standby died before it was ready
# A running race is ended when its worker has sent nothing for this long (a hung process), or when it has run this
# many times its estimate and OVERDUE_EXTRA_SECONDS more. Not sooner: the worker runs at nice 10, and on a busy
# machine it gets a small share of the CPU, so a 3-second race's building and evaluations took over 60 s of wall
# time while it kept reporting points (a CI run whose tests kept both cores busy).
SILENT_SECONDS = 120.0
OVERDUE_FACTOR = 5.0
OVERDUE_EXTRA_SECONDS = 120.0


# What a race costs besides its budget: evaluations (~5 %) and building and compiling each cell (~1 s),
# measured on this 2-core machine; and a worker's TensorFlow import when no standby is ready.
EVALUATION_OVERHEAD = 1.05


CELL_SETUP_SECONDS = 1.0
COLD_START_SECONDS = 6.0
ACTIVE_STATES = ("queued", "running")


def expected_seconds(config: RaceConfig) -> float:
    """How long a race takes from its start, estimated (the queue's expected wait adds these up)."""
    return len(config.cells) * (config.seconds * EVALUATION_OVERHEAD + CELL_SETUP_SECONDS)


@dataclass(frozen=True)
class JobView:
    """What a page may know about one job, copied out under the lock."""

    job_id: int
    state: str  # "queued", "running", "done", "stopped", "cancelled" or "failed"
    config: RaceConfig
    place: int  # 1 for the first in the queue; 0 once it runs
    races_ahead: int  # queued jobs ahead of it, and the running one (0: it starts as soon as the supervisor wakes)
    wait_seconds: float  # expected wait before it starts (queued jobs)
    elapsed_seconds: float  # since it started (0 while queued)
    expected_seconds: float  # the whole race, estimated
    chance_mse: float | None  # known once the worker has drawn the data
    curves: dict[str, tuple[CurvePoint, ...]]  # per cell, the points so far
    result: RaceResult | None  # the worker's own result (done), or the last points (stopped)
    message: str  # why it ended, when it did not end at its budget

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def seconds_left(self) -> float:
        return max(0.0, self.expected_seconds - self.elapsed_seconds)


@dataclass
class _Worker:
    """A worker process and the pipe it talks through."""

    process: Any  # multiprocessing.Process
    connection: Any  # the server's end of the pipe
    ready: bool = False  # it has imported TensorFlow and waits for a race
    terminated_at: float | None = None


@dataclass
class _Job:
    job_id: int
    session: str
    config: RaceConfig
    state: str = "queued"
    touched: float = field(default_factory=time.monotonic)
    started: float | None = None
    heard: float | None = None  # when its worker last sent a message
    ended: float | None = None
    chance_mse: float | None = None
    curves: dict[str, list[CurvePoint]] = field(default_factory=dict)
    result: RaceResult | None = None
    message: str = ""
    worker: _Worker | None = None
    cold_start: bool = False  # its worker had to import TensorFlow first


class RaceJobs:
    """The race queue of one server process; thread-safe (every Streamlit session calls it)."""

    def __init__(
        self,
        heartbeat_timeout: float = HEARTBEAT_TIMEOUT,
        keep_finished_seconds: float = KEEP_FINISHED_SECONDS,
        standby_idle_seconds: float = STANDBY_IDLE_SECONDS,
    ) -> None:
        self.heartbeat_timeout = heartbeat_timeout
        self.keep_finished_seconds = keep_finished_seconds
        self.standby_idle_seconds = standby_idle_seconds
        self._context = get_context("spawn")
        self._lock = threading.Lock()
        self._jobs: dict[int, _Job] = {}
        self._by_session: dict[str, int] = {}
        self._queue: deque[int] = deque()
        self._running: _Job | None = None
        self._standby: _Worker | None = None
        self._dying: list[_Worker] = []  # terminated workers not reaped yet
        self._visited = -float("inf")  # when the race page last asked for a standby
        self._standby_failed = -float("inf")  # when a standby last died before it was ready
        self._ids = itertools.count(1)
        self._wake_reader, self._wake_writer = self._context.Pipe(duplex=False)
        self._closed = False
        self._thread: threading.Thread | None = None

    # What sessions call -----------------------------------------------------------------------------------

    def submit(self, session: str, config: RaceConfig) -> JobView:
        """Queue a race for `session`; if it already has a queued or running job, that job is returned."""
        with self._lock:
            job = self._job_of(session)
            if job is None or job.state not in ACTIVE_STATES:
                job = _Job(next(self._ids), session, config)
                self._jobs[job.job_id] = job
                self._by_session[session] = job.job_id
                self._queue.append(job.job_id)
            job.touched = time.monotonic()
            view = self._view(job)
        self._start_supervisor()
        self._wake()
        return view

    def touch(self, session: str) -> JobView | None:
        """The heartbeat: `session`'s job (marked as still wanted), or None."""
        with self._lock:
            job = self._job_of(session)
            if job is None:
                return None
            job.touched = time.monotonic()
            return self._view(job)

    def stop(self, session: str) -> JobView | None:
        """Stop `session`'s job now: a queued job leaves the queue, a running job's worker is terminated."""
        with self._lock:
            job = self._job_of(session)
            if job is not None and job.state in ACTIVE_STATES:
                self._end(job, "stopped", "Stopped by you.")
            view = None if job is None else self._view(job)
        self._wake()
        return view

    def warm_up(self) -> None:
        """The race page is open: have a worker import TensorFlow ahead of the next Train."""
        with self._lock:
            self._visited = time.monotonic()
        self._start_supervisor()
        self._wake()

    def queue_length(self) -> int:
        with self._lock:
            return len(self._queue) + (self._running is not None)

    def running_pid(self) -> int | None:
        """The process id of the worker training the running race, if any."""
        with self._lock:
            worker = self._running.worker if self._running else None
            return worker.process.pid if worker is not None else None

    def worker_pids(self) -> list[int]:
        """Process ids of every worker still alive or not yet reaped: running, standby and dying."""
        with self._lock:
            workers = [self._running.worker if self._running else None, self._standby, *self._dying]
            return [worker.process.pid for worker in workers if worker is not None and worker.process.pid]

    def shutdown(self) -> None:
        """Terminate every worker and the supervisor (tests; a server's daemon workers go with it)."""
        with self._lock:
            self._closed = True
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # Records, under the lock ------------------------------------------------------------------------------

    def _job_of(self, session: str) -> _Job | None:
        job_id = self._by_session.get(session)
        return None if job_id is None else self._jobs.get(job_id)

    def _end(self, job: _Job, state: str, message: str = "") -> None:
        """Mark `job` ended; a queued job leaves the queue, a running job's worker is marked for termination."""
        if job.job_id in self._queue:
            self._queue.remove(job.job_id)
        job.state, job.message, job.ended = state, message, time.monotonic()
        if state == "stopped" and job.result is None and job.curves:
            job.result = _partial_result(job)
        if self._running is job:
            self._running = None
            if job.worker is not None:
                self._dying.append(job.worker)
                job.worker = None

    def _view(self, job: _Job) -> JobView:
        now = time.monotonic()
        place, races_ahead, wait = 0, 0, 0.0
        if job.state == "queued":
            ahead = list(self._queue)[: list(self._queue).index(job.job_id)]
            place = len(ahead) + 1
            running = self._running
            races_ahead = len(ahead) + (running is not None)
            wait = 0.0 if running is None else max(0.0, running_expected(running) - (now - (running.started or now)))
            wait += sum(expected_seconds(self._jobs[job_id].config) for job_id in ahead)
        elapsed = 0.0 if job.started is None else (job.ended or now) - job.started
        return JobView(
            job.job_id,
            job.state,
            job.config,
            place,
            races_ahead,
            wait,
            elapsed,
            running_expected(job),
            job.chance_mse,
            {name: tuple(points) for name, points in job.curves.items()},
            job.result,
            job.message,
        )

    # The supervisor thread ------------------------------------------------------------------------------

    def _start_supervisor(self) -> None:
        with self._lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._supervise, name="rnndemo-race-jobs", daemon=True)
                self._thread.start()

    def _wake(self) -> None:
        try:
            self._wake_writer.send_bytes(b"")
        except OSError:  # the supervisor has gone (shutdown)
            pass

    def _supervise(self) -> None:
        while True:
            self._wait()
            with self._lock:
                if self._closed:
                    self._terminate_everything()
                    return
                try:
                    self._supervise_once()
                except Exception:  # noqa: BLE001 — one bad turn must not leave every later race waiting forever
                    traceback.print_exc(file=sys.stderr)

    def _supervise_once(self) -> None:
        self._read_standby()
        self._read_running()
        self._check_running()
        self._expire_unwanted_jobs()
        self._reap_dying()
        self._start_next()
        self._keep_standby()
        self._prune_finished()

    def _wait(self) -> None:
        """Until a worker writes or exits, a session wakes us, or POLL_SECONDS pass."""
        with self._lock:
            waitables = [self._wake_reader] + [worker.process.sentinel for worker in self._dying]  # reaped at once
            for worker in (self._running.worker if self._running else None, self._standby):
                if worker is not None:
                    waitables += [worker.connection, worker.process.sentinel]
        for ready in mp_connection.wait(waitables, timeout=POLL_SECONDS):
            if ready is self._wake_reader:
                while self._wake_reader.poll():
                    self._wake_reader.recv_bytes()

    def _read_standby(self) -> None:
        """The standby's one message: it has imported TensorFlow."""
        standby = self._standby
        try:
            while standby is not None and standby.connection.poll():
                kind, _ = standby.connection.recv()
                standby.ready = standby.ready or kind == "ready"
        except (EOFError, OSError):
            return  # it has gone; _keep_standby replaces it

    def _read_running(self) -> None:
        """Every message the running worker has sent: curve points, the result, or an error."""
        job = self._running
        if job is None or job.worker is None:
            return
        try:
            while job.worker.connection.poll():
                kind, payload = job.worker.connection.recv()
                self._receive(job, kind, payload)
                if self._running is not job:
                    return
        except (EOFError, OSError):
            return  # the worker has gone; _check_running says why

    def _receive(self, job: _Job, kind: str, payload: Any) -> None:
        job.heard = time.monotonic()
        if kind == "ready" and job.worker is not None:
            job.worker.ready = True
        elif kind == "event" and payload.stage == "data":
            job.chance_mse = (payload.metrics or {}).get("chance_mse")
        elif kind == "event" and payload.stage == "evaluate":
            job.curves.setdefault(payload.model, []).append(CurvePoint(**payload.metrics))
        elif kind == "result":
            job.result = result_from_json(payload)
            self._end(job, "done")
        elif kind == "error":
            self._end(job, "failed", f"The race failed: {payload}")

    def _check_running(self) -> None:
        """A worker that exited without a result failed; a race far past its estimate is ended."""
        job = self._running
        if job is None or job.worker is None:
            return
        if not job.worker.process.is_alive():
            code = job.worker.process.exitcode
            self._end(job, "failed", f"The training process ended without a result (exit code {code}).")
        else:
            problem = overdue(job, time.monotonic())
            if problem:
                self._end(job, "failed", problem)

    def _expire_unwanted_jobs(self) -> None:
        """Cancel queued and running jobs whose page has stopped asking about them (closed, gone)."""
        now = time.monotonic()
        for job in list(self._jobs.values()):
            if job.state in ACTIVE_STATES and now - job.touched > self.heartbeat_timeout:
                message = f"Cancelled: its page did not ask about it for {self.heartbeat_timeout:g} s."
                self._end(job, "cancelled", message)

    def _reap_dying(self) -> None:
        """Terminate ended workers, kill those that outlive KILL_AFTER_SECONDS, and reap the dead."""
        now = time.monotonic()
        for worker in list(self._dying):
            if worker.terminated_at is None:
                worker.process.terminate()
                worker.terminated_at = now
            elif worker.process.is_alive() and now - worker.terminated_at > KILL_AFTER_SECONDS:
                worker.process.kill()
            if not worker.process.is_alive():
                worker.process.join(timeout=0)
                worker.connection.close()
                self._dying.remove(worker)

    def _start_next(self) -> None:
        """The first queued job starts on the standby worker (or a new one) when none runs."""
        if self._running is not None or not self._queue:
            return
        job = self._jobs[self._queue.popleft()]
        standby, self._standby = self._standby, None
        if standby is not None and not standby.process.is_alive():
            self._dying.append(standby)
            standby = None
        worker = standby or self._new_worker()
        job.cold_start = not worker.ready
        job.state, job.started, job.worker, self._running = "running", time.monotonic(), worker, job
        try:
            worker.connection.send(job.config)
        except OSError:
            self._end(job, "failed", "The training process could not be started.")

    def _keep_standby(self) -> None:
        """One worker waits, TensorFlow imported, while the race page is being visited; none otherwise.

        A standby that died before it was ready is replaced only after STANDBY_RETRY_SECONDS, so a
        broken installation cannot make the server spawn a process every turn.
        """
        now = time.monotonic()
        wanted = now - self._visited < self.standby_idle_seconds
        standby = self._standby
        if standby is not None and (not wanted or not standby.process.is_alive()):
            if not standby.ready and not standby.process.is_alive():
                self._standby_failed = now
            self._dying.append(standby)
            self._standby = None
        elif standby is None and wanted and now - self._standby_failed > STANDBY_RETRY_SECONDS:
            self._standby = self._new_worker()

    def _prune_finished(self) -> None:
        now = time.monotonic()
        for job in list(self._jobs.values()):
            if job.state not in ACTIVE_STATES and now - job.touched > self.keep_finished_seconds:
                self._jobs.pop(job.job_id)
                if self._by_session.get(job.session) == job.job_id:
                    del self._by_session[job.session]

    def _new_worker(self) -> _Worker:
        server_end, worker_end = self._context.Pipe()
        for _ in range(5):
            process = self._context.Process(target=worker_main, args=(worker_end,), name="rnndemo-race", daemon=True)
            if start_without_main_script(process):
                break
            process.kill()  # it may have been told to run a page script first: start another
            process.join()
        worker_end.close()  # the worker holds its own copy: EOF on our end means it has gone
        return _Worker(process, server_end)

    def _terminate_everything(self) -> None:
        for job in list(self._jobs.values()):
            if job.state in ACTIVE_STATES:
                self._end(job, "cancelled", "The server is shutting down.")
        if self._standby is not None:
            self._dying.append(self._standby)
            self._standby = None
        for worker in self._dying:
            worker.process.terminate()
        for worker in self._dying:
            worker.process.join(timeout=KILL_AFTER_SECONDS)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout=1)
            worker.connection.close()
        self._dying.clear()


def running_expected(job: _Job) -> float:
    return expected_seconds(job.config) + (COLD_START_SECONDS if job.cold_start else 0.0)


def overdue(job: _Job, now: float) -> str | None:
    """Why a running race should be ended at `now` (its worker silent too long, or the race far past its
    estimate), or None while it is making progress."""
    started = job.started if job.started is not None else now
    if now - (job.heard if job.heard is not None else started) > SILENT_SECONDS:
        return f"The training process sent nothing for {SILENT_SECONDS:g} s and was ended."
    if now - started > OVERDUE_FACTOR * running_expected(job) + OVERDUE_EXTRA_SECONDS:
        return "The race took far longer than its budget and was ended."
    return None


def _partial_result(job: _Job) -> RaceResult:
    """A stopped race's numbers: each cell's last point (no more is known of a terminated worker)."""
    from rnndemo.race import CellResult

    cells = {
        name: CellResult(name, points[-1].test_mse, points[-1].step, points[-1].seconds, tuple(points))
        for name, points in job.curves.items()
        if points
    }
    return RaceResult(job.config.task, job.config.lag, job.chance_mse or float("nan"), cells, stopped=True)


_SHARED_LOCK = threading.Lock()


@functools.cache
def _create_shared_jobs() -> RaceJobs:
    jobs = RaceJobs()
    # Before multiprocessing's own exit handler (registered earlier, so run later): no worker is left
    # half-started by a supervisor frozen at exit.
    atexit.register(jobs.shutdown)
    return jobs


def shared_jobs() -> RaceJobs:
    """The race queue of this process, created once, on first use (every session of the server shares it)."""
    with _SHARED_LOCK:  # functools.cache alone may call the function twice when two sessions arrive at once
        return _create_shared_jobs()

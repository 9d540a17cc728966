"""Run folders that appear whole or not at all, and runs that stop cleanly when told to.

A run writes into ``<out>/<run-id>.partial/`` and renames it to ``<out>/<run-id>/`` at the end.
The partial folder holds an owner file (pid and host) so that a later run can tell a folder
being written right now from one left behind by a killed run (``kill -9``, a power cut):
:func:`stale_partials` lists those, and ``sdo-overlap clean-partial`` removes them.

:func:`stop_on_signals` makes SIGTERM (and SIGHUP) behave like Ctrl-C: it raises
:class:`Interrupted`, a ``KeyboardInterrupt``, so the same clean-up runs; it also stops worker
processes at once, and makes every forked worker die with its parent even on ``kill -9``.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.util
import os
import shutil
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from pipeline.utils.io import new_run_id

__all__ = [
    "OWNER_FILE",
    "PARTIAL_SUFFIX",
    "Interrupted",
    "create_partial",
    "die_with_parent",
    "publish_partial",
    "remove_partial",
    "stale_partials",
    "stop_on_signals",
]

PARTIAL_SUFFIX = ".partial"
OWNER_FILE = ".owner"
# A partial folder without an owner file younger than this may be a run that has only just
# created it; older ones are stale.
_OWNERLESS_GRACE_S = 60.0
_PR_SET_PDEATHSIG = 1


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal (``signum``); handled exactly like Ctrl-C."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")


# --- the partial folder ---------------------------------------------------------------------


def create_partial(out_dir: Path) -> tuple[Path, str]:
    """Create ``<out_dir>/<new run id>.partial/`` with its owner file; returns it and the id.

    The id is new: no run folder or partial folder of that name exists.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    while True:
        run_id = new_run_id()
        if (out_dir / run_id).exists():
            continue
        partial = out_dir / f"{run_id}{PARTIAL_SUFFIX}"
        try:
            partial.mkdir()
        except FileExistsError:
            continue
        (partial / OWNER_FILE).write_text(f"{os.getpid()} {socket.gethostname()}\n", "utf-8")
        return partial, run_id


def publish_partial(partial: Path) -> Path:
    """Rename ``<id>.partial`` to ``<id>`` (atomic on one file system); returns the run folder."""
    (partial / OWNER_FILE).unlink(missing_ok=True)
    final = partial.with_name(partial.name.removesuffix(PARTIAL_SUFFIX))
    os.rename(partial, final)
    return final


def remove_partial(partial: Path) -> None:
    """Delete a partial folder and everything in it (no error when it is already gone)."""
    shutil.rmtree(partial, ignore_errors=True)


def _owner_alive(partial: Path, now: float) -> bool:
    """True when the run that owns ``partial`` may still be writing it."""
    try:
        pid_text, _, host = (partial / OWNER_FILE).read_text("utf-8").strip().partition(" ")
        pid = int(pid_text)
    except FileNotFoundError:
        try:
            return now - partial.stat().st_mtime < _OWNERLESS_GRACE_S
        except OSError:
            return False
    except (OSError, ValueError):
        return False
    if host != socket.gethostname():
        return True  # another machine's run on a shared disk: we cannot tell, leave it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by another user
    return True


def stale_partials(out_dir: Path) -> list[Path]:
    """``<id>.partial`` folders in ``out_dir`` whose run is gone (killed), oldest first."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return []
    now = time.time()
    found = [
        p
        for p in out_dir.iterdir()
        if p.is_dir() and p.name.endswith(PARTIAL_SUFFIX) and not _owner_alive(p, now)
    ]
    return sorted(found)


# --- signals and worker processes -----------------------------------------------------------


def die_with_parent(parent: int | None = None) -> None:
    """In a worker process: have the kernel kill it (SIGKILL) when its parent dies (Linux).

    A forked worker inherits both ends of its task pipe, so it never sees end-of-file when the
    parent is killed and would otherwise wait forever (about 400 MB each for spaCy workers).
    ``parent``: the pid the worker was started by; when the current parent is another one, that
    parent is already gone and the worker exits at once. Elsewhere this does nothing.
    """
    parent = os.getppid() if parent is None else parent
    if os.getppid() != parent:
        os._exit(1)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


class _AfterFork:
    """What every forked multiprocessing child runs first (see :func:`stop_on_signals`)."""

    installed = False

    def __call__(self, _obj: object) -> None:
        # The parent's handler raises Interrupted; a worker should simply end on SIGTERM.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, signal.SIG_DFL)
        die_with_parent()


_AFTER_FORK = _AfterFork()


def _fork_signals() -> list[signal.Signals]:
    return [signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])


def _block_before_fork() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, _fork_signals())


def _unblock_in_parent() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _fork_signals())


def _default_in_child() -> None:
    # A SIGTERM that reaches a child before it drops the parent's handler (terminate() on a
    # worker still starting) would raise Interrupted inside the fork machinery and leave a
    # half-started worker that the pool waits on forever. Blocked across fork, it stays
    # pending until here, where the default action ends the child.
    try:
        for signum in _fork_signals():
            signal.signal(signum, signal.SIG_DFL)
    except ValueError:  # not the child's main thread (CPython makes the forking thread main)
        pass
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _fork_signals())


def _stop_workers() -> None:
    """Terminate this process's multiprocessing children (pool workers) now."""
    for child in multiprocessing.active_children():
        child.terminate()


def _raise_interrupted(signum: int, _frame: FrameType | None) -> None:
    _stop_workers()
    raise Interrupted(signum)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP stop workers and raise :class:`Interrupted`, and
    forked workers die with this process. Outside the main thread it only does the latter."""
    if not _AFTER_FORK.installed:
        # multiprocessing runs these in each child it forks (ProcessPoolExecutor, nlp.pipe).
        multiprocessing.util.register_after_fork(_AFTER_FORK, _AFTER_FORK)
        os.register_at_fork(
            before=_block_before_fork,
            after_in_parent=_unblock_in_parent,
            after_in_child=_default_in_child,
        )
        _AFTER_FORK.installed = True
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = [signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {s: signal.signal(s, _raise_interrupted) for s in wanted}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)

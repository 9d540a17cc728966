"""Run one writer in a forked child while this process does other work (2 cores: the workbook,
xlsxwriter's pure-Python XML, takes as long as every other output together)."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from pipeline.utils.runfolder import die_with_parent

__all__ = ["BackgroundError", "start_in_child"]


class BackgroundError(RuntimeError):
    """The child's work failed; the message is the child's exception as text."""


def _child(parent: int, send: Connection, work: Callable[..., Any], args: tuple[Any, ...]) -> None:
    die_with_parent(parent)
    try:
        work(*args)
    except BaseException as exc:  # every failure is reported to the parent
        send.send(f"{type(exc).__name__}: {exc}")
    else:
        send.send("")
    finally:
        send.close()


def start_in_child(work: Callable[..., Any], *args: Any) -> Callable[[], None]:
    """Start ``work(*args)`` in a forked child and return ``wait()``, which blocks until it is
    done and raises :class:`BackgroundError` with the child's error if it failed (or died).

    The child inherits ``args`` (nothing is pickled) and dies with this process. Where the OS
    cannot fork, ``work`` runs here at once and ``wait`` does nothing more. ``work``'s return
    value is dropped: it must leave its result on disk.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        work(*args)
        return lambda: None
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(os.getpid(), send, work, args), daemon=True)
    process.start()
    send.close()  # only the child writes: its exit closes the pipe

    def wait() -> None:
        try:
            message = receive.recv()
        except EOFError:
            message = "the child process died without a word"
        finally:
            receive.close()
            process.join()
        if message:
            raise BackgroundError(message)

    return wait

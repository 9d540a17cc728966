"""Run work in a forked child while this process does other work (2 cores: the workbook,
xlsxwriter's pure-Python XML, takes as long as every other output together; the areas stage's
single-threaded clustering runs beside match)."""

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
        result = work(*args)
    except BaseException as exc:  # every failure is reported to the parent
        send.send((f"{type(exc).__name__}: {exc}", None))
    else:
        send.send(("", result))
    finally:
        send.close()


def start_in_child(work: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    """Start ``work(*args)`` in a forked child and return ``wait()``, which blocks until it is
    done and returns ``work``'s return value (pickled back), or raises :class:`BackgroundError`
    with the child's error if it failed (or died).

    The child inherits ``args`` (nothing is pickled) and dies with this process. Where the OS
    cannot fork, ``work`` runs here at once and ``wait`` returns its value.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        done = work(*args)
        return lambda: done
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(os.getpid(), send, work, args), daemon=True)
    process.start()
    send.close()  # only the child writes: its exit closes the pipe

    def wait() -> Any:
        try:
            message, result = receive.recv()
        except EOFError:
            message, result = "the child process died without a word", None
        finally:
            receive.close()
            process.join()
        if message:
            raise BackgroundError(message)
        return result

    return wait

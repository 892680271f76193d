"""FlagsClient: the core's networked client, plus the process hooks a Python server needs.

- ``os.register_at_fork(after_in_child=...)`` restarts the poller of every live client in a forked child
  (gunicorn/uwsgi preload, multiprocessing with fork) right away; the core would otherwise restart it on
  the child's first call. The definitions loaded before the fork keep answering meanwhile.
- ``atexit`` shuts every live client down before the interpreter finalizes, then stops the core from
  calling into Python (logging, callbacks) from its own thread.
"""

import atexit
import os
import weakref

from ._hogflags import FlagsClient as _NativeFlagsClient
from ._hogflags import _set_finalizing

_live: "weakref.WeakSet[FlagsClient]" = weakref.WeakSet()


class FlagsClient(_NativeFlagsClient):
    __doc__ = _NativeFlagsClient.__doc__

    def __init__(self, *args, **kwargs) -> None:  # the native __new__ has done the work
        _live.add(self)


def _after_fork_in_child() -> None:
    for client in list(_live):
        try:
            client._after_fork()
        except Exception:  # a client that cannot restart must not break the fork
            pass


def _shutdown_all() -> None:
    for client in list(_live):
        try:
            client.shutdown()
        except Exception:
            pass
    _set_finalizing()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_shutdown_all)

"""A FlagsClient created before `os.fork()` keeps working in every child: the child answers at once from
the definitions it inherited, its poller restarts, it sees definitions changed after the fork, and the
parent is unaffected. Covers a plain fork, nested forks, multiprocessing with fork (also from inside a
running uvloop loop) and a subprocess spawned under asyncio/uvloop.

Every child has a deadline (SIGALRM or a result timeout), so a deadlock fails the test instead of hanging it.
"""

import asyncio
import multiprocessing
import os
import signal
import sys
import textwrap
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import pytest

from testserver import PROJECT_KEY, SECRET_KEY, flag

BEFORE = {"flags": [flag("f", True), flag("stable")]}
AFTER = {"flags": [flag("f", False), flag("stable")]}

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork with threads (3.12+)


def wait_for(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def local(client, key="f"):
    return client.get_feature_flag(key, "u", only_evaluate_locally=True)


@pytest.fixture
def client(server, make_client):
    server.reset(BEFORE)
    c = make_client(poll_interval=0.05)
    assert c.wait_until_ready(5)
    assert local(c) is True
    return c


def child_checks(c, ready_fd, result_fd):
    """Runs in a forked child: inherited answer, then fresh definitions, then a reload. Never returns."""
    status = b"ok"
    try:
        signal.alarm(30)
        assert local(c) is True, "inherited definitions"
        os.write(ready_fd, b"r")
        assert wait_for(lambda: local(c) is False), "child did not see the new definitions"
        c.reload_feature_flags()
        assert c.status["ready"] and local(c, "stable") is True
    except BaseException as e:  # reported to the parent
        status = f"{os.getpid()}: {e!r}".encode()
    os.write(result_fd, status + b"\n")
    os._exit(0)


def read_line(fd, timeout=30.0):
    deadline = time.monotonic() + timeout
    buf = b""
    while not buf.endswith(b"\n"):
        if time.monotonic() > deadline:
            raise AssertionError(f"no answer from the child (got {buf!r})")
        chunk = os.read(fd, 1)
        if not chunk:
            break
        buf += chunk
    return buf.strip()


def reap(pid, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError(f"child {pid} did not exit")
        time.sleep(0.02)


def test_fork(server, client):
    ready_r, ready_w = os.pipe()
    result_r, result_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        child_checks(client, ready_w, result_w)
    os.close(ready_w)
    os.close(result_w)
    assert os.read(ready_r, 1) == b"r"
    server.set_definitions(AFTER)
    assert read_line(result_r) == b"ok"
    assert reap(pid) == 0
    # The parent is unaffected: it sees the change too and keeps polling.
    assert wait_for(lambda: local(client) is False)
    fetches = client.status["fetches"]
    assert wait_for(lambda: client.status["fetches"] > fetches)


def test_nested_forks(server, client):
    ready_r, ready_w = os.pipe()
    result_r, result_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        # The child forks a grandchild, then runs the same checks; both report on the shared pipes.
        grandchild = os.fork()
        if grandchild == 0:
            child_checks(client, ready_w, result_w)
        try:
            signal.alarm(30)
            status = b"ok"
            assert local(client) is True
            os.write(ready_w, b"r")
            assert wait_for(lambda: local(client) is False), "child did not see the new definitions"
            client.reload_feature_flags()
            assert reap(grandchild) == 0, "grandchild failed"
        except BaseException as e:
            status = f"child: {e!r}".encode()
        os.write(result_w, status + b"\n")
        os._exit(0)
    os.close(ready_w)
    os.close(result_w)
    assert os.read(ready_r, 1) + os.read(ready_r, 1) == b"rr"
    server.set_definitions(AFTER)
    assert sorted([read_line(result_r), read_line(result_r)]) == [b"ok", b"ok"]
    assert reap(pid) == 0
    assert wait_for(lambda: local(client) is False)


# multiprocessing: the pool's workers are forked from the test process and inherit the client.
_CLIENT = None


def _worker_value(expected):
    ok = wait_for(lambda: local(_CLIENT) is expected)
    return os.getpid(), ok, local(_CLIENT), _CLIENT.status["ready"]


def _run_pool(server, client, executor_factory):
    global _CLIENT
    _CLIENT = client
    try:
        with executor_factory() as pool:
            before = list(pool.map(_worker_value, [True] * 4))
            server.set_definitions(AFTER)
            after = list(pool.map(_worker_value, [False] * 4))
    finally:
        _CLIENT = None
    for pid, ok, value, ready in before + after:
        assert pid != os.getpid() and ok and ready, (pid, ok, value, ready)
    assert {v for _, _, v, _ in after} == {False}
    assert wait_for(lambda: local(client) is False)


def test_multiprocessing_fork(server, client):
    ctx = multiprocessing.get_context("fork")
    _run_pool(server, client, lambda: ProcessPoolExecutor(max_workers=2, mp_context=ctx))


def test_multiprocessing_fork_inside_uvloop(server, client):
    import uvloop
    ctx = multiprocessing.get_context("fork")

    async def main():
        loop = asyncio.get_running_loop()
        assert "uvloop" in type(loop).__module__
        global _CLIENT
        _CLIENT = client
        try:
            with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
                before = await asyncio.gather(*[loop.run_in_executor(pool, _worker_value, True) for _ in range(2)])
                server.set_definitions(AFTER)
                after = await asyncio.gather(*[loop.run_in_executor(pool, _worker_value, False) for _ in range(2)])
        finally:
            _CLIENT = None
        return before, after

    before, after = uvloop.run(main())
    assert all(ok for _, ok, _, _ in before + after)
    assert wait_for(lambda: local(client) is False)


CHILD = textwrap.dedent(
    """
    import sys, time, hogflags
    c = hogflags.FlagsClient(sys.argv[2], secret_key=sys.argv[3], host=sys.argv[1], poll_interval=0.05)
    assert c.wait_until_ready(10)
    print(c.get_feature_flag("f", "u", only_evaluate_locally=True), flush=True)
    sys.stdin.readline()  # the parent has changed the definitions
    deadline = time.monotonic() + 10
    while c.get_feature_flag("f", "u", only_evaluate_locally=True) is not False and time.monotonic() < deadline:
        time.sleep(0.02)
    print(c.get_feature_flag("f", "u", only_evaluate_locally=True), flush=True)
    c.shutdown()
    """
)


def test_subprocess_spawned_under_uvloop(server, client, tmp_path):
    import uvloop

    async def main():
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-c", CHILD, server.url, PROJECT_KEY, SECRET_KEY,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                cwd=tmp_path,  # import the installed package, not the source tree
            )
            for _ in range(2)
        ]
        first = [await asyncio.wait_for(p.stdout.readline(), 20) for p in procs]
        # The parent's client keeps answering while its children run.
        assert local(client) is True
        server.set_definitions(AFTER)
        for p in procs:
            p.stdin.write(b"go\n")
            await p.stdin.drain()
        second = [await asyncio.wait_for(p.stdout.readline(), 20) for p in procs]
        codes = [await asyncio.wait_for(p.wait(), 20) for p in procs]
        return first, second, codes

    first, second, codes = uvloop.run(main())
    assert first == [b"True\n", b"True\n"] and second == [b"False\n", b"False\n"] and codes == [0, 0]
    assert wait_for(lambda: local(client) is False)

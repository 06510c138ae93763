"""Start-up mistakes get one clear line on stderr and a non-zero exit, no traceback (issue 11, finding 9): a port
already taken, an unusable ``--data-dir``, a second ``turnout serve`` on a data directory another one is using. The
lock that refuses the second is released on exit, and one left by a killed server does not block the next."""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import Server, free_port

EXIT_FAILURE = 1


def serve(data_dir: Path | str, port: int) -> subprocess.CompletedProcess[str]:
    """``turnout serve`` expected to stop at once (the timeout only keeps a broken server from hanging the suite)."""
    return subprocess.run(
        [sys.executable, "-m", "turnout", "serve", "--port", str(port), "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line a refused start printed (and nothing else: no log line, no traceback)."""
    assert result.returncode == EXIT_FAILURE, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("turnout serve: ")
    return lines[0]


def test_port_already_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line(serve(tmp_path / "data", port))
    assert line == f"turnout serve: cannot listen on 127.0.0.1:{port}: the port is already in use"
    # The lock was given up: the same data directory serves on a free port straight after.
    server = Server(tmp_path / "data").start()
    server.stop()


def test_port_out_of_range(tmp_path: Path) -> None:
    line = one_line(serve(tmp_path / "data", 70000))
    assert line == "turnout serve: cannot listen on 127.0.0.1:70000: the port must be between 0 and 65535"


def test_unusable_data_dir(tmp_path: Path) -> None:
    assert one_line(serve("/proc/nope", free_port())) == (
        "turnout serve: cannot use --data-dir /proc/nope: No such file or directory"
    )
    a_file = tmp_path / "file"
    a_file.write_text("not a directory")
    assert one_line(serve(a_file, free_port())) == f"turnout serve: --data-dir {a_file} is not a directory"
    under_a_file = a_file / "data"
    assert one_line(serve(under_a_file, free_port())) == (
        f"turnout serve: cannot use --data-dir {under_a_file}: Not a directory"
    )


def test_data_dir_whose_database_is_not_one(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "turnout.db").write_bytes(b"this is not a SQLite database, it is some other file " * 100)
    line = one_line(serve(data, free_port()))
    assert line == f"turnout serve: cannot use --data-dir {data}: {data / 'turnout.db'}: file is not a database"


def test_second_server_on_the_same_data_dir_is_refused(fresh_server: Server) -> None:
    assert fresh_server.process is not None
    first = fresh_server.process.pid
    line = one_line(serve(fresh_server.data_dir, free_port()))
    assert line == (f"turnout serve: --data-dir {fresh_server.data_dir} is in use by another turnout serve "
                    f"(pid {first}); stop it first, or give this one another --data-dir")
    # The first one goes on serving.
    assert fresh_server.client("sts").get_caller_identity()["Account"] == "000000000000"


def lock_is_free(lock: Path) -> bool:
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def test_lock_held_while_serving_and_released_on_exit(fresh_server: Server) -> None:
    lock = fresh_server.data_dir / "turnout.lock"
    assert fresh_server.process is not None
    assert lock.read_text().strip() == str(fresh_server.process.pid)
    assert not lock_is_free(lock)
    fresh_server.stop()  # SIGTERM: a graceful shutdown
    assert lock_is_free(lock)
    fresh_server.start()
    assert lock.read_text().strip() == str(fresh_server.process.pid)


def test_stale_lock_of_a_killed_server_does_not_block(fresh_server: Server) -> None:
    assert fresh_server.process is not None
    killed = fresh_server.process.pid
    fresh_server.kill()  # SIGKILL: no clean-up ran, the lock file still names the dead server
    lock = fresh_server.data_dir / "turnout.lock"
    assert lock.read_text().strip() == str(killed)
    fresh_server.start()
    assert fresh_server.process.pid != killed
    assert lock.read_text().strip() == str(fresh_server.process.pid)
    assert fresh_server.client("sts").get_caller_identity()["Account"] == "000000000000"

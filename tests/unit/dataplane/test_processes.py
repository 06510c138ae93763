"""Task processes: which command a container runs, and real OS processes started, watched and stopped."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.dataplane.waiting import WAIT, until
from turnout.dataplane.processes import (
    CommandRule,
    StartFailed,
    TaskProcesses,
    builtin_command,
    command_for,
    free_port,
    log_name,
    parse_command_rule,
)

T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, 60)

    return asyncio.run(bounded())


# -- rules -------------------------------------------------------------------------------------------------------


def test_parse_command_rule_splits_at_the_first_equals() -> None:
    assert parse_command_rule("web:*=python app.py --x=1") == CommandRule("web:*", "python app.py --x=1")
    assert parse_command_rule(" nginx* = sh -c 'exit 0' ") == CommandRule("nginx*", "sh -c 'exit 0'")


@pytest.mark.parametrize(("text", "says"), [
    ("no-equals-sign", "no '='"),
    ("=python app.py", "no image glob"),
    ("   =python app.py", "no image glob"),
    ("web:*=", "no command"),
    ("web:*=   ", "no command"),
    ("web:*=sh -c 'unclosed", "shell syntax"),
])
def test_parse_command_rule_rejects_with_a_clear_message(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_command_rule(text)


def test_command_for_takes_the_first_matching_rule_in_order() -> None:
    rules = [CommandRule("web:*", "first"), CommandRule("web:1.*", "second"), CommandRule("*", "catch-all 'a b'")]
    assert command_for("web:1.0", rules) == ["first"]
    assert command_for("api:2", rules) == ["catch-all", "a b"]
    assert command_for("api:2", rules[:2]) is None
    assert command_for("anything", []) is None


def test_command_for_is_case_sensitive() -> None:
    rules = [CommandRule("Web:*", "upper")]
    assert command_for("web:1", rules) is None
    assert command_for("Web:1", rules) == ["upper"]


@given(st.text(alphabet=st.characters(blacklist_characters="=", blacklist_categories=("Cs",)), min_size=1)
       .filter(lambda s: s.strip() != ""),
       st.text(min_size=1).filter(lambda s: s.strip() != ""))
def test_parse_command_rule_round_trips(glob: str, command: str) -> None:
    try:
        rule = parse_command_rule(f"{glob}={command}")
    except ValueError as exc:
        assert "shell syntax" in str(exc)  # the only other reason left: quotes that do not close
        return
    assert rule == CommandRule(glob.strip(), command.strip())


def test_builtin_command_runs_the_task_app_with_this_interpreter() -> None:
    assert builtin_command() == [sys.executable, "-m", "turnout.dataplane.taskapp"]


def test_free_port_can_be_bound() -> None:
    port = free_port()
    assert 0 < port < 65536
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


@given(st.text(min_size=1, max_size=400))
def test_log_names_are_safe_and_distinct(key: str) -> None:
    name = log_name(key)
    assert "/" not in name and "\x00" not in name and not name.startswith(".")
    assert len(name.encode()) < 255
    if key != "a":
        assert name != log_name("a")


def test_log_names_of_arns_differ_from_their_sanitized_spelling() -> None:
    assert log_name("arn:aws:ecs:task/c/1/web") != log_name("arn_aws_ecs_task_c_1_web")


# -- processes ---------------------------------------------------------------------------------------------------


def test_start_and_stop_a_shell_command(tmp_path: Path) -> None:
    exits: list[tuple[str, int]] = []

    async def scenario() -> None:
        procs = TaskProcesses(tmp_path, on_exit=lambda key, code: exits.append((key, code)))
        running = await procs.start("t/web", ["sh", "-c", "sleep 30"], {}, 0)
        assert running.key == "t/web" and running.ports == () and running.host == "127.0.0.1"
        os.kill(running.pid, 0)  # alive
        assert procs.running() == {"t/web": running}
        again = await procs.start("t/web", ["sh", "-c", "sleep 30"], {}, 0)
        assert again == running  # idempotent
        code = await procs.stop("t/web", grace=WAIT)
        assert code == -signal.SIGTERM
        assert procs.running() == {}
        assert await procs.stop("t/web") is None
        await asyncio.sleep(0.2)  # give a wrongly sent on_exit its chance

    run(scenario())
    assert exits == []  # a stop asked for is not an exit by itself


def test_stop_kills_what_ignores_sigterm(tmp_path: Path) -> None:
    async def scenario() -> int | None:
        procs = TaskProcesses(tmp_path)
        await procs.start("k", ["sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"], {}, 0)
        log = tmp_path / log_name("k")
        await until(lambda: "\nready\n" in log.read_text())  # the output line, not the logged command
        return await procs.stop("k", grace=0.2)

    assert run(scenario()) == -signal.SIGKILL


def test_on_exit_gets_the_code_of_a_program_that_exits_by_itself(tmp_path: Path) -> None:
    exits: list[tuple[str, int]] = []

    async def scenario() -> None:
        procs = TaskProcesses(tmp_path, on_exit=lambda key, code: exits.append((key, code)))
        await procs.start("t/exit", ["sh", "-c", "exit 3"], {}, 0)
        await until(lambda: exits)
        assert procs.running() == {}
        assert await procs.stop("t/exit") is None

    run(scenario())
    assert exits == [("t/exit", 3)]


def test_on_exit_gets_minus_nine_after_kill_9(tmp_path: Path) -> None:
    exits: list[tuple[str, int]] = []

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        procs = TaskProcesses(tmp_path, on_exit=lambda key, code: exits.append((key, code)))
        running = await procs.start("t/killed", ["sleep", "30"], {}, 0)
        os.kill(running.pid, signal.SIGKILL)
        await until(lambda: exits)
        assert loop is asyncio.get_running_loop()

    run(scenario())
    assert exits == [("t/killed", -9)]


def test_on_exit_runs_on_the_event_loop(tmp_path: Path) -> None:
    seen: list[bool] = []

    async def scenario() -> None:
        loop = asyncio.get_running_loop()

        def on_exit(key: str, code: int) -> None:
            try:
                seen.append(asyncio.get_running_loop() is loop)
            except RuntimeError:
                seen.append(False)

        procs = TaskProcesses(tmp_path, on_exit=on_exit)
        await procs.start("x", ["sh", "-c", "exit 0"], {}, 0)
        await until(lambda: seen)

    run(scenario())
    assert seen == [True]


def test_a_failing_on_exit_does_not_break_the_watcher(tmp_path: Path) -> None:
    calls: list[str] = []

    def on_exit(key: str, code: int) -> None:
        calls.append(key)
        raise RuntimeError("owner bug")

    async def scenario() -> None:
        procs = TaskProcesses(tmp_path, on_exit=on_exit)
        await procs.start("a", ["sh", "-c", "exit 1"], {}, 0)
        await until(lambda: calls == ["a"])
        await procs.start("b", ["sh", "-c", "exit 1"], {}, 0)
        await until(lambda: calls == ["a", "b"])

    run(scenario())


def test_missing_executable_is_start_failed(tmp_path: Path) -> None:
    async def scenario() -> None:
        procs = TaskProcesses(tmp_path)
        with pytest.raises(StartFailed, match=r"^CannotStartContainerError: .*executable file not found"):
            await procs.start("t/missing", ["no-such-program-turnout-test"], {}, 1)
        with pytest.raises(StartFailed, match=r"^CannotStartContainerError: "):
            await procs.start("t/empty", [], {}, 1)
        assert procs.running() == {}
        with pytest.raises(StartFailed, match="no free port"):
            await TaskProcesses(tmp_path, host="256.0.0.1").start("t/host", ["true"], {}, 1)

    run(scenario())


def test_the_log_file_holds_stdout_and_stderr_appended(tmp_path: Path) -> None:
    logs = tmp_path / "logs"  # created on demand
    exits: list[int] = []

    async def scenario() -> Path:
        procs = TaskProcesses(logs, on_exit=lambda key, code: exits.append(code))
        first = await procs.start("arn:aws:ecs:us-east-1:1:task/c/abc/web",
                                  ["sh", "-c", "echo to-out; echo to-err >&2"], {}, 0)
        await until(lambda: len(exits) == 1)
        second = await procs.start("arn:aws:ecs:us-east-1:1:task/c/abc/web", ["sh", "-c", "echo second-run"], {}, 0)
        await until(lambda: len(exits) == 2)
        assert first.log_path == second.log_path
        return first.log_path

    path = run(scenario())
    assert path.parent == logs
    text = path.read_text()
    assert "to-out" in text and "to-err" in text and "second-run" in text
    assert text.index("to-out") < text.index("second-run")


def test_the_environment_has_ports_and_the_given_variables_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TURNOUT_TEST_SECRET", "server-only")
    monkeypatch.setenv("HOME", "/home/turnout-test")
    exits: list[int] = []
    script = ('echo "PORT=$PORT"; echo "PORTS=$TURNOUT_PORTS"; echo "MINE=$MINE"; echo "HOME=$HOME"; '
              'echo "SECRET=${TURNOUT_TEST_SECRET:-unset}"')

    async def scenario() -> tuple[tuple[int, ...], str]:
        procs = TaskProcesses(tmp_path, on_exit=lambda key, code: exits.append(code))
        running = await procs.start("env", ["sh", "-c", script], {"MINE": "given"}, 3)
        await until(lambda: exits)
        return running.ports, running.log_path.read_text()

    ports, text = run(scenario())
    assert len(ports) == 3 and len(set(ports)) == 3
    assert f"PORT={ports[0]}\n" in text
    assert f"PORTS={ports[0]},{ports[1]},{ports[2]}\n" in text
    assert "MINE=given\n" in text
    assert "HOME=/home/turnout-test\n" in text
    assert "SECRET=unset\n" in text
    assert exits == [0]


def test_a_stop_ends_the_whole_process_group(tmp_path: Path) -> None:
    async def scenario() -> int:
        procs = TaskProcesses(tmp_path)
        running = await procs.start("g", ["sh", "-c", "sleep 30 & echo child=$!; wait"], {}, 0)
        await until(lambda: bool(re.findall(r"^child=(\d+)$", running.log_path.read_text(), re.M)))
        child = int(re.findall(r"^child=(\d+)$", running.log_path.read_text(), re.M)[0])
        await procs.stop("g", grace=WAIT)
        return child

    child = run(scenario())

    async def wait_gone() -> None:
        await until(lambda: _gone(child))

    run(wait_gone())


def test_a_started_taskapp_becomes_ready_and_stop_all_ends_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        procs = TaskProcesses(tmp_path)
        running = await procs.start("app", builtin_command(), {"TURNOUT_TASK_ARN": "arn:t"}, 2)
        assert await procs.wait_ready("app", WAIT) is True
        _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", running.ports[1]), WAIT)
        writer.close()
        await procs.stop_all(grace=WAIT)
        assert procs.running() == {}
        assert await procs.wait_ready("app", 0.5) is False

    run(scenario())


def test_wait_ready_is_false_when_the_program_exits_or_never_listens(tmp_path: Path) -> None:
    async def scenario() -> None:
        procs = TaskProcesses(tmp_path)
        await procs.start("dies", ["sh", "-c", "exit 1"], {}, 1)
        assert await procs.wait_ready("dies", WAIT) is False
        await procs.start("deaf", ["sleep", "30"], {}, 1)
        assert await procs.wait_ready("deaf", 0.3) is False
        assert await procs.wait_ready("unknown", 0.3) is False
        await procs.stop_all(grace=WAIT)

    run(scenario())


def test_what_a_program_leaves_behind_ends_when_it_exits_by_itself(tmp_path: Path) -> None:
    exits: list[int] = []

    async def scenario() -> None:
        procs = TaskProcesses(tmp_path, on_exit=lambda key, code: exits.append(code))
        running = await procs.start("orphan", ["sh", "-c", "sleep 30 & echo child=$!; exit 0"], {}, 0)
        await until(lambda: exits == [0])
        child = int(re.findall(r"^child=(\d+)$", running.log_path.read_text(), re.M)[0])
        await until(lambda: _gone(child))

    run(scenario())


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie answers kill 0 until init reaps it
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True

"""Peak memory of a Turnout server under oversized request bodies (issue 11, finding 6): a script, not a test.

    .venv/bin/python bench/memory.py                          # this checkout's Turnout
    .venv/bin/python bench/memory.py --turnout-src /tmp/old   # another checkout's (git archive COMMIT | tar -x)

Starts one ``turnout serve`` on a free 127.0.0.1 port and reads the server's resident memory from
``/proc/PID/status`` (``VmRSS`` now, ``VmHWM`` the peak so far) around each step:

1. one signed ECS ``DescribeClusters`` whose JSON body is ``--mb`` MB (default 15) of cluster names;
2. ``--parallel`` (default 20) of those at once, each on its own connection;
3. the resident memory left afterwards;
4. one ``--big-mb`` MB (default 100) body: whether the client gets an HTTP answer or a reset;
5. the largest bodies the limits accept, ``--parallel`` at once: DescribeClusters bodies just under 1 MiB, then
   signed S3 PutObject bodies of 16 MiB.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import HOST, REGION, TURNOUT, ServerProcess, ServerSpec, boto_client

TARGET = "AmazonEC2ContainerServiceV20141113.DescribeClusters"


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def signed_json(port: int, size: int) -> bytes:
    """A signed ECS DescribeClusters whose body is about ``size`` bytes of cluster names."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    names = [f"cluster-{i:08d}" for i in range(size // 19)]
    body = json.dumps({"clusters": names}).encode()
    host = f"{HOST}:{port}"
    request = AWSRequest(method="POST", url=f"http://{host}/", data=body, headers={
        "Host": host, "X-Amz-Target": TARGET, "Content-Type": "application/x-amz-json-1.1"})
    SigV4Auth(Credentials("test", "test"), "ecs", REGION).add_auth(request)
    head = "POST / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in request.headers.items()
                                            if k.lower() != "content-length")
    head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    return head.encode("latin-1") + body


def signed_put(port: int, bucket: str, key: str, size: int) -> bytes:
    """A signed S3 PutObject of ``size`` bytes (payload hash signed, as boto3 sends over plain HTTP)."""
    import hashlib

    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = b"s" * size
    host = f"{HOST}:{port}"
    request = AWSRequest(method="PUT", url=f"http://{host}/{bucket}/{key}", data=body, headers={
        "Host": host, "X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()})
    S3SigV4Auth(Credentials("test", "test"), "s3", REGION).add_auth(request)
    head = f"PUT /{bucket}/{key} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in request.headers.items()
                                                         if k.lower() != "content-length")
    head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    return head.encode("latin-1") + body


def parallel(port: int, raws: list[bytes]) -> list[str]:
    answers: list[str] = []
    threads = [threading.Thread(target=lambda raw=raw: answers.append(send(port, raw))) for raw in raws]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(set(answers))


def send(port: int, raw: bytes, timeout: float = 120.0) -> str:
    """Send ``raw`` and read the answer: ``HTTP <status>`` or the socket error the client saw."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as sock:
            view = memoryview(raw)
            for start in range(0, len(raw), 1 << 20):
                sock.sendall(view[start:start + (1 << 20)])
            answer = b""
            while b"\r\n" not in answer:
                chunk = sock.recv(65536)
                if not chunk:
                    return "closed without an answer"
                answer += chunk
            return "HTTP " + answer.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)[1]
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turnout-src", type=Path, help="run the Turnout of this directory (its src/ on PYTHONPATH)")
    parser.add_argument("--mb", type=int, default=15)
    parser.add_argument("--parallel", type=int, default=20)
    parser.add_argument("--big-mb", type=int, default=100)
    args = parser.parse_args()
    spec: ServerSpec = TURNOUT
    if args.turnout_src is not None:
        spec = ServerSpec("turnout", TURNOUT.argv, TURNOUT.ready_path,
                          (("PYTHONPATH", str(args.turnout_src.resolve() / "src")),))
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="turnout-mem-") as tmp:
        server = ServerProcess(spec, Path(tmp)).start()
        try:
            server.wait_ready()
            assert server.process is not None
            pid = server.process.pid
            raw = signed_json(server.port, args.mb * 1_000_000)
            results["body_bytes"] = len(raw)
            results["rss_idle_kib"] = _kib(pid, "VmRSS")
            hwm = _kib(pid, "VmHWM")
            results["one_answer"] = send(server.port, raw)
            results["one_peak_rise_kib"] = _kib(pid, "VmHWM") - hwm
            hwm = _kib(pid, "VmHWM")
            results["parallel_answers"] = parallel(server.port, [raw] * args.parallel)
            results["parallel_peak_rise_kib"] = _kib(pid, "VmHWM") - hwm
            results["rss_after_kib"] = _kib(pid, "VmRSS")
            results["peak_kib"] = _kib(pid, "VmHWM")
            big = (f"PUT /b/k HTTP/1.1\r\nHost: {HOST}\r\nX-Amz-Target: {TARGET}\r\n"
                   f"Content-Length: {args.big_mb * 1_000_000}\r\n\r\n").encode() + b"\0" * (args.big_mb * 1_000_000)
            results["big_body_answer"] = send(server.port, big)
            del big, raw
            hwm = _kib(pid, "VmHWM")
            fits = signed_json(server.port, 900_000)
            results["accepted_json_bytes"] = len(fits)
            results["accepted_json_one_answer"] = send(server.port, fits)
            results["accepted_json_one_peak_rise_kib"] = _kib(pid, "VmHWM") - hwm
            hwm = _kib(pid, "VmHWM")
            results["accepted_json_answers"] = parallel(server.port, [fits] * args.parallel)
            results["accepted_json_peak_rise_kib"] = _kib(pid, "VmHWM") - hwm
            boto_client(server.port, "s3").create_bucket(Bucket="memory")
            hwm = _kib(pid, "VmHWM")
            puts = [signed_put(server.port, "memory", f"k{i}", 16 * 1024 * 1024) for i in range(args.parallel)]
            results["s3_put_answers"] = parallel(server.port, puts)
            results["s3_put_peak_rise_kib"] = _kib(pid, "VmHWM") - hwm
            results["rss_end_kib"] = _kib(pid, "VmRSS")
        finally:
            server.stop()
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""The parallel-ssh side of the benchmark (run with bench/.venv/bin/python).

    pssh_run.py --hosts-file F --port P --key K --pool-size C [--known-hosts KH]
                [--proxy-host B --proxy-port BP] -- COMMAND

Runs COMMAND on every address in F with parallel-ssh's ParallelSSHClient (the
native client: ssh2-python over libssh2, gevent), used the way its docs show:
run_command() then join(), then read each host's stdout and exit code.
Prints one JSON line: {"total", "ok", "failed": [{"host", "error"}...]}.
Exit status 0 if every host succeeded, 2 otherwise.

Concurrency: pool_size bounds the hosts in flight, but in parallel-ssh
2.16 each host's SSH handshake runs as a blocking libssh2 call in gevent's
thread pool (10 threads), and its public-key login as a blocking call in the
event loop itself, which stalls every other host meanwhile. On loopback this
costs little; at 50 ms RTT the logins run one after another (~0.12 s each,
about 2 minutes for 1000 hosts whatever the pool size). The benchmark's
"parallel-ssh" row measures the library as shipped. --auth-in-threads (with
--threads) moves the login into the thread pool too: not a parallel-ssh
option, a what-if row ("parallel-ssh-thr", BENCH_TOOLS=...,pssh-threaded).

Host keys: ParallelSSHClient has no host key verification at all (it never
looks at known_hosts), so by default none is done, exactly as users get it.
--known-hosts adds an opt-in check after each handshake (host key bytes
compared with the plain `[addr]:port` entries of that file, parsed once) for a
like-for-like comparison with the tools that do check; it is slightly slower.
"""
from __future__ import annotations

import argparse
import base64
import json
import sys

from gevent import get_hub
from pssh.clients import ParallelSSHClient
import pssh.clients.native.parallel as native_parallel
import pssh.clients.native.single as native_single
from pssh.clients.native.single import SSHClient


def load_known_hosts(path: str) -> dict[str, bytes]:
    """Plain (unhashed) OpenSSH known_hosts entries: name -> key blob."""
    keys: dict[str, bytes] = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 3 or parts[0].startswith(("#", "|", "@")):
                continue
            for name in parts[0].split(","):
                keys[name] = base64.b64decode(parts[2])
    return keys


def install_host_key_check(known: dict[str, bytes]) -> None:
    class CheckingSSHClient(SSHClient):
        def _init_session(self, retries=1):
            super()._init_session(retries=retries)
            name = self.host if self.port == 22 else f"[{self.host}]:{self.port}"
            blob, _keytype = self.session.hostkey()
            if known.get(name) != blob:
                raise RuntimeError(f"host key for {name} not found or mismatched in known_hosts")

    # ParallelSSHClient builds its per-host clients from this module global.
    native_parallel.SSHClient = CheckingSSHClient


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts-file", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", default="root")
    ap.add_argument("--key", required=True)
    ap.add_argument("--pool-size", type=int, required=True)
    ap.add_argument("--known-hosts")
    ap.add_argument("--threads", type=int,
                    help="size of gevent's thread pool, where parallel-ssh runs every "
                         "(blocking) libssh2 handshake and login; default: the library's (10)")
    ap.add_argument("--auth-in-threads", action="store_true",
                    help="run the (blocking) login in the thread pool, not in the event loop")
    ap.add_argument("--proxy-host", help="a jump host: parallel-ssh's own proxy support")
    ap.add_argument("--proxy-port", type=int, default=22)
    ap.add_argument("--expect", default="PRETTY_NAME=",
                    help="a host counts as ok only if its stdout contains this")
    ap.add_argument("command", nargs="+")
    args = ap.parse_args()

    with open(args.hosts_file) as f:
        hosts = [line.strip() for line in f if line.strip()]
    if args.known_hosts:
        install_host_key_check(load_known_hosts(args.known_hosts))
    if args.threads:
        # parallel-ssh took this pool at import (pssh.clients.native.single.THREAD_POOL).
        get_hub().threadpool.maxsize = args.threads
    if args.auth_in_threads:
        blocking_auth = native_single.SSHClient._auth_retry

        def auth_in_thread(self, retries=1):
            return native_single.THREAD_POOL.apply(blocking_auth, (self,), {"retries": retries})
        native_single.SSHClient._auth_retry = auth_in_thread

    # Library defaults otherwise (num_retries=3, timeout=None): no tuning for
    # the benchmark beyond what the brief fixes (pool size, key, no agent).
    proxy = {}
    if args.proxy_host:
        # The bastion logs in as the hosts do (same user and key), as the other tools' runs do.
        proxy = {"proxy_host": args.proxy_host, "proxy_port": args.proxy_port,
                 "proxy_user": args.user, "proxy_pkey": args.key}
    client = ParallelSSHClient(hosts, user=args.user, port=args.port, pkey=args.key,
                               pool_size=args.pool_size, allow_agent=False,
                               identity_auth=False, **proxy)
    output = client.run_command(" ".join(args.command), stop_on_errors=False)
    client.join(output)
    ok = 0
    failed = []
    for host_out in output:
        if host_out.exception is not None:
            failed.append({"host": host_out.host, "error": repr(host_out.exception)[:200]})
            continue
        stdout = "\n".join(host_out.stdout or [])
        if host_out.exit_code == 0 and args.expect in stdout:
            ok += 1
        else:
            failed.append({"host": host_out.host, "error": f"exit {host_out.exit_code}"})
    print(json.dumps({"total": len(hosts), "ok": ok, "failed": failed[:20]}))
    return 0 if ok == len(hosts) else 2


if __name__ == "__main__":
    sys.exit(main())

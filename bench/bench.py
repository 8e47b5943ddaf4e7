#!/usr/bin/env python3
"""Benchmark driver: patchctl exec vs parallel-ssh vs Ansible vs OpenSSH (xargs -P).

Started by bench/run.sh, which prepares the virtualenv and checks the lab;
this file does the rest with the Python standard library only:

  * generates N distinct loopback "hosts" (127.0.1.1, 127.0.1.2, ...) served by
    one sshd, and for each scenario one inventory (Ansible YAML,
    read by patchctl and Ansible), one address list (xargs, parallel-ssh) and
    one known_hosts file with exactly those `[addr]:port` entries (one host
    key for all: they are one sshd);
  * starts its own sshd (the lab's config, keys and chroot on another port),
    and bench/latency_proxy.py in front of it for scenarios with an RTT;
  * runs every tool on the same command at the same concurrency, alternating
    tools run by run (A B C D A B C D ...), each run cold and time-bounded;
  * measures per run: wall time, controller CPU (user+sys of the tool's whole
    process tree, from wait4()), peak RSS, the sshd listener's CPU delta, the
    proxy's CPU delta, and how many hosts really succeeded;
  * prints a table and writes bench/results/latest.{csv,txt} plus timestamped
    copies.

Environment (all optional; run.sh documents them too):
  BENCH_SCENARIOS   comma list of n100,n1000,n1000-rtt50,jump100-rtt50 (default: all
                    four); jump100: 100 hosts behind one bastion that is RTT away,
                    the hosts one LAN hop from it (each tool's own jump-host support)
  BENCH_TOOLS       comma list of patchctl,pssh,ansible,ssh (default: these
                    four), plus pssh-threaded: a what-if parallel-ssh whose
                    logins do not block its event loop (see pssh_run.py), and
                    patchctl-scan: `patchctl scan` beside exec, for the
                    scan-cost target (~0.9 s of sshd CPU per host: n100 only)
  BENCH_RUNS_100    repetitions for N=100  (default 5)
  BENCH_RUNS_1000   repetitions for N=1000 (default 3)
  BENCH_RUNS_1000_SLOW  ... of which Ansible and xargs+ssh do (default 1)
  BENCH_RUNS_JUMP   repetitions for jump100 (default 3, every tool)
  BENCH_CONC_1000   concurrency for the N=1000 no-latency case (default 100)
  BENCH_RTT_MS      RTT of the latency scenario (default 50)
  BENCH_TIMEOUT     seconds allowed per tool run (default 600)
  BENCH_BUDGET      seconds for the whole benchmark; runs not started by then
                    are skipped and reported as such (default 1500)
  BENCH_PROXY_PORT  latency proxy port (default 22322)
  BENCH_SSHD        private (default): the benchmark's own sshd, built from the
                    lab's config, keys and chroot, on BENCH_SSHD_PORT (22422);
                    lab: the shared lab sshd on LAB_PORT (others' use of it,
                    e.g. a concurrent `make test`, then adds to the figures)
  PATCHCTL_BIN      patchctl binary (default .build/release/patchctl)
  BENCH_PATCHCTL_MODE  auto (exec if the binary has it, else skip), exec, scan
                    (labelled patchctl-scan: a heavier job, not comparable), off
  BENCH_PSSH_HOSTKEY  1: add a known_hosts check to parallel-ssh (it has none)
  BENCH_CGROUP_CHECK  1 (default): cross-check the sshd CPU figure with a
                    cpuacct cgroup around the sshd listener (cgroup v1 only)
"""
from __future__ import annotations

import atexit
import csv
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
WORK = RESULTS / "work"            # generated inventories etc. (git-ignored with results/)
VENV = BENCH / ".venv"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
NCPU = os.cpu_count() or 1
COMMAND = ["cat", "/etc/os-release"]
EXPECT = "PRETTY_NAME="            # every host's output must contain this


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Lab facts
# --------------------------------------------------------------------------
def read_lab_env() -> dict[str, str]:
    env = {}
    for line in (REPO / ".lab" / "lab.env").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            env[k] = v.strip("'\"")
    return env


def lab_listener_pid(lab_dir: str) -> int:
    """The lab sshd listener: oldest process whose command line is
    `sshd -f LAB_DIR/sshd_config -E ...` (same rule as lab/common.sh).
    Waits a little: another session may be restarting the lab."""
    for _ in range(300):
        pid = find_listener(lab_dir)
        if pid:
            return pid
        time.sleep(0.1)
    sys.exit("bench: the lab sshd is not running (make lab)")


def find_listener(lab_dir: str) -> int | None:
    needle = f"sshd -f {lab_dir}/sshd_config -E"
    best = None
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if needle in cmd:
                start = int((d / "stat").read_text().rsplit(")", 1)[1].split()[19])
                if best is None or start < best[0]:
                    best = (start, int(d.name))
        except OSError:
            continue
    return best[1] if best else None


def proc_cpu_s(pid: int, children: bool = True) -> float:
    """utime+stime (+cutime+cstime: CPU of reaped children) of a process."""
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(f[11]) + int(f[12]) + ((int(f[13]) + int(f[14])) if children else 0)
    return ticks / CLK_TCK


def child_count(pid: int) -> int:
    n = 0
    for t in Path(f"/proc/{pid}/task").iterdir():
        try:
            n += len((t / "children").read_text().split())
        except OSError:
            pass
    return n


def system_busy_s() -> float:
    """Non-idle CPU time of the whole machine (all cores), from /proc/stat."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = f[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def listen_overflows() -> int:
    """TcpExt ListenOverflows: SYNs/ACKs dropped because a listen queue was full."""
    lines = Path("/proc/net/netstat").read_text().splitlines()
    for head, vals in zip(lines[::2], lines[1::2]):
        if head.startswith("TcpExt:"):
            d = dict(zip(head.split()[1:], vals.split()[1:]))
            return int(d.get("ListenOverflows", 0))
    return 0


class CgroupCheck:
    """Cross-check of the /proc figure: puts the sshd listener into a
    cpuacct cgroup (v1) for the benchmark's duration. New per-connection
    processes inherit it, so cpuacct.usage counts every sshd process and
    session command, reaped or not. If it agrees with the listener's
    utime+stime+cutime+cstime delta, the /proc method misses nothing.
    Everything is moved back and the cgroup removed at the end."""

    ROOT = Path("/sys/fs/cgroup/cpuacct")

    def __init__(self, listener: int):
        self.listener = listener
        self.path = self.ROOT / f"patchctl-bench-{os.getpid()}"
        self.origin = None
        try:
            for line in Path(f"/proc/{listener}/cgroup").read_text().splitlines():
                _, ctrls, rel = line.split(":", 2)
                if "cpuacct" in ctrls.split(","):
                    self.origin = self.ROOT / rel.lstrip("/")
            if self.origin is None or not (self.ROOT / "cgroup.procs").exists():
                raise OSError("no cgroup v1 cpuacct hierarchy")
            self.path.mkdir()
            (self.path / "cgroup.procs").write_text(str(listener))
            self.ok = True
        except OSError as e:
            log(f"cgroup cross-check unavailable ({e}); server CPU from /proc only")
            self.ok = False

    def follow(self, listener: int) -> None:
        """The lab sshd was restarted: measure the new listener instead."""
        if self.ok:
            try:
                (self.path / "cgroup.procs").write_text(str(listener))
            except OSError:
                self.ok = False

    def usage_s(self) -> float | None:
        if not self.ok:
            return None
        return int((self.path / "cpuacct.usage").read_text()) / 1e9

    def close(self) -> None:
        if not self.ok:
            return
        self.ok = False
        # Move everything back (the listener, sessions still closing, and in
        # lab mode whatever other users started), retrying while processes
        # are being forked or are exiting.
        for _ in range(50):
            try:
                for pid in (self.path / "cgroup.procs").read_text().split():
                    try:
                        (self.origin / "cgroup.procs").write_text(pid)
                    except OSError:
                        pass
                self.path.rmdir()
                return
            except OSError as e:
                err = e
                time.sleep(0.1)
        log(f"could not remove {self.path}: {err}")


# --------------------------------------------------------------------------
# Process-tree measurement
# --------------------------------------------------------------------------
def tree_pids(root: int) -> list[int]:
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        try:
            for t in os.scandir(f"/proc/{pid}/task"):
                try:
                    with open(f"/proc/{pid}/task/{t.name}/children") as f:
                        todo.extend(int(c) for c in f.read().split())
                except OSError:
                    pass
        except OSError:
            pass
    return pids


class RssSampler(threading.Thread):
    """Samples the summed RSS of a process tree (every 0.2 s, plus once at
    start). For multi-process tools (xargs+ssh, Ansible's forks) this is the
    'all processes at once' figure; summing RSS counts shared pages (libraries,
    Ansible's copy-on-write fork memory) once per process, so it is an upper
    bound. Sampling, so a peak shorter than 0.2 s can be missed."""

    def __init__(self, root: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.peak_kb = 0
        self.stop_evt = threading.Event()

    def run(self) -> None:
        while True:
            total = 0
            for pid in tree_pids(self.root):
                try:
                    with open(f"/proc/{pid}/statm") as f:
                        total += int(f.read().split()[1]) * PAGE // 1024
                except (OSError, ValueError, IndexError):
                    pass
            self.peak_kb = max(self.peak_kb, total)
            if self.stop_evt.wait(self.interval):
                return

    def stop(self) -> None:
        self.stop_evt.set()
        self.join()


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


LIVE_GROUPS: set[int] = set()      # process groups to kill if we are interrupted


@dataclass
class RunResult:
    tool: str
    wall_s: float
    ctrl_cpu_s: float
    maxrss_mb: float               # largest single process (wait4 ru_maxrss)
    tree_rss_mb: float             # sampled sum over the tree
    server_cpu_s: float
    server_cpu_cg_s: float | None
    proxy_cpu_s: float | None
    other_cpu_s: float             # machine busy time not explained by the above
    listen_overflows: int
    exit_code: int
    timed_out: bool
    ok_hosts: int
    hosts: int
    note: str = ""

    @property
    def success(self) -> bool:
        return not self.timed_out and self.ok_hosts == self.hosts


def measure(tool: str, cmd: list[str], env: dict, outdir: Path, timeout: float,
            hosts: int, parse, ctx) -> RunResult:
    """Run one tool once; everything else on the machine is only observed."""
    outdir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = outdir / "stdout", outdir / "stderr"
    (outdir / "cmd").write_text(" ".join(cmd) + "\n")
    if not Path(f"/proc/{ctx.listener}").exists():      # lab restarted since the last run
        ctx.relocate()
    base_children = child_count(ctx.listener)
    srv0, cg0 = proc_cpu_s(ctx.listener), ctx.cgroup.usage_s()
    prx0 = proc_cpu_s(ctx.proxy.pid) if ctx.proxy else None
    busy0, lo0 = system_busy_s(), listen_overflows()
    with open(out_path, "ab") as out, open(err_path, "ab") as err:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                             env=env, start_new_session=True)
        LIVE_GROUPS.add(p.pid)
        sampler = RssSampler(p.pid)
        sampler.start()
        timed_out = threading.Event()

        def on_timeout():
            timed_out.set()
            kill_group(p.pid)
        timer = threading.Timer(timeout, on_timeout)
        timer.daemon = True        # never keeps an interrupted benchmark alive
        timer.start()
        try:
            # wait4: the rusage covers the tool and every descendant it reaped
            # (ssh processes under xargs, Ansible's workers and their ssh).
            _, status, ru = os.wait4(p.pid, 0)
            wall = time.monotonic() - t0
            p.returncode = os.waitstatus_to_exitcode(status)
        finally:                   # also when interrupted (SIGTERM -> SystemExit)
            timer.cancel()
            sampler.stop()
            kill_group(p.pid)      # nothing of a run may outlive it
            LIVE_GROUPS.discard(p.pid)
    # sshd accounts a connection's CPU to the listener (cutime/cstime) only
    # when it reaps that connection's process: wait until the listener is back
    # to the children it had before (bounded; other lab users may come and go).
    deadline = time.monotonic() + 15
    try:
        while child_count(ctx.listener) > base_children and time.monotonic() < deadline:
            time.sleep(0.05)
        srv = proc_cpu_s(ctx.listener) - srv0
        restarted = False
    except FileNotFoundError:
        # Someone restarted the lab (make lab / make test) during the run:
        # its figures are lost, and the run does not count.
        restarted = True
        srv = 0.0
        ctx.relocate()
    cg1 = ctx.cgroup.usage_s()
    prx = proc_cpu_s(ctx.proxy.pid) - prx0 if ctx.proxy else None
    busy = system_busy_s() - busy0
    ctrl = ru.ru_utime + ru.ru_stime
    out_text = out_path.read_text(errors="replace")
    ok, note = (0, "timed out") if timed_out.is_set() else parse(out_text, p.returncode)
    if restarted:
        ok, note = min(ok, hosts - 1), "the lab sshd was restarted during the run"
    if p.returncode != 0:
        # Every tool's contract: exit 0 if and only if all hosts succeeded.
        ok = min(ok, hosts - 1)
    return RunResult(
        tool=tool, wall_s=wall, ctrl_cpu_s=ctrl, maxrss_mb=ru.ru_maxrss / 1024,
        tree_rss_mb=sampler.peak_kb / 1024, server_cpu_s=srv,
        server_cpu_cg_s=(cg1 - cg0) if cg1 is not None else None,
        proxy_cpu_s=prx, other_cpu_s=busy - ctrl - srv - (prx or 0),
        listen_overflows=listen_overflows() - lo0, exit_code=p.returncode,
        timed_out=timed_out.is_set(), ok_hosts=ok, hosts=hosts, note=note)


# --------------------------------------------------------------------------
# Scenarios and generated files
# --------------------------------------------------------------------------
@dataclass
class Scenario:
    name: str
    hosts: int
    concurrency: int
    rtt_ms: int
    runs: int
    slow_runs: int | None = None   # runs for the slow peers (Ansible, xargs+ssh), if fewer
    jump: bool = False             # behind a bastion: only the bastion is RTT away
    port: int = 0                  # filled in: lab port or proxy port (jump: the targets' sshd port)
    bastion_port: int = 0          # jump: the bastion's port (the latency proxy)
    dir: Path = field(default_factory=Path)


# The bastion of the jump scenario: the latency proxy's address in front of the same sshd,
# which then opens each target (127.0.1.x on the sshd's own port, no added latency) itself.
BASTION = "127.0.9.1"


def address(i: int) -> str:
    """i-th benchmark host: 127.0.1.1 ... 127.0.1.250, 127.0.2.1, ...
    (127.0.0.x is left to the lab's own tests)."""
    return f"127.0.{1 + i // 250}.{1 + i % 250}"


def write_files(s: Scenario, key: str, hostkey: str) -> None:
    s.dir.mkdir(parents=True, exist_ok=True)
    addrs = [address(i) for i in range(s.hosts)]
    (s.dir / "hosts.txt").write_text("".join(a + "\n" for a in addrs))
    bastion = f"[{BASTION}]:{s.bastion_port} {hostkey}\n" if s.jump else ""
    (s.dir / "known_hosts").write_text(bastion + "".join(f"[{a}]:{s.port} {hostkey}\n" for a in addrs))
    lines = ["# Generated by bench/bench.py: one host per loopback address.",
             "all:", "  vars:", "    ansible_user: root", f"    ansible_port: {s.port}",
             f"    ansible_ssh_private_key_file: {key}"]
    if s.jump:
        # What Ansible users write; patchctl reads the same line.
        lines.append(f"    ansible_ssh_common_args: '-o ProxyJump=root@{BASTION}:{s.bastion_port}'")
        # OpenSSH starts the jump's own ssh with -F only (no -o options): the options go in a file.
        (s.dir / "ssh_config").write_text(
            "# Generated by bench/bench.py: ssh_options() as a file, for the jump's own ssh too.\n"
            "Host *\n" + "".join(f"    {o.replace('=', ' ', 1)}\n"
                                 for o in ssh_options(s.dir / "known_hosts", CONNECT_TIMEOUT)[3::2])
            + f"    IdentityFile {key}\n")
    lines.append("  hosts:")
    for i, a in enumerate(addrs):
        lines += [f"    bench-{i + 1:04d}:", f"      ansible_host: {a}"]
    (s.dir / "inventory.yml").write_text("\n".join(lines) + "\n")


# --------------------------------------------------------------------------
# Tools
# --------------------------------------------------------------------------
def ssh_options(known_hosts: Path, connect_timeout: int) -> list[str]:
    """OpenSSH client options shared by xargs+ssh and Ansible: no user or
    system config, only our key, strict checking against our known_hosts,
    no connection sharing (every run is cold)."""
    return ["-F", "/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
            "-o", f"UserKnownHostsFile={known_hosts}", "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "StrictHostKeyChecking=yes", "-o", "ControlMaster=no",
            "-o", f"ConnectTimeout={connect_timeout}"]


def ssh_args(s: Scenario, connect_timeout: int) -> list[str]:
    """ssh_options(), or for a jump scenario the same options from a file (-F), which
    OpenSSH also hands to the ssh it starts for the jump."""
    if s.jump:
        return ["-F", str(s.dir / "ssh_config")]
    return ssh_options(s.dir / "known_hosts", connect_timeout)


CONNECT_TIMEOUT = 60  # generous: at 1000 connections on 2 cores sshd is slow to answer


class Tool:
    name = ""
    slow = False                   # see Scenario.slow_runs

    def command(self, s: Scenario, ctx) -> tuple[list[str], dict]:
        raise NotImplementedError

    def parse(self, out: str, rc: int) -> tuple[int, str]:
        raise NotImplementedError


class Patchctl(Tool):
    def __init__(self, binary: str, mode: str):
        self.binary, self.mode = binary, mode
        self.name = "patchctl" if mode == "exec" else "patchctl-scan"
        self.jump = False

    def command(self, s, ctx):
        self.jump = s.jump
        db = s.dir / "patchctl-run.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)  # fresh history each run
        args = [self.binary, self.mode, "-i", str(s.dir / "inventory.yml"),
                "--forks", str(s.concurrency), "--known-hosts", str(s.dir / "known_hosts"),
                "--db", str(db), "--output", "json", "--connect-timeout", str(CONNECT_TIMEOUT)]
        if s.jump:
            # The bastion logs in with the run's default identity, as OpenSSH's jump does (the other
            # tools get the same key from the generated ssh_config's IdentityFile).
            args += ["--private-key", ctx.key]
        if self.mode == "exec":
            args += ["--", *COMMAND]
        return args, dict(ctx.base_env)

    def parse(self, out, rc):
        try:
            doc = json.loads(out)
        except json.JSONDecodeError as e:
            return 0, f"exit {rc}, output is not JSON ({e})"
        ok = 0
        for h in doc.get("hosts", []):
            if h.get("status") != "ok":
                continue
            if self.mode == "exec" and (h.get("exit_code") != 0 or EXPECT not in (h.get("stdout") or "")):
                continue
            if self.jump and not h.get("via"):
                continue           # reached directly (loopback allows it): not the scenario
            ok += 1
        return ok, f"exit {rc}"


class Pssh(Tool):
    name = "parallel-ssh"

    def command(self, s, ctx):
        args = [str(VENV / "bin" / "python"), str(BENCH / "pssh_run.py"),
                "--hosts-file", str(s.dir / "hosts.txt"), "--port", str(s.port),
                "--key", ctx.key, "--pool-size", str(s.concurrency)]
        if os.environ.get("BENCH_PSSH_HOSTKEY") == "1":
            args += ["--known-hosts", str(s.dir / "known_hosts")]
        if s.jump:
            args += ["--proxy-host", BASTION, "--proxy-port", str(s.bastion_port)]
        return args + ["--", *COMMAND], dict(ctx.base_env)

    def parse(self, out, rc):
        try:
            doc = json.loads(out.strip().splitlines()[-1])
        except (json.JSONDecodeError, IndexError):
            return 0, f"exit {rc}, no summary line"
        note = f"exit {rc}"
        if doc["failed"]:
            note += f"; e.g. {doc['failed'][0]}"
        return doc["ok"], note


class PsshThreaded(Pssh):
    """What-if, not in the default set: parallel-ssh with its login moved
    into a thread pool as large as the pool size (see pssh_run.py)."""
    name = "parallel-ssh-thr"

    def command(self, s, ctx):
        args, env = super().command(s, ctx)
        cut = args.index("--")
        return args[:cut] + ["--auth-in-threads", "--threads", str(s.concurrency)] + args[cut:], env


class Ansible(Tool):
    name = "ansible"
    slow = True
    LINE = re.compile(r"^(\S+) \| CHANGED \| rc=0 >>\r?$", re.M)

    def command(self, s, ctx):
        home = s.dir / "ansible"
        for d in ("home", "tmp"):
            (home / d).mkdir(parents=True, exist_ok=True)
        cfg = home / "ansible.cfg"
        # A private config so no ansible.cfg from the cwd, ~ or /etc applies.
        cfg.write_text("[defaults]\nhost_key_checking = True\nretry_files_enabled = False\n"
                       "interpreter_python = auto_silent\n")
        env = dict(ctx.base_env)
        env.update({
            "ANSIBLE_CONFIG": str(cfg),
            "ANSIBLE_HOME": str(home / "home"),
            "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
            "ANSIBLE_HOST_KEY_CHECKING": "True",
            # Replaces Ansible's default ssh_args (-C -o ControlMaster=auto
            # -o ControlPersist=60s): no master left behind to make the next
            # run warm, and the same options as the xargs+ssh run.
            "ANSIBLE_SSH_ARGS": " ".join(ssh_args(s, CONNECT_TIMEOUT)),
            "ANSIBLE_TIMEOUT": str(CONNECT_TIMEOUT),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_DEPRECATION_WARNINGS": "False",
        })
        return [str(VENV / "bin" / "ansible"), "all", "-i", str(s.dir / "inventory.yml"),
                "-m", "raw", "-a", " ".join(COMMAND), "-f", str(s.concurrency)], env

    def parse(self, out, rc):
        ok = len(set(self.LINE.findall(out)))
        return min(ok, out.count(EXPECT)), f"exit {rc}"


class XargsSsh(Tool):
    name = "xargs+ssh"
    slow = True

    def command(self, s, ctx):
        jump = ["-J", f"root@{BASTION}:{s.bastion_port}"] if s.jump else []
        return (["xargs", "-a", str(s.dir / "hosts.txt"), "-P", str(s.concurrency), "-I", "{}",
                 "ssh", *ssh_args(s, CONNECT_TIMEOUT), *jump,
                 "-i", ctx.key, "-p", str(s.port), "root@{}", " ".join(COMMAND)],
                dict(ctx.base_env))

    def parse(self, out, rc):
        # Each host prints one PRETTY_NAME line; xargs exits 0 only if every
        # ssh did (measure() caps the count below N for any non-zero exit).
        return out.count(EXPECT), f"exit {rc}"


# --------------------------------------------------------------------------
# Proxy
# --------------------------------------------------------------------------
class Proxy:
    def __init__(self, port: int, rtt_ms: int, upstream: str, logdir: Path):
        logdir.mkdir(parents=True, exist_ok=True)
        self.err = open(logdir / "proxy.log", "ab")
        self.p = subprocess.Popen(
            [sys.executable, str(BENCH / "latency_proxy.py"), "--listen-port", str(port),
             "--rtt-ms", str(rtt_ms), "--upstream", upstream],
            stdout=subprocess.PIPE, stderr=self.err, stdin=subprocess.DEVNULL)
        self.pid = self.p.pid
        (WORK / "proxy.pid").write_text(f"{self.pid}\n")   # for run.sh's trap
        if self.p.stdout.readline().strip() != b"ready":
            self.stop()
            sys.exit(f"bench: latency proxy did not start (see {logdir / 'proxy.log'})")

    def stop(self) -> None:
        stop_process(self.p)
        self.err.close()
        (WORK / "proxy.pid").unlink(missing_ok=True)


def stop_process(p: subprocess.Popen) -> None:
    """TERM, then KILL after 10 s: a helper process must never outlive the run."""
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


class PrivateSshd:
    """The benchmark's own sshd: the lab's generated config, host key,
    authorized keys and chroot tree (so sessions run no host start-up files),
    on a port of its own and in the foreground as our child. Nothing else
    connects to it, so its CPU is the benchmark's alone; the shared lab sshd
    also serves the test suite of whoever works on this machine."""

    def __init__(self, lab_dir: str, port: int, logdir: Path):
        src = Path(lab_dir) / "sshd_config"
        keep = [l for l in src.read_text().splitlines()
                if not l.startswith(("Port ", "PidFile ", "ListenAddress "))]
        cfg = WORK / "sshd_config"
        # Global options must come before the config's Match blocks: prepend.
        cfg.write_text(f"# Generated by bench/bench.py from {src}\nPort {port}\n"
                       f"ListenAddress 0.0.0.0\nPidFile {WORK / 'sshd.pid'}\n" + "\n".join(keep) + "\n")
        subprocess.run(["/usr/sbin/sshd", "-t", "-f", str(cfg)], check=True)
        self.port = port
        self.p = subprocess.Popen(["/usr/sbin/sshd", "-D", "-f", str(cfg), "-E", str(logdir / "sshd.log")],
                                  stdin=subprocess.DEVNULL, start_new_session=True)
        self.pid = self.p.pid
        for _ in range(100):
            if self.p.poll() is not None:
                sys.exit(f"bench: private sshd exited (see {logdir / 'sshd.log'})")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as c:
                    if c.recv(64).startswith(b"SSH-2.0-"):
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        sys.exit(f"bench: private sshd on port {port} did not answer")

    def stop(self) -> None:
        stop_process(self.p)


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------
COLUMNS = ["scenario", "tool", "hosts", "concurrency", "rtt_ms", "runs", "median_wall_s",
           "controller_cpu_s", "server_cpu_s", "peak_rss_mb", "ok_hosts",
           # extras, after the agreed columns
           "failed_runs", "ctrl_cpu_ms_per_host", "server_cpu_ms_per_host", "floor_s",
           "wall_over_floor", "peak_tree_rss_mb", "server_cpu_cgroup_s", "proxy_cpu_s",
           "other_cpu_s", "listen_overflows", "patchctl_wall_ratio", "patchctl_cpu_ratio",
           "patchctl_rss_ratio", "all_walls_s", "notes"]


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarize(s: Scenario, tool: str, results: list[RunResult]) -> dict:
    good = [r for r in results if r.success]
    row = {"scenario": s.name, "tool": tool, "hosts": s.hosts, "concurrency": s.concurrency,
           "rtt_ms": s.rtt_ms, "runs": len(good), "failed_runs": len(results) - len(good),
           "ok_hosts": min((r.ok_hosts for r in results), default=0),
           "notes": "; ".join(sorted({r.note for r in results if not r.success}))[:300]}
    if good:
        wall, srv = med([r.wall_s for r in good]), med([r.server_cpu_s for r in good])
        ctrl = med([r.ctrl_cpu_s for r in good])
        floor = srv / NCPU
        row.update({
            "median_wall_s": wall, "controller_cpu_s": ctrl, "server_cpu_s": srv,
            "peak_rss_mb": max(r.maxrss_mb for r in good),
            "peak_tree_rss_mb": max(r.tree_rss_mb for r in good),
            "ctrl_cpu_ms_per_host": ctrl * 1000 / s.hosts,
            "server_cpu_ms_per_host": srv * 1000 / s.hosts,
            "floor_s": floor, "wall_over_floor": wall / floor if floor else None,
            "server_cpu_cgroup_s": med([r.server_cpu_cg_s for r in good]),
            "proxy_cpu_s": med([r.proxy_cpu_s for r in good]),
            "other_cpu_s": med([r.other_cpu_s for r in good]),
            "listen_overflows": max(r.listen_overflows for r in good),
            "all_walls_s": " ".join(f"{r.wall_s:.2f}" for r in results),
        })
    else:
        row["all_walls_s"] = " ".join(f"{r.wall_s:.2f}{'' if r.success else '!'}" for r in results)
    return row


def add_ratios(rows: list[dict]) -> None:
    """patchctl's figure divided by each peer's (< 1: patchctl is better)."""
    for r in rows:
        pc = next((x for x in rows if x["scenario"] == r["scenario"]
                   and x["tool"].startswith("patchctl") and x.get("median_wall_s")), None)
        if pc is None or r["tool"].startswith("patchctl") or not r.get("median_wall_s"):
            continue
        r["patchctl_wall_ratio"] = pc["median_wall_s"] / r["median_wall_s"]
        r["patchctl_cpu_ratio"] = pc["controller_cpu_s"] / r["controller_cpu_s"]
        # Memory of the whole controller: the exact peak for one process,
        # the sampled sum for a tree of them (xargs+ssh, Ansible's forks).
        mem = lambda x: max(x["peak_rss_mb"], x["peak_tree_rss_mb"])
        r["patchctl_rss_ratio"] = mem(pc) / mem(r)


def fmt(v, nd=2) -> str:
    if v is None or v == "":
        return "-"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


def render(rows: list[dict], facts: str, elapsed: float) -> str:
    head = ["scenario", "tool", "N", "conc", "rtt", "runs", "wall s", "ctrl CPU s", "ms/host",
            "srv CPU s", "floor s", "wall/floor", "RSS MB", "tree RSS MB", "proxy CPU", "ok",
            "pc/peer wall", "pc/peer CPU"]
    body = []
    for r in rows:
        body.append([r["scenario"], r["tool"], str(r["hosts"]), str(r["concurrency"]),
                     str(r["rtt_ms"]), f"{r['runs']}" + (f"+{r['failed_runs']}F" if r["failed_runs"] else ""),
                     fmt(r.get("median_wall_s")), fmt(r.get("controller_cpu_s")),
                     fmt(r.get("ctrl_cpu_ms_per_host")), fmt(r.get("server_cpu_s")),
                     fmt(r.get("floor_s")), fmt(r.get("wall_over_floor")), fmt(r.get("peak_rss_mb"), 1),
                     fmt(r.get("peak_tree_rss_mb"), 1), fmt(r.get("proxy_cpu_s")),
                     f"{r['ok_hosts']}/{r['hosts']}", fmt(r.get("patchctl_wall_ratio")),
                     fmt(r.get("patchctl_cpu_ratio"))])
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    line = lambda cells: "  ".join(c.rjust(w) if i > 1 else c.ljust(w)
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    out = [facts, line(head), line(["-" * w for w in widths])]
    prev = None
    for r, b in zip(rows, body):
        if prev and prev != r["scenario"]:
            out.append("")
        prev = r["scenario"]
        out.append(line(b))
    notes = [f"  {r['scenario']}/{r['tool']}: {r['notes']}" for r in rows if r.get("notes")]
    if notes:
        out += ["", "failures:"] + notes
    out += ["", f"wall/floor: median wall time over (that tool's sshd CPU / {NCPU} cores). "
            "RSS MB: largest single process; tree RSS MB: sampled sum over the process tree "
            "(counts shared pages once per process). pc/peer: patchctl's median over the peer's.",
            f"total benchmark time {elapsed:.0f} s"]
    return "\n".join(out) + "\n"


def machine_facts(tools: list[Tool], patchctl_bin: str) -> str:
    def run(cmd):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, subprocess.TimeoutExpired, IndexError):
            return "?"
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                  if l.startswith("model name")), "?")
    mem_gib = os.sysconf("SC_PHYS_PAGES") * PAGE / 2**30
    py = str(VENV / "bin" / "python")
    versions = run([py, "-c", "import importlib.metadata as m; print(' '.join(f'{p}={m.version(p)}' for p in "
                    "('parallel-ssh','ssh2-python','ansible-core','gevent')))"])
    facts = [f"nproc={NCPU}", f"cpu={model}", f"mem={mem_gib:.0f}GiB", f"kernel={platform.release()}",
             f"os={run(['sh', '-c', '. /etc/os-release; echo $PRETTY_NAME'])}",
             f"openssh={run(['ssh', '-V'])}", f"sshd={run(['/usr/sbin/sshd', '-V'])}",
             f"python={run([py, '-V'])}", versions,
             f"libssh2(deb)={run(['dpkg-query', '-W', '-f=${Version}', 'libssh2-1'])}"]
    if any(t.name.startswith("patchctl") for t in tools):
        facts.append(f"patchctl={run([patchctl_bin, '--version'])}")
    facts.append(f"loadavg_at_start={Path('/proc/loadavg').read_text().split()[0]}")
    return "machine: " + ", ".join(facts)


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------
class Ctx:
    pass


def patchctl_tool(mode: str | None = None) -> Tool | None:
    mode = mode or os.environ.get("BENCH_PATCHCTL_MODE", "auto")
    binary = os.environ.get("PATCHCTL_BIN", str(REPO / ".build" / "release" / "patchctl"))
    if mode == "off":
        return None
    if not os.access(binary, os.X_OK):
        if mode != "auto":
            sys.exit(f"bench: {binary} not found (make build, or set PATCHCTL_BIN)")
        log(f"{binary} not found: patchctl is skipped (make build, or set PATCHCTL_BIN)")
        return None
    if mode == "auto":
        has_exec = subprocess.run([binary, "exec", "--help"], capture_output=True).returncode == 0
        if not has_exec:
            log("this patchctl has no `exec` yet: patchctl is skipped "
                "(BENCH_PATCHCTL_MODE=scan measures `scan` instead, a different job)")
            return None
        mode = "exec"
    return Patchctl(binary, mode)


def main() -> int:
    started = time.monotonic()
    lab = read_lab_env()
    budget = env_int("BENCH_BUDGET", 1500)
    timeout = env_int("BENCH_TIMEOUT", 600)
    rtt = env_int("BENCH_RTT_MS", 50)
    proxy_port = env_int("BENCH_PROXY_PORT", 22322)
    all_scen = {
        "n100": Scenario("n100", 100, 50, 0, env_int("BENCH_RUNS_100", 5)),
        # The slow peers take 1-2 minutes per N=1000 run on 2 cores; one run
        # each keeps the whole benchmark well under 30 minutes (their figures
        # are far from patchctl's; the N=1000 targets compare with parallel-ssh).
        "n1000": Scenario("n1000", 1000, env_int("BENCH_CONC_1000", 100), 0, env_int("BENCH_RUNS_1000", 3),
                          env_int("BENCH_RUNS_1000_SLOW", 1)),
        f"n1000-rtt{rtt}": Scenario(f"n1000-rtt{rtt}", 1000, 1000, rtt, env_int("BENCH_RUNS_1000", 3),
                                    env_int("BENCH_RUNS_1000_SLOW", 1)),
        f"jump100-rtt{rtt}": Scenario(f"jump100-rtt{rtt}", 100, 100, rtt, env_int("BENCH_RUNS_JUMP", 3), jump=True),
    }
    wanted = os.environ.get("BENCH_SCENARIOS", ",".join(all_scen)).replace("rtt50", f"rtt{rtt}").split(",")
    scenarios = [all_scen[w] for w in wanted if w]

    tools: list[Tool] = []
    wanted_tools = os.environ.get("BENCH_TOOLS", "patchctl,pssh,ansible,ssh").split(",")
    for t in wanted_tools:
        tool = {"patchctl": patchctl_tool, "patchctl-scan": lambda: patchctl_tool("scan"),
                "pssh": Pssh, "pssh-threaded": PsshThreaded, "ansible": Ansible, "ssh": XargsSsh}[t]()
        if tool:
            tools.append(tool)

    # Fail early and clearly if another lab (PATCHCTL_LAB_PORT=...) or
    # anything else already listens on our ports.
    ports = {"BENCH_PROXY_PORT": proxy_port} if any(s.rtt_ms for s in scenarios) else {}
    if os.environ.get("BENCH_SSHD", "private") != "lab":
        ports["BENCH_SSHD_PORT"] = env_int("BENCH_SSHD_PORT", 22422)
    for var, port in ports.items():
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                sys.exit(f"bench: port {port} is already in use; choose another with {var}=...")

    ctx = Ctx()
    ctx.key = lab["LAB_KEY"]
    ctx.proxy = None
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    sshd = None
    if os.environ.get("BENCH_SSHD", "private") == "lab":
        ctx.sshd_port = int(lab["LAB_PORT"])
        ctx.listener = lab_listener_pid(lab["LAB_DIR"])

        def relocate():
            ctx.listener = lab_listener_pid(lab["LAB_DIR"])
            ctx.cgroup.follow(ctx.listener)
    else:
        sshd = PrivateSshd(lab["LAB_DIR"], env_int("BENCH_SSHD_PORT", 22422), WORK)
        atexit.register(sshd.stop)     # also on errors before the main loop
        ctx.sshd_port, ctx.listener = sshd.port, sshd.pid

        def relocate():
            sys.exit("bench: the benchmark's sshd died")
    ctx.relocate = relocate
    ctx.base_env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "SSH_AUTH_SOCK"))}
    hostkey = " ".join(Path(lab["LAB_HOST_KEY_PUB_FILE"]).read_text().split()[:2])
    ctx.cgroup = CgroupCheck(ctx.listener) if os.environ.get("BENCH_CGROUP_CHECK", "1") == "1" \
        else type("NoCg", (), {"usage_s": lambda self: None, "close": lambda self: None,
                               "follow": lambda self, pid: None})()
    atexit.register(ctx.cgroup.close)

    facts = machine_facts(tools, os.environ.get("PATCHCTL_BIN", str(REPO / ".build/release/patchctl")))
    log(facts)
    log(f"tools: {', '.join(t.name for t in tools)}; scenarios: "
        + ", ".join(f"{s.name}(N={s.hosts}, conc={s.concurrency}, rtt={s.rtt_ms}ms, runs={s.runs}"
                    + (f", slow peers {s.slow_runs}" if s.slow_runs is not None and s.slow_runs < s.runs else "") + ")"
                    for s in scenarios))

    rows: list[dict] = []
    try:
        # Warm-up: one untimed run of each tool on 10 hosts, so that the first
        # timed run does not pay for loading binaries and Python modules from
        # disk; it also fails fast if a tool is not set up right.
        warm = Scenario("warmup", 10, 10, 0, 1, port=ctx.sshd_port, dir=WORK / "warmup")
        write_files(warm, ctx.key, hostkey)
        for t in tools:
            cmd, env = t.command(warm, ctx)
            r = measure(t.name, cmd, env, warm.dir / t.name, min(timeout, 120), warm.hosts, t.parse, ctx)
            log(f"warm-up {t.name}: {r.ok_hosts}/{r.hosts} ok in {r.wall_s:.2f}s ({r.note})")
            if not r.success:
                log(f"  see {warm.dir / t.name}/stderr")

        for s in scenarios:
            s.port = proxy_port if s.rtt_ms and not s.jump else ctx.sshd_port
            s.bastion_port = proxy_port if s.jump else 0
            s.dir = WORK / s.name
            write_files(s, ctx.key, hostkey)
            if s.rtt_ms:
                ctx.proxy = Proxy(proxy_port, s.rtt_ms, f"127.0.0.1:{ctx.sshd_port}", s.dir)
            results: dict[str, list[RunResult]] = {t.name: [] for t in tools}
            skipped = 0
            for rep in range(s.runs):
                for t in tools:            # alternate: A B C D A B C D ...
                    if t.slow and s.slow_runs is not None and rep >= s.slow_runs:
                        continue
                    if time.monotonic() - started > budget:
                        skipped += 1
                        continue
                    cmd, env = t.command(s, ctx)
                    r = measure(t.name, cmd, env, s.dir / f"{t.name}-{rep + 1}", timeout, s.hosts, t.parse, ctx)
                    results[t.name].append(r)
                    log(f"{s.name} run {rep + 1}/{s.runs} {t.name}: "
                        + (f"{r.wall_s:.2f}s" if r.success else f"FAILED ({r.ok_hosts}/{r.hosts} ok, {r.note})")
                        + f" ctrl {r.ctrl_cpu_s:.2f}s srv {r.server_cpu_s:.2f}s"
                        + (f" cg {r.server_cpu_cg_s:.2f}s" if r.server_cpu_cg_s is not None else "")
                        + (f" proxy {r.proxy_cpu_s:.2f}s" if r.proxy_cpu_s is not None else "")
                        + f" rss {r.maxrss_mb:.0f}/{r.tree_rss_mb:.0f}MB other {r.other_cpu_s:.2f}s"
                        + (f" listen-overflows {r.listen_overflows}" if r.listen_overflows else ""))
            if skipped:
                log(f"{s.name}: {skipped} runs skipped, BENCH_BUDGET={budget}s reached")
            if ctx.proxy:
                ctx.proxy.stop()
                ctx.proxy = None
            for t in tools:
                row = summarize(s, t.name, results[t.name])
                if skipped:
                    row["notes"] = (row["notes"] + "; " if row["notes"] else "") + "budget reached, runs skipped"
                rows.append(row)
    finally:
        for g in list(LIVE_GROUPS):
            kill_group(g)
        if ctx.proxy:
            ctx.proxy.stop()
        ctx.cgroup.close()
        if sshd:
            sshd.stop()    # before the cgroup is closed by atexit: nothing left in it

    add_ratios(rows)
    elapsed = time.monotonic() - started
    text = render(rows, facts, elapsed)
    sys.stdout.write(text)
    RESULTS.mkdir(exist_ok=True)
    for name in ("latest", stamp):
        with open(RESULTS / f"{name}.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
            w.writeheader()
            for r in rows:
                w.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in r.items()})
        (RESULTS / f"{name}.txt").write_text(text)
    log(f"wrote {RESULTS / 'latest.csv'} and {RESULTS / (stamp + '.csv')}")
    return 0 if all(r["failed_runs"] == 0 and r["runs"] > 0 for r in rows) else 1


if __name__ == "__main__":
    # SIGTERM (from run.sh's trap or a timeout) unwinds through the finally
    # blocks above, so the proxy and any tool still running are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())

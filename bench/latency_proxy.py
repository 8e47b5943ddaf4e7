#!/usr/bin/env python3
"""Latency-injecting TCP proxy for the benchmark (Python 3.11 standard library only).

    latency_proxy.py --listen-port 22322 --upstream 127.0.0.1:22422 --rtt-ms 50

Listens on 0.0.0.0 so that every 127.x.y.z address answers (one proxy stands
in for N "hosts", just as the lab's single sshd does), and forwards each
connection to the upstream sshd. Every chunk read from either side is written
to the other side RTT/2 later, so a request/response round trip costs one RTT,
like a WAN link. Order is kept per direction; there is no bandwidth limit
(a chunk is delayed by exactly RTT/2, never by the chunks queued before it).

Only loopback peers are served (anything else is closed at once): the
benchmark must never become a relay for other addresses.

It prints "ready" on stdout once listening, and its own CPU time and counters
to stderr when stopped (SIGTERM/SIGINT), so the benchmark can tell whether the
proxy, rather than the tool under test, was the bottleneck.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import ipaddress
import os
import resource
import signal
import sys

# Pause reading from one side when the other side's unsent buffer grows past
# this; only a safety net, SSH sessions of this benchmark move a few KB.
HIGH_WATER = 1 << 20
EOF = None  # marker queued in place of data: forward a half-close


class Stats:
    accepted = 0
    refused = 0
    upstream_failed = 0
    active = 0
    peak_active = 0
    bytes = 0


class Half(asyncio.Protocol):
    """One TCP connection of a proxied pair. What it receives is written to
    `peer` after `delay` seconds. Each received chunk is queued and a timer is
    armed for it; each timer sends the *oldest* queued chunk, so even timers
    that fire in a different order (equal deadlines) cannot reorder data."""

    def __init__(self, loop: asyncio.AbstractEventLoop, delay: float):
        self.loop = loop
        self.delay = delay
        self.transport: asyncio.Transport | None = None
        self.peer: Half | None = None
        self.queue: collections.deque = collections.deque()  # data for peer
        self.sent_eof = False        # we half-closed towards our own socket
        self.got_eof = False         # our socket half-closed towards us
        self.closed = False

    # -- forwarding ---------------------------------------------------------
    def _forward(self, item) -> None:
        self.queue.append(item)
        if self.delay > 0:
            self.loop.call_at(self.loop.time() + self.delay, self._flush_one)
        else:
            self._flush_one()

    def _flush_one(self) -> None:
        item = self.queue.popleft()
        peer = self.peer
        if peer is None or peer.closed or peer.transport is None:
            return
        if item is EOF:
            peer.sent_eof = True
            if peer.transport.can_write_eof():
                peer.transport.write_eof()
            peer._maybe_close()
        else:
            Stats.bytes += len(item)
            peer.transport.write(item)

    # -- asyncio.Protocol ---------------------------------------------------
    def connection_made(self, transport) -> None:  # upstream side
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._forward(data)

    def eof_received(self) -> bool:
        self.got_eof = True
        self._forward(EOF)
        self._maybe_close()
        return True  # keep the transport open: the other direction may go on

    def connection_lost(self, exc) -> None:
        if self.closed:
            return
        self.closed = True
        # A reset or error ends the pair, after the data already in flight
        # towards the peer has been delivered (same delay as data).
        if not self.got_eof:
            self.got_eof = True
            self._forward(EOF)
        peer = self.peer
        if peer is not None and not peer.closed:
            self.loop.call_at(self.loop.time() + self.delay + 0.001, peer._close)

    # Flow control: when our socket cannot keep up, stop reading the peer.
    def pause_writing(self) -> None:
        if self.peer and self.peer.transport:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer and self.peer.transport and not self.peer.closed:
            self.peer.transport.resume_reading()

    # -- closing ------------------------------------------------------------
    def _maybe_close(self) -> None:
        # Both directions finished: our peer has sent EOF to us (got_eof) and
        # we have passed an EOF on to our own socket (sent_eof); same for peer.
        p = self.peer
        if p and self.got_eof and self.sent_eof and p.got_eof and p.sent_eof:
            self._close()
            p._close()

    def _close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


class Downstream(Half):
    """The client-facing side: on accept, dial upstream and pair the two."""

    def __init__(self, loop, delay, upstream):
        super().__init__(loop, delay)
        self.upstream = upstream

    def connection_made(self, transport) -> None:
        self.transport = transport
        peer_ip = transport.get_extra_info("peername")[0]
        if not ipaddress.ip_address(peer_ip).is_loopback:
            Stats.refused += 1
            transport.abort()
            self.closed = True
            return
        Stats.accepted += 1
        Stats.active += 1
        Stats.peak_active = max(Stats.peak_active, Stats.active)
        transport.set_write_buffer_limits(high=HIGH_WATER)
        transport.pause_reading()  # until upstream is connected
        self.loop.create_task(self._dial())

    async def _dial(self) -> None:
        host, port = self.upstream
        try:
            _, up = await self.loop.create_connection(
                lambda: Half(self.loop, self.delay), host, port)
        except OSError:
            Stats.upstream_failed += 1
            self._close()
            return
        up.transport.set_write_buffer_limits(high=HIGH_WATER)
        up.peer, self.peer = self, up
        if self.closed:          # client gave up while we were dialling
            up._close()
            return
        self.transport.resume_reading()

    def connection_lost(self, exc) -> None:
        if not self.closed:
            Stats.active -= 1
        super().connection_lost(exc)


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen-host", default="0.0.0.0")
    ap.add_argument("--listen-port", type=int, default=22322)
    ap.add_argument("--upstream", default="127.0.0.1:22422", help="HOST:PORT")
    ap.add_argument("--rtt-ms", type=float, default=50.0)
    ap.add_argument("--backlog", type=int, default=4096,
                    help="listen backlog: 1000 clients may connect at once")
    args = ap.parse_args()
    uhost, _, uport = args.upstream.rpartition(":")
    delay = args.rtt_ms / 2000.0  # one way = RTT/2, in seconds

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: Downstream(loop, delay, (uhost, int(uport))),
        args.listen_host, args.listen_port, backlog=args.backlog, reuse_address=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("ready", flush=True)
    await stop.wait()
    server.close()
    print(f"latency_proxy: pid={os.getpid()} rtt_ms={args.rtt_ms} cpu_s={cpu_seconds():.3f} "
          f"accepted={Stats.accepted} peak_active={Stats.peak_active} refused={Stats.refused} "
          f"upstream_failed={Stats.upstream_failed} bytes={Stats.bytes}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    asyncio.run(main())

#!/usr/bin/env python3
"""A WS-Management-like listener for the discover tests: answers as an unauthenticated request to
a Windows WinRM listener (HTTP.sys + WinRM) is answered, and does nothing else.

Usage: wsman.py ADDRESS PORT [--tls CERT KEY]

  * any method on /wsman (any case, with or without a trailing slash or query):
        HTTP/1.1 401 <empty reason phrase>
        Server: Microsoft-HTTPAPI/2.0
        WWW-Authenticate: Negotiate
        WWW-Authenticate: Basic realm="WSMAN"
        Date: ...
        Content-Length: 0
  * any other path: 404 Not Found with Server: Microsoft-HTTPAPI/2.0 and HTTP.sys' small HTML body.

Shape of the 401 taken from a real Windows listener's answer captured in a public bug report
(jborean93/omi issue #29: "HTTP/1.1 401 " with an empty reason phrase, Server:
Microsoft-HTTPAPI/2.0, one WWW-Authenticate line per scheme -- Negotiate, Kerberos, Basic
realm="WSMAN", CredSSP as configured -- then Date and Content-Length: 0), the multi-header form
allowed by MS-N2HT 2.2.1, and /work/shared/reference/platforms.md (WS-Management over HTTP 5985 /
HTTPS 5986, Basic and Negotiate auth). This one offers the default service auth of a Windows
listener (Negotiate, plus Basic as when Basic is enabled). For a listener that really runs
commands, see lab/winrm/endpoint.py.

Keep-alive as HTTP/1.1 (the request body, if any, is read before answering). Logs one line per
request to stderr. Prints "LISTENING ADDRESS:PORT" on stdout once it listens. Standard library only.
"""
import http.server
import socket
import ssl
import sys
import time
from email.utils import formatdate

NOT_FOUND_BODY = (b'<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">\r\n'
                  b'<HTML><HEAD><TITLE>Not Found</TITLE>\r\n'
                  b'<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>\r\n'
                  b'<BODY><h2>Not Found</h2>\r\n<hr><p>HTTP Error 404. The requested resource is not found.</p>\r\n'
                  b'</BODY></HTML>\r\n')


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""

    def version_string(self):
        return self.server_version  # the base class would add " " + sys_version

    def log_message(self, format, *args):
        sys.stderr.write("%s %s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), self.client_address[0], format % args))
        sys.stderr.flush()

    def answer(self):
        length = self.headers.get("Content-Length")
        try:
            if length:
                self.rfile.read(int(length))
        except ValueError:
            self.close_connection = True
        path = self.path.split("?", 1)[0].rstrip("/").lower()
        if path == "/wsman":
            # HTTP.sys sends "401 " with no reason phrase: write the status line ourselves.
            self.log_request(401)
            lines = ["HTTP/1.1 401 ",
                     "Server: " + self.version_string(),
                     "WWW-Authenticate: Negotiate",
                     'WWW-Authenticate: Basic realm="WSMAN"',
                     "Date: " + formatdate(usegmt=True),
                     "Content-Length: 0"]
            if self.close_connection:
                lines.append("Connection: close")
            self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
        else:
            self.send_response(404)  # Server and Date headers come with it
            self.send_header("Content-Type", "text/html; charset=us-ascii")
            self.send_header("Content-Length", str(len(NOT_FOUND_BODY)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(NOT_FOUND_BODY)

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_OPTIONS = answer

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, ssl.SSLError, OSError):
            self.close_connection = True


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # a prober that connects and leaves (TLS or not) is no error of ours


def main(argv):
    if len(argv) not in (2, 5) or (len(argv) == 5 and argv[2] != "--tls"):
        sys.stderr.write("usage: wsman.py ADDRESS PORT [--tls CERT KEY]\n")
        return 2
    address, port = argv[0], int(argv[1])
    if ":" in address:
        Server.address_family = socket.AF_INET6
    server = Server((address, port), Handler)
    if len(argv) == 5:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(argv[3], argv[4])
        # Handshake in the connection's thread, not in accept(): a prober that never speaks TLS
        # must not stall the listener.
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)

        def setup(handler, original=Handler.setup):
            handler.request.do_handshake()
            original(handler)
        Handler.setup = setup
    print("LISTENING %s:%d" % (address, server.server_address[1]), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

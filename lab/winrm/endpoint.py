#!/usr/bin/env python3
"""A WS-Management test endpoint: the WinRM remote shell of MS-WSMV, on this Linux machine.

It follows MS-WSMV closely enough that pywinrm (an independent client) runs commands against
it, so patchctl's WinRM client can be tested against the same thing:

  * SOAP 1.2 over HTTP/1.1 with keep-alive, plain or TLS (--tls-cert/--tls-key);
  * Basic and NTLMv2 authentication (raw NTLM in "Negotiate" or "NTLM", verified with the
    account's password, per TCP connection as HTTP.sys does); no NTLM message encryption, so
    NTLM clients must not encrypt (pywinrm: HTTPS, or message_encryption='never');
  * Create / Command / Receive / Signal / Delete of the cmd shell resource
    (http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd); Receive long-polls up to the
    request's OperationTimeout and then faults w:TimedOut (2150858793), like Windows; output is
    split over several Receive replies (--chunk, and never beyond the client's MaxEnvelopeSize);
  * SOAP faults as Windows sends them: w:InvalidSelectors for an unknown shell, w:AccessDenied
    for an account without rights (--deny), w:DestinationUnreachable for another resource URI,
    a:ActionNotSupported for other actions.

STAND-IN: commands run with /bin/sh -c instead of cmd.exe (the command line is Command plus
each Arguments value, joined by spaces, as winrs does). lab/winrm/bin is put first on PATH; its
powershell.exe decodes -EncodedCommand (UTF-16LE base64) and prints the script it received.

Usage: endpoint.py [--bind 127.0.0.1] [--port 0] [--tls-cert F --tls-key F] [--auth basic,ntlm]
                   --account NAME=ENVVAR ... [--deny NAME] [--chunk BYTES] [--log FILE]
Passwords are read from the environment variables named by --account, never from argv.
Prints "PORT <n>" on stdout once it listens. Stops on SIGTERM/SIGINT, killing its commands.
"""
import argparse
import base64
import hmac
import http.server
import json
import os
import secrets
import signal
import ssl
import struct
import subprocess
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET

SOAP = "http://www.w3.org/2003/05/soap-envelope"
ADDRESSING = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
CMD_RESOURCE = SHELL + "/cmd"
TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
ACTION_CREATE = TRANSFER + "/Create"
ACTION_DELETE = TRANSFER + "/Delete"
ACTION_COMMAND = SHELL + "/Command"
ACTION_RECEIVE = SHELL + "/Receive"
ACTION_SIGNAL = SHELL + "/Signal"
STATE_DONE = SHELL + "/CommandState/Done"
STATE_RUNNING = SHELL + "/CommandState/Running"

HERE = os.path.dirname(os.path.abspath(__file__))


# --- MD4 (RFC 1320): OpenSSL 3 no longer offers it to hashlib, and NTLM needs it. ---------------
def md4(data):
    def rotl(x, n):
        return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF

    message = bytearray(data) + b"\x80"
    while len(message) % 64 != 56:
        message.append(0)
    message += struct.pack("<Q", (len(data) * 8) & 0xFFFFFFFFFFFFFFFF)
    a, b, c, d = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476
    for offset in range(0, len(message), 64):
        x = struct.unpack("<16I", message[offset:offset + 64])
        aa, bb, cc, dd = a, b, c, d
        for i in range(16):
            k, s = i, (3, 7, 11, 19)[i % 4]
            a, b, c, d = d, rotl((a + ((b & c) | (~b & d)) + x[k]) & 0xFFFFFFFF, s), b, c
        for i in range(16):
            k, s = (0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15)[i], (3, 5, 9, 13)[i % 4]
            a, b, c, d = d, rotl((a + ((b & c) | (b & d) | (c & d)) + x[k] + 0x5A827999) & 0xFFFFFFFF, s), b, c
        for i in range(16):
            k, s = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)[i], (3, 9, 11, 15)[i % 4]
            a, b, c, d = d, rotl((a + (b ^ c ^ d) + x[k] + 0x6ED9EBA1) & 0xFFFFFFFF, s), b, c
        a, b, c, d = (a + aa) & 0xFFFFFFFF, (b + bb) & 0xFFFFFFFF, (c + cc) & 0xFFFFFFFF, (d + dd) & 0xFFFFFFFF
    return struct.pack("<4I", a, b, c, d)


class NTLMServer:
    """The server's side of one NTLM handshake (MS-NLMP): CHALLENGE, then NTLMv2 verification."""

    def __init__(self):
        self.challenge = secrets.token_bytes(8)

    def challenge_message(self, negotiate):
        if len(negotiate) < 16 or negotiate[:8] != b"NTLMSSP\0" or struct.unpack("<I", negotiate[8:12])[0] != 1:
            return None
        client_flags = struct.unpack("<I", negotiate[12:16])[0]
        # UNICODE, REQUEST_TARGET, NTLM, ALWAYS_SIGN, TARGET_TYPE_DOMAIN, EXTENDED_SESSIONSECURITY,
        # TARGET_INFO, 128, 56: the ones any NTLMv2 client needs; SIGN/SEAL/KEY_EXCH echoed if asked.
        flags = 0x00000001 | 0x00000004 | 0x00000200 | 0x00008000 | 0x00010000 | 0x00080000 | 0x00800000 | 0x20000000 | 0x80000000
        flags |= client_flags & (0x00000010 | 0x00000020 | 0x40000000)
        target = "PATCHLAB".encode("utf-16-le")
        filetime = int((time.time() + 11644473600) * 10_000_000)

        def pair(av_id, value):
            return struct.pack("<HH", av_id, len(value)) + value

        info = (pair(2, "PATCHLAB".encode("utf-16-le")) + pair(1, "WINRM-TEST".encode("utf-16-le"))
                + pair(4, "patchlab.test".encode("utf-16-le")) + pair(3, "winrm-test.patchlab.test".encode("utf-16-le"))
                + pair(7, struct.pack("<Q", filetime)) + pair(0, b""))
        header_length = 56
        return (b"NTLMSSP\0" + struct.pack("<I", 2) + struct.pack("<HHI", len(target), len(target), header_length)
                + struct.pack("<I", flags) + self.challenge + b"\0" * 8
                + struct.pack("<HHI", len(info), len(info), header_length + len(target))
                + b"\x06\x01\xb1\x1d\x00\x00\x00\x0f" + target + info)

    def verify(self, authenticate, passwords):
        """The user name when the AUTHENTICATE message proves the password, else None."""
        if len(authenticate) < 64 or authenticate[:8] != b"NTLMSSP\0" or struct.unpack("<I", authenticate[8:12])[0] != 3:
            return None

        def field(index):
            length, _, offset = struct.unpack("<HHI", authenticate[12 + index * 8:20 + index * 8])
            return authenticate[offset:offset + length]

        nt_response = field(1)
        domain = field(2).decode("utf-16-le", "replace")
        user = field(3).decode("utf-16-le", "replace")
        password = next((p for name, p in passwords.items() if name.lower() == user.lower()), None)
        if password is None or len(nt_response) < 32:
            return None
        key = hmac.new(md4(password.encode("utf-16-le")), (user.upper() + domain).encode("utf-16-le"), "md5").digest()
        proof = hmac.new(key, self.challenge + nt_response[16:], "md5").digest()
        return user if hmac.compare_digest(proof, nt_response[:16]) else None


class Command:
    """One running command: its process and what it has written so far."""

    def __init__(self, line, environment):
        self.id = str(uuid.uuid4()).upper()
        self.line = line
        self.process = subprocess.Popen(["/bin/sh", "-c", line], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, start_new_session=True, env=environment,
                                        preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_SETMASK, set()))
        self.cond = threading.Condition()
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.open_streams = 2
        self.exit_code = None
        for stream, buffer in ((self.process.stdout, self.stdout), (self.process.stderr, self.stderr)):
            threading.Thread(target=self._pump, args=(stream, buffer), daemon=True).start()

    def _pump(self, stream, buffer):
        while True:
            data = os.read(stream.fileno(), 65536)
            with self.cond:
                if not data:
                    self.open_streams -= 1
                    if self.open_streams == 0:
                        self.exit_code = self.process.wait()
                    self.cond.notify_all()
                    return
                buffer += data
                self.cond.notify_all()

    def running(self):
        return self.exit_code is None

    def kill(self):
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def receive(self, hold, chunk):
        """(stdout, stderr, done, exit code), or None when nothing came within `hold` seconds."""
        deadline = time.monotonic() + hold
        with self.cond:
            while not self.stdout and not self.stderr and self.running():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self.cond.wait(remaining)
            out, err = bytes(self.stdout[:chunk]), bytes(self.stderr[:chunk])
            del self.stdout[:chunk]
            del self.stderr[:chunk]
            done = not self.running() and not self.stdout and not self.stderr
            return out, err, done, self.exit_code


class Fault(Exception):
    def __init__(self, code, subcode, reason, wsman_code, status=500):
        super().__init__(reason)
        self.code, self.subcode, self.reason, self.wsman_code, self.status = code, subcode, reason, wsman_code, status


def duration_seconds(text, default):
    """xs:duration as WS-Man uses it: PT20S, PT20.000S, PT1M."""
    if not text or not text.startswith("PT"):
        return default
    total, number = 0.0, ""
    for character in text[2:]:
        if character.isdigit() or character == ".":
            number += character
        else:
            total += float(number or 0) * {"H": 3600, "M": 60, "S": 1}.get(character, 0)
            number = ""
    return total


class Endpoint:
    def __init__(self, args):
        self.args = args
        self.passwords = {}
        for account in args.account:
            name, _, variable = account.partition("=")
            if variable not in os.environ:
                sys.exit("endpoint: environment variable %s (password of %s) is not set" % (variable, name))
            self.passwords[name] = os.environ[variable]
        self.denied = {name.lower() for name in args.deny}
        self.auth = set(args.auth.split(","))
        self.shells = {}
        self.lock = threading.Lock()
        self.log_lock = threading.Lock()
        self.log_file = open(args.log, "a", buffering=1) if args.log else None
        self.environment = dict(os.environ, PATH=os.path.join(HERE, "bin") + ":" + os.environ.get("PATH", "/usr/bin:/bin"))
        for account in args.account:  # the commands need no secrets
            self.environment.pop(account.partition("=")[2], None)

    def log(self, event, **fields):
        if self.log_file is None:
            return
        parts = [time.strftime("%H:%M:%S"), event] + ["%s=%s" % (key, json.dumps(value)) for key, value in fields.items()]
        with self.log_lock:
            self.log_file.write(" ".join(parts) + "\n")

    def stop_all(self):
        with self.lock:
            for shell in self.shells.values():
                for command in shell["commands"].values():
                    command.kill()

    # --- WS-Management -----------------------------------------------------------------------
    def handle(self, body, user):
        try:
            root = ET.fromstring(body)
        except ET.ParseError as error:
            raise Fault("s:Sender", "w:SchemaValidationError", "The SOAP XML in the message does not match the "
                        "corresponding XML schema definition: %s" % error, 2150858817, 400)
        header = root.find("{%s}Header" % SOAP)
        soap_body = root.find("{%s}Body" % SOAP)
        if header is None or soap_body is None:
            raise Fault("s:Sender", "w:SchemaValidationError", "The SOAP message has no Header or Body.", 2150858817, 400)

        def text(path):
            node = header.find(path)
            return node.text.strip() if node is not None and node.text else None

        action = text("{%s}Action" % ADDRESSING)
        message_id = text("{%s}MessageID" % ADDRESSING)
        resource = text("{%s}ResourceURI" % WSMAN)
        hold = duration_seconds(text("{%s}OperationTimeout" % WSMAN), 60.0)
        max_envelope = int(text("{%s}MaxEnvelopeSize" % WSMAN) or 153600)
        selector = header.find("{%s}SelectorSet/{%s}Selector[@Name='ShellId']" % (WSMAN, WSMAN))
        shell_id = selector.text.strip() if selector is not None and selector.text else None
        if user.lower() in self.denied:
            self.log("denied", user=user, action=action)
            raise Fault("s:Sender", "w:AccessDenied", "Access is denied.", 5)
        if resource != CMD_RESOURCE:
            raise Fault("s:Sender", "w:DestinationUnreachable", "The WS-Management service cannot process the request "
                        "because the resource URI %s is not supported." % resource, 2150858770)

        if action == ACTION_CREATE:
            shell_id = str(uuid.uuid4()).upper()
            with self.lock:
                self.shells[shell_id] = {"commands": {}}
            self.log("create", shell=shell_id, user=user)
            content = ("<x:ResourceCreated><a:Address>%s</a:Address><a:ReferenceParameters><w:ResourceURI>%s</w:ResourceURI>"
                       "<w:SelectorSet><w:Selector Name=\"ShellId\">%s</w:Selector></w:SelectorSet></a:ReferenceParameters>"
                       "</x:ResourceCreated><rsp:Shell><rsp:ShellId>%s</rsp:ShellId><rsp:ResourceUri>%s</rsp:ResourceUri>"
                       "<rsp:Owner>%s</rsp:Owner><rsp:InputStreams>stdin</rsp:InputStreams>"
                       "<rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>"
                       % (xml_escape(self.url), CMD_RESOURCE, shell_id, shell_id, CMD_RESOURCE, xml_escape(user)))
            return self.reply(TRANSFER + "/CreateResponse", message_id, content)

        shell = self.shells.get(shell_id) if shell_id else None
        if shell is None:
            self.log("fault", action=action, shell=shell_id, subcode="w:InvalidSelectors")
            raise Fault("s:Sender", "w:InvalidSelectors", "The request for the Windows Remote Shell with ShellId %s failed "
                        "because the shell was not found on the server. Possible causes are: the specified ShellId is "
                        "incorrect or the shell no longer exists on the server. Provide the correct ShellId or create a new "
                        "shell and retry the operation." % shell_id, 2150858843)

        if action == ACTION_COMMAND:
            line_node = soap_body.find("{%s}CommandLine" % SHELL)
            command = line_node.findtext("{%s}Command" % SHELL) or ""
            arguments = [node.text or "" for node in line_node.findall("{%s}Arguments" % SHELL)]
            line = " ".join([command] + arguments)
            started = Command(line, self.environment)
            with self.lock:
                shell["commands"][started.id] = started
            self.log("command", shell=shell_id, command=started.id, line=line)
            return self.reply(SHELL + "/CommandResponse", message_id,
                              "<rsp:CommandResponse><rsp:CommandId>%s</rsp:CommandId></rsp:CommandResponse>" % started.id)

        if action == ACTION_RECEIVE:
            desired = soap_body.find("{%s}Receive/{%s}DesiredStream" % (SHELL, SHELL))
            command_id = desired.get("CommandId") if desired is not None else None
            command = shell["commands"].get((command_id or "").upper())
            if command is None:
                raise Fault("s:Sender", "w:InvalidParameter", "The parameter is incorrect: no command %s in this shell."
                            % command_id, 87)
            # Two base64 streams must fit the client's envelope: 3 bytes become 4, plus the SOAP around them.
            chunk = max(1, min(self.args.chunk, (max_envelope - 4096) * 3 // 8))
            result = command.receive(hold, chunk)
            if result is None:
                self.log("timedout", shell=shell_id, command=command.id, hold=hold)
                raise Fault("s:Receiver", "w:TimedOut", "The WS-Management service cannot complete the operation within "
                            "the time specified in OperationTimeout.", 2150858793)
            out, err, done, exit_code = result
            streams = ""
            for name, data in (("stdout", out), ("stderr", err)):
                if data:
                    streams += "<rsp:Stream Name=\"%s\" CommandId=\"%s\">%s</rsp:Stream>" % (
                        name, command.id, base64.b64encode(data).decode())
                if done:
                    streams += "<rsp:Stream Name=\"%s\" CommandId=\"%s\" End=\"true\"></rsp:Stream>" % (name, command.id)
            if done:
                state = ("<rsp:CommandState CommandId=\"%s\" State=\"%s\"><rsp:ExitCode>%d</rsp:ExitCode></rsp:CommandState>"
                         % (command.id, STATE_DONE, exit_code))
            else:
                state = "<rsp:CommandState CommandId=\"%s\" State=\"%s\"/>" % (command.id, STATE_RUNNING)
            self.log("receive", shell=shell_id, command=command.id, stdout=len(out), stderr=len(err), done=done)
            return self.reply(SHELL + "/ReceiveResponse", message_id,
                              "<rsp:ReceiveResponse SequenceID=\"0\">%s%s</rsp:ReceiveResponse>" % (streams, state))

        if action == ACTION_SIGNAL:
            signal_node = soap_body.find("{%s}Signal" % SHELL)
            command_id = (signal_node.get("CommandId") or "").upper() if signal_node is not None else ""
            code = (signal_node.findtext("{%s}Code" % SHELL) or "") if signal_node is not None else ""
            with self.lock:
                command = shell["commands"].pop(command_id, None)
            running = command is not None and command.running()
            if command is not None and code.rsplit("/", 1)[-1] in ("terminate", "ctrl_c", "ctrl_break"):
                command.kill()
            self.log("signal", shell=shell_id, command=command_id, code=code.rsplit("/", 1)[-1], running=running)
            return self.reply(SHELL + "/SignalResponse", message_id, "<rsp:SignalResponse/>")

        if action == ACTION_DELETE:
            with self.lock:
                removed = self.shells.pop(shell_id, None)
            for command in (removed or {"commands": {}})["commands"].values():
                command.kill()
            self.log("delete", shell=shell_id)
            return self.reply(TRANSFER + "/DeleteResponse", message_id, "")

        raise Fault("s:Sender", "a:ActionNotSupported", "The action %s is not supported by the service." % action, 2150858754)

    def reply(self, action, relates_to, content):
        # --nest N: a hostile server's reply, its body wrapped in N nested elements.
        depth = self.args.nest
        return envelope(action, relates_to, "<x:a>" * depth + content + "</x:a>" * depth)


def xml_escape(text):
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def envelope(action, relates_to, content):
    return ("<s:Envelope xml:lang=\"en-US\" xmlns:s=\"%s\" xmlns:a=\"%s\" xmlns:x=\"%s\" xmlns:w=\"%s\" xmlns:rsp=\"%s\" "
            "xmlns:p=\"http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd\"><s:Header>"
            "<a:Action>%s</a:Action><a:MessageID>uuid:%s</a:MessageID>"
            "<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
            "<a:RelatesTo>%s</a:RelatesTo></s:Header><s:Body>%s</s:Body></s:Envelope>"
            % (SOAP, ADDRESSING, TRANSFER, WSMAN, SHELL, action, str(uuid.uuid4()).upper(),
               xml_escape(relates_to or ""), content)).encode()


def fault_envelope(fault, relates_to):
    content = ("<s:Fault><s:Code><s:Value>%s</s:Value><s:Subcode><s:Value>%s</s:Value></s:Subcode></s:Code>"
               "<s:Reason><s:Text xml:lang=\"en-US\">%s</s:Text></s:Reason><s:Detail>"
               "<f:WSManFault xmlns:f=\"http://schemas.microsoft.com/wbem/wsman/1/wsmanfault\" Code=\"%d\" "
               "Machine=\"winrm-test\"><f:Message>%s</f:Message></f:WSManFault></s:Detail></s:Fault>"
               % (fault.code, fault.subcode, xml_escape(fault.reason), fault.wsman_code, xml_escape(fault.reason)))
    return envelope(ADDRESSING + "/fault", relates_to, content)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: NTLM authenticates the connection, not the request
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""
    endpoint = None  # set by main()

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()  # in this connection's thread (see main); failures end in handle_error
        super().setup()
        self.user = None  # NTLM: the account this connection logged in as
        self.ntlm = None

    def log_message(self, format, *args):  # quiet: the endpoint's own log says what matters
        pass

    def send(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if body:
            self.send_header("Content-Type", "application/soap+xml;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def challenge_headers(self, token_scheme=None, token=None):
        headers = []
        if token_scheme:
            headers.append(("WWW-Authenticate", "%s %s" % (token_scheme, base64.b64encode(token).decode())))
            return headers
        if "ntlm" in self.endpoint.auth:
            headers.append(("WWW-Authenticate", "Negotiate"))
        if "basic" in self.endpoint.auth:
            headers.append(("WWW-Authenticate", "Basic realm=\"WSMAN\""))
        return headers

    def authenticate(self):
        """The logged-in user, or None after answering 401 (a challenge or a refusal)."""
        endpoint = self.endpoint
        authorization = self.headers.get("Authorization", "")
        scheme, _, token = authorization.partition(" ")
        scheme = scheme.lower()
        if scheme == "basic" and "basic" in endpoint.auth:
            try:
                raw = base64.b64decode(token)
                # RFC 7617 says UTF-8; requests (pywinrm) sends Latin-1: accept either.
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    text = raw.decode("latin-1")
                user, _, password = text.partition(":")
            except ValueError:
                user, password = "", None
            expected = endpoint.passwords.get(user)
            if expected is not None and hmac.compare_digest(expected.encode(), (password or "").encode()):
                return user
            endpoint.log("auth-failed", scheme="Basic", user=user)
        elif scheme in ("negotiate", "ntlm") and "ntlm" in endpoint.auth and token:
            try:
                message = base64.b64decode(token)
            except ValueError:
                message = b""
            kind = struct.unpack("<I", message[8:12])[0] if len(message) >= 12 else 0
            if kind == 1:
                self.ntlm = NTLMServer()
                challenge = self.ntlm.challenge_message(message)
                if challenge:
                    self.send(401, headers=self.challenge_headers(authorization.partition(" ")[0], challenge))
                    return None
            elif kind == 3 and self.ntlm is not None:
                user = self.ntlm.verify(message, endpoint.passwords)
                self.ntlm = None
                if user:
                    self.user = user
                    return user
                endpoint.log("auth-failed", scheme="NTLM")
        elif self.user is not None:
            return self.user  # NTLM already done on this connection
        self.send(401, headers=self.challenge_headers())
        return None

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.rstrip("/").lower() != "/wsman":
            self.send(404)
            return
        user = self.authenticate()
        if user is None:
            return
        if not self.headers.get("Content-Type", "").lower().startswith("application/soap+xml"):
            self.send(415)
            return
        try:
            reply = self.endpoint.handle(body, user)
            self.send(200, reply)
        except Fault as fault:
            relates_to = None
            try:
                relates_to = ET.fromstring(body).findtext(".//{%s}MessageID" % ADDRESSING)
            except ET.ParseError:
                pass
            self.send(fault.status, fault_envelope(fault, relates_to))

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True  # the client went away (e.g. gave up on a Receive)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # TLS handshakes a test refuses on purpose end up here: not an endpoint error


def main():
    parser = argparse.ArgumentParser(description="WS-Management (WinRM) test endpoint")
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--auth", default="basic,ntlm")
    parser.add_argument("--account", action="append", default=[], help="NAME=ENVVAR: the password is in $ENVVAR")
    parser.add_argument("--deny", action="append", default=[], help="an account that logs in but has no rights")
    parser.add_argument("--chunk", type=int, default=65536, help="most bytes per stream in one Receive reply")
    parser.add_argument("--log")
    parser.add_argument("--nest", type=int, default=0, help="wrap every reply's body in this many nested elements (hostile server)")
    args = parser.parse_args()

    endpoint = Endpoint(args)
    Handler.endpoint = endpoint
    server = Server((args.bind, args.port), Handler)
    scheme = "http"
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        # The handshake happens in the connection's thread, so a stuck client cannot block accept().
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        scheme = "https"
    port = server.server_address[1]
    endpoint.url = "%s://%s:%d/wsman" % (scheme, args.bind, port)

    def stop(signum, frame):
        endpoint.stop_all()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # A parent may have left them blocked (Swift's test runner does), which would make us unstoppable.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    endpoint.log("listening", url=endpoint.url)
    print("PORT %d" % port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

import Foundation
import LabSupport

/// A real HTTP/1.1 server on loopback (python3's http.server, a child process of the test) that
/// serves one feed body at /feed.json and misbehaves on demand: the mode file says how (ok with
/// ETag/Last-Modified and 304s, truncated, malformed, big, bomb, error). Every request is logged
/// as a JSON line with its conditional headers.
final class FeedServer: @unchecked Sendable {
    static let etag = "\"tracker-v1\""
    static let lastModified = "Thu, 03 Dec 2026 12:00:00 GMT"

    enum Mode: String, Sendable, CaseIterable {
        case ok, truncated, malformed, big, bomb, error
    }

    let folder: URL
    let port: Int
    private let process: Process

    var url: String { "http://127.0.0.1:\(port)/feed.json" }
    var redirectingURL: String { "http://127.0.0.1:\(port)/moved" }

    private var modeFile: URL { folder.appendingPathComponent("mode") }
    private var logFile: URL { folder.appendingPathComponent("requests.log") }

    static func start(serving body: Data) async throws -> FeedServer {
        try await offPool { try FeedServer(body: body) }
    }

    private init(body: Data) throws {
        folder = try FeedFixture.folder()
        try body.write(to: folder.appendingPathComponent("body"))
        try Mode.ok.rawValue.write(to: folder.appendingPathComponent("mode"), atomically: true, encoding: .utf8)
        let script = folder.appendingPathComponent("server.py")
        try Self.script.write(to: script, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script.path, folder.appendingPathComponent("body").path, folder.appendingPathComponent("mode").path,
                             folder.appendingPathComponent("requests.log").path]
        port = try ChildServer.port(process, what: "the feed server")
    }

    deinit { stop() }

    func set(_ mode: Mode) throws {
        try mode.rawValue.write(to: modeFile, atomically: true, encoding: .utf8)
    }

    /// The requests served so far, oldest first.
    func requests() throws -> [[String: String]] {
        guard let text = try? String(contentsOf: logFile, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { line in
            (try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
        }
    }

    /// Stops the server (the feed is then down: connections are refused).
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitForExit()
    }

    static let script = #"""
        import gzip, http.server, json, socket, sys
        body_path, mode_path, log_path = sys.argv[1:4]
        ETAG = '"tracker-v1"'
        LAST_MODIFIED = 'Thu, 03 Dec 2026 12:00:00 GMT'

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def reply(self, status, body=b'', headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                with open(mode_path) as f:
                    mode = f.read().strip()
                with open(log_path, 'a') as log:
                    log.write(json.dumps({'path': self.path, 'mode': mode,
                                          'if_none_match': self.headers.get('If-None-Match'),
                                          'if_modified_since': self.headers.get('If-Modified-Since')}) + '\n')
                with open(body_path, 'rb') as f:
                    body = f.read()
                if self.path == '/moved':
                    return self.reply(301, headers=[('Location', '/feed.json')])
                if mode == 'ok':
                    if self.headers.get('If-None-Match') == ETAG:
                        self.send_response(304)
                        self.send_header('ETag', ETAG)
                        self.end_headers()
                        return
                    return self.reply(200, body, [('ETag', ETAG), ('Last-Modified', LAST_MODIFIED), ('Content-Type', 'application/json')])
                if mode == 'truncated':
                    self.send_response(200)
                    self.send_header('Content-Length', str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if mode == 'malformed':
                    return self.reply(200, b'{"openssl": {"CVE-2024-0001": {"releases": {"bookworm": {"status": "open",, }}}}}')
                if mode == 'big':
                    # No length: the body runs until the connection closes, 64 MiB of it.
                    self.send_response(200)
                    self.send_header('Connection', 'close')
                    self.end_headers()
                    try:
                        for _ in range(64):
                            self.wfile.write(b' ' * (1 << 20))
                    except OSError:
                        pass
                    self.close_connection = True
                    return
                if mode == 'bomb':
                    # About 64 KB on the wire, 64 MiB inflated.
                    return self.reply(200, gzip.compress(b' ' * (64 << 20), 6), [('Content-Encoding', 'gzip')])
                return self.reply(500, b'internal error')

        server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """#
}

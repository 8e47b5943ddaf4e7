import Foundation
import LabSupport

/// A real HTTP/1.1 server on loopback (python3's http.server, a child process of the test) that
/// takes webhook POSTs and writes each as a JSON line: path, headers, body, and the HMAC-SHA256
/// of the body that python's own `hmac` computes with the secret it was given, so the test
/// compares patchctl's signature with an independent one. `/fail` answers 500, `/hang` never
/// answers, everything else 200.
final class WebhookRecorder: @unchecked Sendable {
    let folder: URL
    let port: Int
    private let process: Process

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }
    private var logFile: URL { folder.appendingPathComponent("requests.log") }

    static func start(secret: String) async throws -> WebhookRecorder {
        try await offPool { try WebhookRecorder(secret: secret) }
    }

    private init(secret: String) throws {
        folder = try CLI.temporaryDirectory()
        let script = folder.appendingPathComponent("server.py")
        try Self.script.write(to: script, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script.path, folder.appendingPathComponent("requests.log").path, secret]
        port = try ChildServer.port(process, what: "the webhook server")
    }

    deinit {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitForExit()
    }

    struct Request {
        var path: String
        var headers: [String: String]
        var body: String
        /// What python's hmac makes of the body with the server's secret: `sha256=HEX`.
        var expectedSignature: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:] }
    }

    /// The requests received so far (logged before the server answers), oldest first.
    func requests() throws -> [Request] {
        guard let text = try? String(contentsOf: logFile, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return Request(path: object["path"] as? String ?? "", headers: object["headers"] as? [String: String] ?? [:],
                           body: object["body"] as? String ?? "", expectedSignature: object["expected_signature"] as? String ?? "")
        }
    }

    static let script = #"""
        import hashlib, hmac, http.server, json, sys, threading
        log_path, secret = sys.argv[1], sys.argv[2].encode()
        lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('Content-Length', '0')))
                entry = {'path': self.path, 'headers': {k.lower(): v for k, v in self.headers.items()},
                         'body': body.decode('utf-8', 'replace'),
                         'expected_signature': 'sha256=' + hmac.new(secret, body, hashlib.sha256).hexdigest()}
                with lock, open(log_path, 'a') as log:
                    log.write(json.dumps(entry) + '\n')
                if self.path == '/hang':
                    threading.Event().wait()
                status, reply = (500, b'boom: the receiver is down') if self.path == '/fail' else (200, b'ok')
                self.send_response(status)
                self.send_header('Content-Length', str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        server.daemon_threads = True
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """#
}

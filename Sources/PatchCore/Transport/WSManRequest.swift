import Foundation

/// One WS-Management request of the remote shell protocol (MS-WSMV 3.1.4.x), built the way
/// Windows' own winrs client builds them: SOAP 1.2, WS-Addressing, the cmd shell resource.
struct WSManRequest {
    static let shellResource = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
    static let shellNamespace = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
    static let terminateSignal = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate"
    static let doneState = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"

    enum Action: String {
        case create = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
        case delete = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
        case command = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command"
        case receive = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive"
        case signal = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal"

        /// How errors name the operation.
        var name: String {
            switch self {
            case .create: return "Create shell"
            case .delete: return "Delete shell"
            case .command: return "Command"
            case .receive: return "Receive"
            case .signal: return "Signal"
            }
        }
    }

    var action: Action
    var shellID: String?
    var options: [(name: String, value: String)] = []
    /// The SOAP body's content, already XML.
    var body: String
    var messageID = "uuid:" + UUID().uuidString

    /// The shell: stdin/stdout/stderr streams; no profile; `codePage` 65001 makes cmd and
    /// console programs write UTF-8.
    static func create(codePage: Int) -> WSManRequest {
        WSManRequest(action: .create, options: [("WINRS_NOPROFILE", "TRUE"), ("WINRS_CODEPAGE", String(codePage))],
                     body: "<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>")
    }

    /// Starts `command` (a cmd.exe command line) with `arguments` appended, as winrs does.
    static func command(shellID: String, command: String, arguments: [String]) -> WSManRequest {
        var body = "<rsp:CommandLine><rsp:Command>\(escape(command))</rsp:Command>"
        for argument in arguments { body += "<rsp:Arguments>\(escape(argument))</rsp:Arguments>" }
        body += "</rsp:CommandLine>"
        return WSManRequest(action: .command, shellID: shellID,
                            options: [("WINRS_CONSOLEMODE_STDIN", "TRUE"), ("WINRS_SKIP_CMD_SHELL", "FALSE")], body: body)
    }

    static func receive(shellID: String, commandID: String) -> WSManRequest {
        WSManRequest(action: .receive, shellID: shellID,
                     body: "<rsp:Receive><rsp:DesiredStream CommandId=\"\(escape(commandID))\">stdout stderr</rsp:DesiredStream></rsp:Receive>")
    }

    static func signal(shellID: String, commandID: String) -> WSManRequest {
        WSManRequest(action: .signal, shellID: shellID,
                     body: "<rsp:Signal CommandId=\"\(escape(commandID))\"><rsp:Code>\(terminateSignal)</rsp:Code></rsp:Signal>")
    }

    static func delete(shellID: String) -> WSManRequest {
        WSManRequest(action: .delete, shellID: shellID, body: "")
    }

    /// The envelope. `operationTimeout` is how long the server may hold the request (a Receive
    /// waits up to it for output, then faults with w:TimedOut); `maxEnvelopeSize` caps the reply.
    func envelope(to endpoint: String, maxEnvelopeSize: Int, operationTimeout: Double, locale: String) -> String {
        var header = """
            <a:To>\(Self.escape(endpoint))</a:To>\
            <w:ResourceURI s:mustUnderstand="true">\(Self.shellResource)</w:ResourceURI>\
            <a:ReplyTo><a:Address s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>\
            <a:Action s:mustUnderstand="true">\(action.rawValue)</a:Action>\
            <w:MaxEnvelopeSize s:mustUnderstand="true">\(maxEnvelopeSize)</w:MaxEnvelopeSize>\
            <a:MessageID>\(messageID)</a:MessageID>\
            <w:Locale xml:lang="\(Self.escape(locale))" s:mustUnderstand="false"/>\
            <p:DataLocale xml:lang="\(Self.escape(locale))" s:mustUnderstand="false"/>\
            <w:OperationTimeout>\(Self.duration(operationTimeout))</w:OperationTimeout>
            """
        if let shellID {
            header += "<w:SelectorSet><w:Selector Name=\"ShellId\">\(Self.escape(shellID))</w:Selector></w:SelectorSet>"
        }
        if !options.isEmpty {
            header += "<w:OptionSet>"
            for option in options { header += "<w:Option Name=\"\(option.name)\">\(Self.escape(option.value))</w:Option>" }
            header += "</w:OptionSet>"
        }
        return """
            <?xml version="1.0" encoding="UTF-8"?>\
            <s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" \
            xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" \
            xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" \
            xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd" \
            xmlns:rsp="\(Self.shellNamespace)">\
            <s:Header>\(header)</s:Header><s:Body>\(body)</s:Body></s:Envelope>
            """
    }

    /// xs:duration with millisecond precision, as Windows writes it ("PT20.000S").
    static func duration(_ seconds: Double) -> String {
        String(format: "PT%.3fS", max(0.001, seconds))
    }

    /// Text and attribute values. Characters XML 1.0 cannot carry at all (NUL, most C0 controls)
    /// are refused by the caller before this point (see `representable`).
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            case "\r": result += "&#13;"  // kept, not normalized to \n by the server's parser
            default: result.unicodeScalars.append(character)
            }
        }
        return result
    }

    /// Whether XML 1.0 can carry `text` (tab, LF and CR are the only C0 controls allowed).
    static func representable(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { $0.value >= 0x20 || $0 == "\t" || $0 == "\n" || $0 == "\r" }
            && !text.unicodeScalars.contains { $0.value == 0xFFFE || $0.value == 0xFFFF }
    }
}

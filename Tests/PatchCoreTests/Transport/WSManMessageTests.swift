import Foundation
import Testing
@testable import PatchCore

/// The XML reader and the WS-Management messages, without a network.
@Suite struct WSManMessageTests {
    static func parse(_ text: String) throws -> XMLReader.Element {
        try XMLReader.parse(Array(text.utf8))
    }

    @Test func readerResolvesNamespacesEntitiesAndCDATA() throws {
        let root = try Self.parse("""
            <?xml version="1.0" encoding="utf-8"?>
            <!-- a comment -->
            <s:Envelope xmlns:s="urn:soap" xmlns="urn:default"><s:Body a:x='1' xmlns:a="urn:a">
              <item name="a &amp; b">x &lt; y &#233;&#x1F642;<![CDATA[<raw> & ]]></item><s:Empty/>
            </s:Body></s:Envelope>
            """)
        #expect(root.namespace == "urn:soap" && root.name == "Envelope")
        let item = try #require(root.first("item", namespace: "urn:default"))
        #expect(item.attributes["name"] == "a & b")
        #expect(item.text == "x < y é🙂<raw> & ")
        #expect(root.first("Body")?.attributes["x"] == "1")
        #expect(root.first("Empty", namespace: "urn:soap") != nil)
        #expect(root.first("Empty", namespace: "urn:other") == nil)
        #expect(root.all("item").count == 1)
    }

    @Test func readerRefusesWhatItShouldNot() {
        for bad in ["<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>", "<a><b></a></b>", "<a>", "<p:a/>", "<a>&bogus;</a>", "<a/><b/>", ""] {
            #expect(throws: XMLReader.Failure.self, "\(bad)") { _ = try Self.parse(bad) }
        }
    }

    /// The fault Windows sends when a Receive saw no output within OperationTimeout.
    static let windowsTimedOut = """
        <s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" \
        xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">\
        <s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action>\
        <a:MessageID>uuid:A1C3F5E7-0000-0000-0000-000000000001</a:MessageID>\
        <a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>\
        <a:RelatesTo>uuid:B2D4F6A8-0000-0000-0000-000000000002</a:RelatesTo></s:Header>\
        <s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:TimedOut</s:Value></s:Subcode></s:Code>\
        <s:Reason><s:Text xml:lang="en-US">The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  </s:Text></s:Reason>\
        <s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150858793" Machine="win1.corp.example">\
        <f:Message>The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  </f:Message>\
        </f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>
        """

    @Test func windowsTimedOutFaultIsRecognized() throws {
        let fault = try #require(WSManResponse.fault(in: try Self.parse(Self.windowsTimedOut)))
        #expect(fault.code == "s:Receiver" && fault.subcode == "w:TimedOut" && fault.wsmanCode == 2_150_858_793)
        #expect(fault.isOperationTimeout)
        // Reason and message are the same text: said once.
        #expect(fault.description == "w:TimedOut (2150858793): The WS-Management service cannot complete the operation within the time specified in OperationTimeout.")
    }

    @Test func providerFaultTextIsKept() throws {
        let text = Self.windowsTimedOut
            .replacingOccurrences(of: "w:TimedOut", with: "w:InvalidSelectors")
            .replacingOccurrences(of: "2150858793", with: "2150858843")
            .replacingOccurrences(of: "<f:Message>The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  </f:Message>",
                                  with: "<f:Message><f:ProviderFault provider=\"Shell cmd plugin\" path=\"%systemroot%\\system32\\winrscmd.dll\">The shell was not found on the server.</f:ProviderFault></f:Message>")
        let fault = try #require(WSManResponse.fault(in: try Self.parse(text)))
        #expect(!fault.isOperationTimeout)
        #expect(fault.message == "The shell was not found on the server.")
        #expect(WSManResponse.fault(in: try Self.parse("<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body/></s:Envelope>")) == nil)
    }

    @Test func receiveOutputAcrossStreams() throws {
        let id = "1A2B"
        let reply = try Self.parse("""
            <s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><s:Body>\
            <rsp:ReceiveResponse><rsp:Stream Name="stdout" CommandId="1a2b">aGVs</rsp:Stream><rsp:Stream Name="stdout" CommandId="1A2B">bG8K</rsp:Stream>\
            <rsp:Stream Name="stderr" CommandId="1A2B">ZXJy</rsp:Stream><rsp:Stream Name="stdout" CommandId="OTHER">eA==</rsp:Stream>\
            <rsp:Stream Name="stdout" CommandId="1A2B" End="true"></rsp:Stream>\
            <rsp:CommandState CommandId="1A2B" State="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done">\
            <rsp:ExitCode>3221225786</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse></s:Body></s:Envelope>
            """)
        let output = try WSManResponse.output(in: reply, commandID: id)
        #expect(String(decoding: output.stdout, as: UTF8.self) == "hello\n")
        #expect(String(decoding: output.stderr, as: UTF8.self) == "err")
        #expect(output.done && output.exitCode == 3_221_225_786)
        // A DWORD exit code such as 0xC000013A keeps its bits in CommandResult's Int32.
        #expect(Int32(truncatingIfNeeded: output.exitCode!) == Int32(bitPattern: 0xC000_013A))
    }

    @Test func envelopeCarriesTheCommandIntact() throws {
        let command = "echo \"a & b\" <in >out 'q' \r\n é 日本"
        let request = WSManRequest.command(shellID: "S-1", command: command, arguments: ["x<y", "&amp;"])
        let text = request.envelope(to: "https://win1:5986/wsman", maxEnvelopeSize: 153_600, operationTimeout: 20, locale: "en-US")
        let root = try Self.parse(text)
        let shell = WSManRequest.shellNamespace
        #expect(root.first("Command", namespace: shell)?.text == command)
        #expect(root.all("Arguments", namespace: shell).map(\.text) == ["x<y", "&amp;"])
        #expect(root.first("OperationTimeout")?.text == "PT20.000S")
        #expect(root.first("MaxEnvelopeSize")?.text == "153600")
        #expect(root.first("Action")?.text == WSManRequest.Action.command.rawValue)
        #expect(root.first("ResourceURI")?.text == WSManRequest.shellResource)
        #expect(root.all("Selector").first?.attributes["Name"] == "ShellId")
        #expect(root.all("Option").map { $0.attributes["Name"] ?? "" } == ["WINRS_CONSOLEMODE_STDIN", "WINRS_SKIP_CMD_SHELL"])
        #expect(WSManRequest.duration(0.25) == "PT0.250S")
        #expect(!WSManRequest.representable("a\u{0}b") && !WSManRequest.representable("\u{1b}[0m") && WSManRequest.representable("a\tb\r\n"))
    }

    @Test func offeredSchemesAndTokens() {
        let response = HTTPConnection.Response(status: 401, headers: [
            ("www-authenticate", "Negotiate"), ("www-authenticate", "Basic realm=\"WSMAN\""),
            ("www-authenticate", "Kerberos, NTLM"), ("www-authenticate", "NTLM TlRMTVNTUAACAAAA"),
        ], body: [])
        #expect(WinRMClient.schemes(response) == ["Negotiate", "Basic", "Kerberos", "NTLM", "NTLM"])
        #expect(WinRMClient.token(in: response, scheme: "ntlm") == Array("NTLMSSP".utf8) + [0, 2, 0, 0, 0])
        #expect(WinRMClient.token(in: response, scheme: "Negotiate") == nil)
    }
}

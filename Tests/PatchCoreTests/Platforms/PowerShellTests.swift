import Foundation
import Testing
@testable import PatchCore

@Suite("PowerShell -EncodedCommand")
struct PowerShellTests {
    /// Vectors computed on 2026-11-25 with CPython 3.11.7:
    /// `base64.b64encode(s.encode('utf-16-le')).decode()` for each script below (the same bytes
    /// `[Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($s))` gives in PowerShell).
    /// Non-ASCII characters are written as escapes so the source's own normalisation cannot change them.
    @Test(arguments: [
        // Single quotes (doubled, as PowerShell escapes them) and double quotes.
        ("Write-Output 'it''s \"quoted\"'", "VwByAGkAdABlAC0ATwB1AHQAcAB1AHQAIAAnAGkAdAAnACcAcwAgACIAcQB1AG8AdABlAGQAIgAnAA=="),
        // é (U+00E9) and 日本 (U+65E5 U+672C): one UTF-16 unit each.
        ("Write-Output 'caf\u{E9} \u{65E5}\u{672C}'", "VwByAGkAdABlAC0ATwB1AHQAcAB1AHQAIAAnAGMAYQBmAOkAIADlZSxnJwA="),
        // 😀 (U+1F600) becomes the surrogate pair D83D DE00.
        ("Write-Output '\u{1F600}'", "VwByAGkAdABlAC0ATwB1AHQAcAB1AHQAIAAnAD3YAN4nAA=="),
        // LF, and a CRLF that Swift holds as one Character but must still encode as two units.
        ("$a = 1\n$b = 2\r\nWrite-Output ($a + $b)", "JABhACAAPQAgADEACgAkAGIAIAA9ACAAMgANAAoAVwByAGkAdABlAC0ATwB1AHQAcAB1AHQAIAAoACQAYQAgACsAIAAkAGIAKQA="),
        ("", ""),
    ])
    func encodingMatchesPython(script: String, base64: String) {
        #expect(PowerShell.encode(script) == base64)
        #expect(PowerShell.encodedCommand(script) == "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand " + base64)
    }

    @Test func decodesBackToTheScript() throws {
        let script = "Get-Date\n'x' + \"y\" # ü \u{1F680}"
        let data = try #require(Data(base64Encoded: PowerShell.encode(script)))
        #expect(String(data: data, encoding: .utf16LittleEndian) == script)
    }

    @Test func commandLineHasNothingEitherShellInterprets() {
        // cmd.exe metacharacters and PowerShell's quote/variable characters never appear.
        let command = PowerShell.encodedCommand("Write-Output \"$env:USERNAME & | < > ^ % ' `\"")
        let base64 = command.dropFirst(PowerShell.prefix.count)
        #expect(base64.allSatisfy { $0.isLetter || $0.isNumber || $0 == "+" || $0 == "/" || $0 == "=" })
    }

    @Test func singleQuotedLiterals() {
        #expect(PowerShell.quote("plain") == "'plain'")
        #expect(PowerShell.quote("it's") == "'it''s'")
        #expect(PowerShell.quote("$(Remove-Item C:\\)") == "'$(Remove-Item C:\\)'")
        // Typographic single quotes also end a literal in PowerShell, so they are doubled too.
        #expect(PowerShell.quote("a\u{2019}b") == "'a\u{2019}\u{2019}b'")
    }

    @Test func windowsLineEndsAndBOMAreNormalised() {
        #expect(PowerShell.normalizedLines("\u{FEFF}a\r\nb\r\n") == "a\nb\n")
        #expect(PowerShell.normalizedLines("   - \r   \\ \rName  Id\r\nrow\n") == "Name  Id\nrow\n")
    }
}

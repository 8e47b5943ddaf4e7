import Foundation
import Testing
@testable import PatchCore

/// Parses `text` as the INI file /inv/hosts.ini.
func parseINI(_ text: String, environment: [String: String] = ["HOME": "/home/tester"]) throws(PatchError) -> Inventory {
    try Inventory.parse(yaml: text, file: "hosts.ini", baseDirectory: "/inv", environment: environment)
}

/// The error `text` (as hosts.ini) produces, checked for position and message fragments.
func expectINIError(_ text: String, line: Int, column: Int, _ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try parseINI(text)
        Issue.record("expected an inventory error", sourceLocation: sourceLocation)
    } catch let PatchError.inventory(file, errorLine, errorColumn, message) {
        #expect(file == "hosts.ini", sourceLocation: sourceLocation)
        #expect(errorLine == line, "\(message)", sourceLocation: sourceLocation)
        #expect(errorColumn == column, "\(message)", sourceLocation: sourceLocation)
        for fragment in fragments { #expect(message.contains(fragment), "\(message)", sourceLocation: sourceLocation) }
    } catch {
        Issue.record("expected PatchError.inventory, got \(error)", sourceLocation: sourceLocation)
    }
}

@Suite("INI inventories")
struct INIInventoryTests {
    @Test func sectionsChildrenAndVarsFeedTheSameResolution() throws {
        let inventory = try parseINI("""
            loose ansible_host=10.0.0.9
            [web]
            web1
            web2 ansible_port=2222
            [db]
            db1
            [prod:children]
            web
            db
            [prod:vars]
            ansible_user=deploy
            [web:vars]
            ansible_user=www
            """)
        #expect(inventory.hosts.map(\.name) == ["loose", "web1", "web2", "db1"])
        #expect(inventory.groups["ungrouped"]?.hosts == ["loose"])
        #expect(inventory.groups["prod"]?.children == ["web", "db"])
        #expect(inventory.host(named: "loose")?.address == "10.0.0.9")
        #expect(inventory.host(named: "web2")?.port == 2222)
        // The child group's variables beat the parent's, as in YAML inventories.
        #expect(inventory.host(named: "web1")?.user == "www")
        #expect(inventory.host(named: "db1")?.user == "deploy")
        #expect(inventory.host(named: "db1")?.groups == ["all", "db", "prod"])
    }

    @Test func rangesAndPortsExpandAsAnsibleDoes() throws {
        let inventory = try parseINI("""
            [web]
            web[01:03]:2201
            db-[a:c]
            node[1:10:4].example.com
            """)
        #expect(inventory.hosts.map(\.name) == ["web01", "web02", "web03", "db-a", "db-b", "db-c",
                                                "node1.example.com", "node5.example.com", "node9.example.com"])
        #expect(inventory.host(named: "web02")?.port == 2201)
        #expect(inventory.host(named: "web02")?.vars["ansible_port"] == .int(2201))
    }

    @Test func inlineValuesArePythonLiteralsAndOtherwiseText() throws {
        let inventory = try parseINI("""
            [web]
            w1 a=5 b=yes c=True d="[1, 'x']" e=010 f=0x1F g=1.5 h='two words' i=None j="{'k': [1]}" k=-3 l=10.0.0.1
            [web:vars]
            m=7
            n = hello # kept, no shlex here
            o=FALSE
            """)
        let vars = try #require(inventory.host(named: "w1")?.vars)
        #expect(vars["a"] == .int(5))
        #expect(vars["b"] == .string("yes"))
        #expect(vars["c"] == .bool(true))
        #expect(vars["d"] == .list([.int(1), .string("x")]))
        #expect(vars["e"] == .string("010"))
        #expect(vars["f"] == .int(31))
        #expect(vars["g"] == .double(1.5))
        #expect(vars["h"] == .string("two words"))
        #expect(vars["i"] == .null)
        #expect(vars["j"] == .map(["k": .list([.int(1)])]))
        #expect(vars["k"] == .int(-3))
        #expect(vars["l"] == .string("10.0.0.1"))
        // ansible-core 2.19 reads [group:vars] values with the same literal_eval (checked against
        // ansible-inventory in AnsibleParityTests).
        #expect(vars["m"] == .int(7))
        #expect(vars["n"] == .string("hello # kept, no shlex here"))
        #expect(vars["o"] == .string("FALSE"))
    }

    @Test func commentsAndBlankLinesAreSkipped() throws {
        let inventory = try parseINI("""
            # comment
            ; other comment

            [web]   # header comment
            web1 # trailing comment
            web2 x=a#b
            """)
        #expect(inventory.hosts.map(\.name) == ["web1", "web2"])
        // shlex: `#` starts a comment even inside a word.
        #expect(inventory.host(named: "web2")?.vars["x"] == .string("a"))
    }

    @Test func emptySectionDeclaresTheGroup() throws {
        let inventory = try parseINI("[web]\nweb1\n[empty]\n[parent:children]\nempty\n")
        #expect(inventory.groups["empty"]?.hosts == [])
        #expect(inventory.groups["parent"]?.children == ["empty"])
    }

    @Test func errorsNameLineAndColumn() {
        expectINIError("[web]\nweb1 port\n", line: 2, column: 6, "expected key=value", "'port'")
        expectINIError("[web:hosts]\nweb1\n[web:bogus]\n", line: 3, column: 1, "unknown type 'bogus'")
        expectINIError("[a b]\nx\n", line: 1, column: 1, "invalid section header")
        expectINIError("[web]\nweb1 x='open\n", line: 2, column: 1, "no closing quotation")
        expectINIError("[web]\nweb1\n[web:vars]\njust-a-word\n", line: 4, column: 1, "expected key=value")
        expectINIError("[web]\n  web1:\n", line: 2, column: 3, "reserved for a port")
        expectINIError("[web]\nweb1\n[prod:children]\nweb\nmissing\n", line: 5, column: 1, "names group 'missing'", "add a [missing] section")
        expectINIError("[web]\nweb1\n[ghost:vars]\nx=1\n", line: 3, column: 1, "[ghost:vars]", "never declares")
        expectINIError("[web]\nweb1 ansible_port=99999\n", line: 2, column: 6, "ansible_port")
        expectINIError("[web]\nweb1 ansible_password=secret\n", line: 2, column: 6, "plain-text password")
        // Carriage returns only: shlex finds no word (this used to index an empty list).
        expectINIError("[web]\nweb1\n\r\r\n", line: 3, column: 1, "blank characters")
    }

    @Test func aChildDeclaredLaterInTheFileIsFine() throws {
        let inventory = try parseINI("[prod:children]\nweb\n[web]\nweb1\n")
        #expect(inventory.host(named: "web1")?.groups == ["all", "prod", "web"])
    }

    @Test func cyclesAndNameClashesAreTheYAMLReadersChecks() {
        expectINIError("[a:children]\nb\n[b:children]\na\n[a]\nh\n", line: 4, column: 1, "group cycle")
        expectINIError("[web]\nweb\n", line: 2, column: 1, "both a host and a group")
    }
}

@Suite("Python literals (INI values)")
struct PythonLiteralTests {
    @Test(arguments: [
        ("1_000", PythonLiteral.int(1000)), ("0o17", .int(15)), ("0b101", .int(5)), ("00", .int(0)),
        (".5", .double(0.5)), ("1e3", .double(1000)), ("-2.5", .double(-2.5)), ("+4", .int(4)),
        ("'a' \"b\"", .string("ab")), ("r'\\n'", .string("\\n")), ("'\\x41\\u00e9'", .string("Aé")),
        ("(1,)", .list([.int(1)])), ("()", .list([])), ("(1)", .int(1)), ("[1, 2,]", .list([.int(1), .int(2)])),
        ("{}", .dict([])), ("{'a': 1, 'a': 2}", .dict([("a", .int(2))])), ("True # note", .bool(true)),
    ])
    func literals(text: String, expected: PythonLiteral) {
        #expect(PythonLiteral.value(of: text) == expected)
    }

    @Test(arguments: ["yes", "010", "1__0", "--1", "-True", "1+2", "foo", "[a]", "{[1]: 2}", "'open", "1.2.3", "f'x'", "1j", ""])
    func notLiteralsStayText(text: String) {
        #expect(PythonLiteral.value(of: text) == .string(text))
    }
}

@Suite("Shell words (shlex)")
struct ShellWordsTests {
    @Test func quotingAndOffsets() throws {
        let words = try ShellWords.split(#"a 'b c' "d \" e" f\ g"#)
        #expect(words.map(\.text) == ["a", "b c", "d \" e", "f g"])
        #expect(words.map(\.offset) == [0, 2, 8, 17])
        #expect(try ShellWords.split("x ''").map(\.text) == ["x", ""])
        #expect(try ShellWords.split("x #y", comments: true).map(\.text) == ["x"])
        #expect(try ShellWords.split("x #y").map(\.text) == ["x", "#y"])
        #expect(throws: ShellWords.Problem.self) { try ShellWords.split("'open") }
        #expect(throws: ShellWords.Problem.self) { try ShellWords.split("end\\") }
    }
}

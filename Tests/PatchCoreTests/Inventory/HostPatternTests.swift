import Foundation
import Testing
@testable import PatchCore

/// `--limit` patterns against the Ansible-docs fixture, whose hosts in file order are:
/// mail, foo, bar, one, two, three (.example.com), host1-3, jumphost, www01-03, db-a..c.
@Suite("Host patterns")
struct HostPatternTests {
    let inventory: Inventory

    init() throws {
        inventory = try InventoryFixtures.load("ansible-docs.yml")
    }

    /// Names selected by `pattern`, short names for *.example.com hosts.
    func select(_ pattern: String?, in directory: String = "/") throws -> [String] {
        try inventory.select(pattern, currentDirectory: directory).map {
            $0.name.replacingOccurrences(of: ".example.com", with: "")
        }
    }

    func patternError(_ pattern: String, in directory: String = "/") -> String? {
        do {
            _ = try inventory.select(pattern, currentDirectory: directory)
            Issue.record("expected a pattern error for \(pattern)")
        } catch let PatchError.pattern(written, message) {
            #expect(written == pattern)
            return message
        } catch {
            Issue.record("expected PatchError.pattern, got \(error)")
        }
        return nil
    }

    static let everyHost = [
        "mail", "foo", "bar", "one", "two", "three", "host1", "host2", "host3", "jumphost",
        "www01", "www02", "www03", "db-a", "db-b", "db-c",
    ]

    // MARK: Names

    @Test func nilAllAndStarSelectEveryHost() throws {
        #expect(try select(nil) == Self.everyHost)
        #expect(try select("all") == Self.everyHost)
        #expect(try select("*") == Self.everyHost)
    }

    @Test func hostAndGroupNames() throws {
        #expect(try select("foo.example.com") == ["foo"])
        #expect(try select("webservers") == ["foo", "bar"])
        #expect(try select("prod") == ["foo", "one", "two"])  // through its child east
        #expect(try select("usa") == ["host1", "host2", "host3"])
        #expect(try select("ungrouped") == ["mail"])
        #expect(try select("northeast") == [])  // an existing empty group is not an error
    }

    // MARK: Operators

    @Test func unionWithColonOrComma() throws {
        #expect(try select("dbservers:webservers") == ["foo", "bar", "one", "two", "three"])
        #expect(try select("dbservers,webservers") == ["foo", "bar", "one", "two", "three"])
        #expect(try select("dbservers, webservers ,jumphost") == ["foo", "bar", "one", "two", "three", "jumphost"])
        #expect(try select("east:dbservers") == ["foo", "one", "two", "three"])  // no duplicates
    }

    @Test func intersection() throws {
        #expect(try select("webservers:&east") == ["foo"])
        #expect(try select("dbservers:&west") == ["three"])
        #expect(try select("all:&webservers:&west") == ["bar"])
    }

    @Test func exclusion() throws {
        #expect(try select("webservers:!east") == ["bar"])
        #expect(try select("dbservers:!one.example.com:!two.example.com") == ["three"])
    }

    @Test func onlyExclusionsOrIntersectionsStartFromAll() throws {
        #expect(try select("!webfarm:!usa") == ["mail", "foo", "bar", "one", "two", "three", "jumphost"])
        #expect(try select("&east") == ["foo", "one", "two"])
    }

    @Test func unionThenIntersectionThenExclusionWhateverTheOrder() throws {
        // Written left to right this would exclude foo before adding webservers back.
        #expect(try select("!foo.example.com:webservers") == ["bar"])
        #expect(try select("&east:webservers:dbservers") == ["foo", "one", "two"])
        #expect(try select("!two.example.com:&east:dbservers:webservers") == ["foo", "one"])
        #expect(try select("!two.example.com,&east,dbservers,webservers") == ["foo", "one"])
    }

    @Test func mixedCommaAndColonSeparators() throws {
        // Ansible would read "webservers:!east" as one name; patchctl splits it, and exclusions
        // still apply after every union.
        #expect(try select("webservers:!east,dbservers") == ["bar", "three"])
    }

    // MARK: Globs and regexes

    @Test func globsMatchHostNames() throws {
        #expect(try select("www*") == ["www01", "www02", "www03"])
        #expect(try select("db-?.example.com") == ["db-a", "db-b", "db-c"])
        #expect(try select("db-[ab].example.com") == ["db-a", "db-b"])
        #expect(try select("db-[!ab].example.com") == ["db-c"])
        #expect(try select("*.example.com:!www*:!db-*") == ["mail", "foo", "bar", "one", "two", "three"])
    }

    @Test func globsMatchGroupNames() throws {
        #expect(try select("*servers") == ["foo", "bar", "one", "two", "three"])
        #expect(try select("[ew]*st") == ["foo", "bar", "one", "two", "three"])  // east, west
    }

    @Test func regexesMatchFromTheStartOfHostAndGroupNames() throws {
        #expect(try select("~www0[12]") == ["www01", "www02"])
        #expect(try select("~(one|two)\\.") == ["one", "two"])
        #expect(try select("~south") == ["host1", "host2", "host3"])  // the group southeast
        #expect(try select("~.*ample\\.com$:!~www") == [
            "mail", "foo", "bar", "one", "two", "three", "db-a", "db-b", "db-c",
        ])
        // Anchored at the start (Python's re.match), not a search anywhere in the name.
        #expect(patternError("~ample")?.contains("'~ample' matches no host or group") == true)
    }

    @Test func regexMayContainColonsWhenTermsAreCommaSeparated() throws {
        #expect(try select("~(?:www01|www03),jumphost") == ["jumphost", "www01", "www03"])
    }

    @Test func invalidRegexIsAnError() {
        #expect(patternError("~web(")?.contains("invalid regular expression 'web('") == true)
    }

    // MARK: Slices

    @Test func slicesCountFromZeroAndIncludeTheEnd() throws {
        #expect(try select("dbservers[0]") == ["one"])
        #expect(try select("dbservers[1]") == ["two"])
        #expect(try select("dbservers[-1]") == ["three"])
        #expect(try select("dbservers[0:1]") == ["one", "two"])
        #expect(try select("dbservers[1:]") == ["two", "three"])
        #expect(try select("dbservers[1:10]") == ["two", "three"])  // clamped
        #expect(try select("webfarm[2:4]:&www*") == ["www03"])
        #expect(try select("all:!dbservers[0:1]") == Self.everyHost.filter { $0 != "one" && $0 != "two" })
    }

    @Test func outOfRangeSlicesAreErrors() {
        #expect(patternError("dbservers[3]")?.contains("no host at position 3 of dbservers[3]: 'dbservers' has 3 hosts") == true)
        #expect(patternError("dbservers[-4]")?.contains("no host at position -4") == true)
        #expect(patternError("dbservers[5:7]")?.contains("selects no host") == true)
    }

    @Test func dashSlicesAreRejectedWithTheColonForm() {
        #expect(patternError("dbservers[0-1]")?.contains("write 'dbservers[0:1]'") == true)
    }

    // MARK: Unknown terms

    @Test func unknownNamesAreErrorsWithASuggestion() {
        #expect(patternError("webserver") == "unknown host or group 'webserver' (did you mean 'webservers'?)")
        #expect(patternError("webservers:!nosuchgroup") == "unknown host or group 'nosuchgroup'")
        #expect(patternError("zzz*") == "'zzz*' matches no host or group")
    }

    @Test func emptyPatternsAreErrors() {
        #expect(patternError("")?.contains("selects nothing") == true)
        #expect(patternError(" , :")?.contains("selects nothing") == true)
        #expect(patternError("webservers:!")?.contains("must be followed by") == true)
    }

    @Test func errorDescriptionNamesThePattern() {
        let error = PatchError.pattern(pattern: "webserver", message: "unknown host or group 'webserver'")
        #expect(error.description == "invalid host pattern 'webserver': unknown host or group 'webserver'")
    }

    // MARK: @file

    @Test func limitFileListsOnePatternPerLine() throws {
        try withTemporaryFolder { folder in
            try """
                # hosts that failed last night
                foo.example.com

                  three.example.com
                dbservers[0]
                # www01.example.com
                """.write(toFile: folder + "/retry.txt", atomically: true, encoding: .utf8)
            #expect(try select("@retry.txt", in: folder) == ["foo", "one", "three"])
            #expect(try select("@retry.txt:!one.example.com", in: folder) == ["foo", "three"])
            #expect(try select("@\(folder)/retry.txt", in: "/") == ["foo", "one", "three"])
            // Operators in the file combine with the rest of the pattern: '&' applies to the whole union.
            try "webservers\n&east\n".write(toFile: folder + "/east.txt", atomically: true, encoding: .utf8)
            #expect(try select("dbservers:@east.txt", in: folder) == ["foo", "one", "two"])
        }
    }

    @Test func limitFileProblems() throws {
        try withTemporaryFolder { folder in
            try "# nothing here\n\n".write(toFile: folder + "/empty.txt", atomically: true, encoding: .utf8)
            try "nosuchhost\n".write(toFile: folder + "/typo.txt", atomically: true, encoding: .utf8)
            try "@other.txt\n".write(toFile: folder + "/nested.txt", atomically: true, encoding: .utf8)
            #expect(patternError("@missing.txt", in: folder) == "cannot read limit file 'missing.txt': no such file")
            // An empty limit file must not fall back to every host as Ansible does.
            #expect(patternError("@empty.txt", in: folder) == "limit file 'empty.txt' lists no host or group")
            #expect(patternError("@typo.txt", in: folder) == "unknown host or group 'nosuchhost'")
            #expect(patternError("@nested.txt", in: folder)?.contains("an @file must be a term of its own") == true)
            #expect(patternError("@", in: folder) == "'@' must be followed by a file name")
        }
    }

    // MARK: Parsing

    @Test func parsedTerms() throws {
        let pattern = try HostPattern("web*:&prod[0:2]:!~db\\d+:all[-1]")
        #expect(pattern.terms == [
            .init(operation: .union, selector: .name("web*"), slice: nil, text: "web*"),
            .init(operation: .intersection, selector: .name("prod"), slice: .range(0, 2), text: "&prod[0:2]"),
            .init(operation: .exclusion, selector: .regex("db\\d+"), slice: nil, text: "!~db\\d+"),
            .init(operation: .union, selector: .name("all"), slice: .index(-1), text: "all[-1]"),
        ])
    }

    @Test func ipv6AddressesAreNotSplit() throws {
        let inventory = try parseInventory("all:\n  hosts:\n    \"2001:db8::1\":\n    web1:\n")
        #expect(try inventory.select("2001:db8::1", currentDirectory: "/").map(\.name) == ["2001:db8::1"])
        #expect(try inventory.select("web1,2001:db8::1", currentDirectory: "/").map(\.name) == ["2001:db8::1", "web1"])
    }
}

func withTemporaryFolder(_ body: (String) throws -> Void) throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    try body(folder.path)
}

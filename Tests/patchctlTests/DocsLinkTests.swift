import Foundation
import Testing

/// README.md and docs/*.md link to each other by relative paths and `#anchors`; moving or
/// renaming a section must not leave a link pointing nowhere.
@Suite("Documentation links")
struct DocsLinkTests {
    static var pages: [URL] {
        let docs = CLI.repository.appendingPathComponent("docs")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: docs.path)) ?? []
        return [CLI.repository.appendingPathComponent("README.md")]
            + names.filter { $0.hasSuffix(".md") }.sorted().map { docs.appendingPathComponent($0) }
    }

    /// Lines outside fenced code blocks.
    static func prose(_ text: String) -> [Substring] {
        var fenced = false
        return text.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
            if line.hasPrefix("```") { fenced.toggle(); return false }
            return !fenced
        }
    }

    /// GitHub's anchor for a heading: lower case, punctuation other than `-` and `_` dropped,
    /// spaces as `-`; a repeated heading gets `-1`, `-2`...
    static func anchors(_ text: String) -> Set<String> {
        var seen: [String: Int] = [:]
        var result: Set<String> = []
        for line in prose(text) where line.hasPrefix("#") {
            let title = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
            let slug = String(title.lowercased().unicodeScalars.filter {
                CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" || $0 == " "
            }.map(Character.init)).replacingOccurrences(of: " ", with: "-")
            let count = seen[slug, default: 0]
            seen[slug] = count + 1
            result.insert(count == 0 ? slug : "\(slug)-\(count)")
        }
        return result
    }

    static func links(_ text: String) -> [String] {
        prose(text).flatMap { line in
            line.matches(of: /\]\(([^)\s]+)\)/).map { String($0.output.1) }
        }
    }

    @Test func thereArePagesWithLinks() throws {
        #expect(Self.pages.count > 10)
        #expect(Self.links(try String(contentsOf: Self.pages[0], encoding: .utf8)).count > 10)
    }

    @Test(arguments: pages)
    func everyRelativeLinkResolves(page: URL) throws {
        let text = try String(contentsOf: page, encoding: .utf8)
        for link in Self.links(text) where !link.contains("://") && !link.hasPrefix("mailto:") {
            let parts = link.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
            let path = String(parts[0])
            let target = path.isEmpty ? page : page.deletingLastPathComponent().appendingPathComponent(path).standardizedFileURL
            guard FileManager.default.fileExists(atPath: target.path) else {
                Issue.record("\(page.lastPathComponent): \(link): no such file")
                continue
            }
            if parts.count == 2, target.pathExtension == "md" {
                let anchors = Self.anchors(try String(contentsOf: target, encoding: .utf8))
                #expect(anchors.contains(String(parts[1])), "\(page.lastPathComponent): \(link): no such heading in \(target.lastPathComponent)")
            }
        }
    }

    @Test func anchorsAreGitHubs() {
        #expect(Self.anchors("# Host patterns (`--limit`)\n## One severity scale\n```\n# not a heading\n```\n## One severity scale\n")
                == ["host-patterns---limit", "one-severity-scale", "one-severity-scale-1"])
    }
}

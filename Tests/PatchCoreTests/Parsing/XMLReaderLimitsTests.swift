import Foundation
import Testing
@testable import PatchCore

/// The one XML reader both zypper's output and WinRM replies go through: endpoints control this
/// input, so depth, element count and size are bounded and a document past them is an error,
/// never a crash (200,000 nested elements once overflowed the controller's stack: exit 139).
@Suite struct XMLReaderLimitsTests {
    static func nested(_ depth: Int, inner: String = "", root: String = "stream") -> [UInt8] {
        Array(("<\(root)>" + String(repeating: "<a>", count: depth) + inner + String(repeating: "</a>", count: depth) + "</\(root)>").utf8)
    }

    @Test func deepNestingIsRefusedInBothModes() {
        let deep = Self.nested(200_000)
        #expect { try XMLReader.parseFragments(deep) } throws: { error in
            (error as? XMLReader.Failure)?.message == "elements nested deeper than 128 levels"
        }
        #expect { try XMLReader.parse(deep) } throws: { error in
            (error as? XMLReader.Failure)?.message == "elements nested deeper than 128 levels"
        }
    }

    @Test func nestingUpToTheLimitIsRead() throws {
        let limits = XMLReader.Limits(maxBytes: 1 << 20, maxDepth: 10, maxElements: 100)
        // The root plus 9 levels fit; one more does not.
        let fits = try XMLReader.parse(Self.nested(9, inner: "deep"), limits: limits)
        var element = fits
        for _ in 0..<9 { element = try #require(element.children.first) }
        #expect(element.text == "deep")
        #expect(throws: XMLReader.Failure.self) { try XMLReader.parse(Self.nested(10), limits: limits) }
    }

    @Test func elementCountAndSizeAreBounded() {
        let limits = XMLReader.Limits(maxBytes: 4096, maxDepth: 8, maxElements: 50)
        let many = Array(("<r>" + String(repeating: "<a/>", count: 51) + "</r>").utf8)
        #expect { try XMLReader.parseFragments(many, limits: limits) } throws: { error in
            (error as? XMLReader.Failure)?.message == "more than 50 elements"
        }
        let big = Array(("<r>" + String(repeating: "x", count: 5000) + "</r>").utf8)
        #expect { try XMLReader.parse(big, limits: limits) } throws: { error in
            (error as? XMLReader.Failure)?.message == "document larger than 4096 bytes"
        }
    }

    /// What the SUSE platform makes of it: a parse failure naming the limit, which the engine turns
    /// into the host's `error`.
    @Test func suseScanWithNestedPatchesIsAParseFailure() {
        let text = String(decoding: Self.nested(200_000), as: UTF8.self)
        #expect { try SusePlatform.parsePatches(text) } throws: { error in
            (error as? ParseFailure)?.description.contains("nested deeper than 128 levels") == true
        }
    }

    @Test func fragmentsKeepStrayTextAndSkipDoctype() throws {
        let document = try XMLReader.parseFragments(Array("""
            sh: warning &c
            <?xml version='1.0'?>
            <!DOCTYPE stream [<!ENTITY boom "x">]>
            <stream><update name="a&amp;b" kind="patch"><source alias="r"/></update></stream>
            """.utf8))
        #expect(document.name == "#document")
        #expect(document.text.contains("sh: warning &c"))
        let update = try #require(document.child("stream")?.child("update"))
        #expect(update["name"] == "a&b")
        #expect(update.child("source")?["alias"] == "r")
    }
}

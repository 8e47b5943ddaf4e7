import Foundation
import Testing
@testable import PatchCore

@Suite struct KEVAndEPSSFeedTests {
    @Test func kevCatalogueExcerpt() throws {
        let entries = try KEVFeed.read(path: FeedFixture.path("kev/known_exploited_vulnerabilities.json"))
        #expect(entries == [KEVEntry(cve: "CVE-2022-21971", vendor: "Microsoft", product: "Windows",
                                     name: "Microsoft Windows Runtime Remote Code Execution Vulnerability",
                                     dateAdded: "2022-08-18", dueDate: "2022-09-08", ransomware: "Unknown")])
    }

    @Test(arguments: [
        #"{"vulnerabilities": [{"cveID": "CVE-2022-1", "vendorProject": "x", "product": "y"}]}"#,
        #"{"vulnerabilities": [{"cveID": "not-a-cve", "vendorProject": "x", "product": "y", "vulnerabilityName": "z", "dateAdded": "2022-01-01"}]}"#,
        #"{"vulnerabilities": [{"cveID": "CVE-2022-1", "vendorProject": "x""#,
        #"{"title": "no vulnerabilities"}"#,
    ])
    func kevMalformed(document: String) throws {
        #expect(throws: FeedFormatError.self) { try KEVFeed.parse(Data(document.utf8)) }
    }

    @Test func kevDepthAndSizeBounded() throws {
        let deep = #"{"vulnerabilities": "# + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "}"
        #expect(throws: FeedFormatError.self) { try KEVFeed.parse(Data(deep.utf8)) }
        var limits = FeedLimits.standard
        limits.maxBytes = 100
        #expect(throws: FeedFormatError.self) { try KEVFeed.read(path: FeedFixture.path("kev/known_exploited_vulnerabilities.json"), limits: limits) }
    }

    @Test func epssScoresExcerpt() throws {
        let scores = try EPSSFeed.read(path: FeedFixture.path("epss/epss_scores-2023-03-07.csv"))
        #expect(scores == [EPSSScore(cve: "CVE-2020-5902", score: 0.97567, percentile: 0.99995),
                           EPSSScore(cve: "CVE-2018-19571", score: 0.00113, percentile: 0.43131)])
    }

    /// The download is gzipped; read once Gzip (on zlib) is in the build.
    @Test func epssGzipped() throws {
        #expect(try EPSSFeed.read(path: FeedFixture.path("epss/epss_scores-2023-03-07.csv.gz"))
                == EPSSFeed.read(path: FeedFixture.path("epss/epss_scores-2023-03-07.csv")))
    }

    @Test(arguments: [
        "cve,epss\nCVE-2020-5902,0.9\n",
        "#model_version:v2023.03.01\ncve,epss,percentile\nCVE-2020-5902,1.5,0.9\n",
        "cve,epss,percentile\nCVE-2020-5902,0.5\n",
        "cve,epss,percentile\nGHSA-1,0.5,0.5\n",
        "no header here\n",
        "",
    ])
    func epssMalformed(text: String) throws {
        #expect(throws: FeedFormatError.self) { try EPSSFeed.parse(Data(text.utf8)) }
    }
}

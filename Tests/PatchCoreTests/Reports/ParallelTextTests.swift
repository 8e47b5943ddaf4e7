import Foundation
import Testing
@testable import PatchCore

/// `ParallelText`: a large report's hosts and patches made on every core, handed out in order.
@Suite("Text made on every core, in order")
struct ParallelTextTests {
    struct Failure: Error, Equatable {
        var index: Int
    }

    @Test(arguments: [0, 1, 5, 6, 7, 19, 20, 21, 100])
    func piecesComeOutInOrderWhateverTheirNumber(count: Int) throws {
        var text = "", pieces = 0
        try ParallelText.render(count: count, chunk: 5, piece: { "<\($0)>" }, output: { piece in
            text += piece
            pieces += 1
        })
        #expect(text == (0..<count).map { "<\($0)>" }.joined())
        // More than a chunk's worth goes out in several pieces, not gathered whole.
        if count > 10 { #expect(pieces > 1) }
    }

    @Test func theFirstFailingPieceInOrderIsThrownAndNothingAfterItGoesOut() {
        var text = ""
        #expect(throws: Failure(index: 23)) {
            try ParallelText.render(count: 100, chunk: 5, piece: { index in
                if index == 23 || index == 61 { throw Failure(index: index) }
                return "<\(index)>"
            }, output: { text += $0 })
        }
        #expect(!text.contains("<23>") && !text.contains("<24>") && !text.contains("<61>"))
    }
}

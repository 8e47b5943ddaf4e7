import Foundation

/// A message from an endpoint (apt, dpkg, an installer) kept whole up to a bound. Past the bound
/// it is cut where a sentence or clause ends, not mid-word, and marked with "…" so nobody runs
/// half a repair command thinking it is all of it.
public enum BoundedMessage {
    static let marker = " …"
    /// A failure line's reason (`HostOutcome.failureLine`): room for apt's error and dpkg's audit of a few packages.
    public static let failureLineBytes = 1200

    /// `text` if it fits in `bytes` (UTF-8); else its longest prefix ending a sentence or clause
    /// (`.`, `!`, `?`, `:` or `;` before a space or the end), else a word, plus " …".
    public static func bounded(_ text: String, bytes limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        let budget = max(0, limit - marker.utf8.count)
        var used = 0
        var end = text.startIndex
        var sentence: String.Index?
        var word: String.Index?
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let size = character.utf8.count
            guard used + size <= budget else { break }
            used += size
            let next = text.index(after: index)
            let followedBySpace = next == text.endIndex || text[next].isWhitespace
            if ".!?:;".contains(character), followedBySpace { sentence = next }
            if character.isWhitespace { word = index }
            end = next
            index = next
        }
        // A boundary that keeps at least half the budget; a hard cut only for text without one.
        let half = budget / 2
        let cut = [sentence, word].compactMap { $0 }.first { text.utf8.distance(from: text.startIndex, to: $0) >= half } ?? end
        return text[..<cut].trimmingCharacters(in: .whitespaces) + marker
    }
}

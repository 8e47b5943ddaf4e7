/// zypper's `--xmlout`, read by the shared bounded `XMLReader` in fragments mode: zypper uses no
/// namespaces, and stray non-XML text (a shell error merged into the stream) is kept outside the
/// root element instead of failing the whole parse.
extension SusePlatform {
    typealias XMLNode = XMLReader.Element

    /// Parses a document into a synthetic `#document` node whose children are the top-level
    /// elements; text outside any element ends up in its `text`.
    static func parseXML(_ document: String) throws(ParseFailure) -> XMLNode {
        do {
            return try XMLReader.parseFragments(Array(document.utf8))
        } catch {
            throw ParseFailure("zypper XML: \(error)")
        }
    }
}

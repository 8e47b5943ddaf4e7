import Foundation

/// The JSON history keeps inside its rows and journal (a deploy host's document, a run's options
/// and report). Its own type so persistence does not depend on how reports print: the format
/// (sorted keys, `Timestamp` dates) is frozen by the databases already written with it.
public enum StoreCodec {
    public static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw StoreCodecError(type: "\(T.self)", operation: "encode", underlying: error)
        }
    }

    public static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        try decode(type, from: Data(text.utf8))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a timestamp: \(text)")
            }
            return date
        }
        do {
            return try decoder.decode(type, from: data)
        } catch {
            throw StoreCodecError(type: "\(T.self)", operation: "decode", underlying: error)
        }
    }
}

/// A stored document that could not be written or read back: which type, and why.
public struct StoreCodecError: Error, CustomStringConvertible {
    public var type: String
    public var operation: String
    public var underlying: any Error

    public var description: String { "cannot \(operation) a \(type) document: \(underlying)" }
}

import Logging

/// Wraps the log handler that writes to the terminal (stderr) so that log lines cannot carry
/// escape sequences: the message and every metadata key and value (host names, remote error
/// text, file paths) are neutralised on one line (`TerminalText`), whatever set them.
public struct NeutralisingLogHandler: LogHandler {
    private var wrapped: any LogHandler

    public init(wrapping handler: any LogHandler) {
        wrapped = handler
    }

    public var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = Self.neutralised(newValue) }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { wrapped.metadataProvider }
        set { wrapped.metadataProvider = newValue.map { provider in .init { Self.neutralised(provider.get()) } } }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: TerminalText.neutralised(key)] = newValue.map(Self.neutralised) }
    }

    public func log(event: LogEvent) {
        var event = event
        event.message = "\(TerminalText.neutralised(event.message.description))"
        event.metadata = event.metadata.map(Self.neutralised)
        if let error = event.error {
            // Its description would be printed as is: pass it as (neutralised) metadata instead.
            event.metadata = (event.metadata ?? [:]).merging(Self.neutralised(["error.message": "\(error)"]), uniquingKeysWith: { first, _ in first })
            event.error = nil
        }
        wrapped.log(event: event)
    }

    static func neutralised(_ metadata: Logger.Metadata) -> Logger.Metadata {
        Dictionary(metadata.map { (TerminalText.neutralised($0.key), neutralised($0.value)) }, uniquingKeysWith: { first, _ in first })
    }

    static func neutralised(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case let .string(text): return .string(TerminalText.neutralised(text))
        case let .stringConvertible(convertible): return .string(TerminalText.neutralised(convertible.description))
        case let .array(values): return .array(values.map(neutralised))
        case let .dictionary(values): return .dictionary(neutralised(values))
        }
    }
}

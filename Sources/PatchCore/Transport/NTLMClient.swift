import Crypto
import Foundation

/// The client side of NTLMv2 (MS-NLMP) as HTTP authentication uses it: a NEGOTIATE message,
/// then an AUTHENTICATE message answering the server's challenge. No session security (signing,
/// sealing) is negotiated: over HTTPS TLS protects the messages; over plain HTTP the server must
/// accept unencrypted messages (WinRM's AllowUnencrypted).
struct NTLMClient {
    static let signature: [UInt8] = Array("NTLMSSP".utf8) + [0]

    /// UNICODE | REQUEST_TARGET | NTLM | ALWAYS_SIGN | EXTENDED_SESSIONSECURITY | TARGET_INFO | 128 | 56.
    static let negotiateFlags: UInt32 = 0x0000_0001 | 0x0000_0004 | 0x0000_0200 | 0x0000_8000
        | 0x0008_0000 | 0x0080_0000 | 0x2000_0000 | 0x8000_0000

    var user: String
    var domain: String
    var workstation: String
    /// NTOWFv1: MD4 of the UTF-16LE password; the password itself is not kept.
    private var passwordHash: [UInt8]

    /// `account` may be `DOMAIN\user`, `user@domain` (sent whole, with an empty domain, as
    /// Windows clients do) or a local `user`.
    init(account: String, password: String, workstation: String = "") {
        if let slash = account.firstIndex(of: "\\") {
            domain = String(account[..<slash])
            user = String(account[account.index(after: slash)...])
        } else {
            domain = ""
            user = account
        }
        self.workstation = workstation
        passwordHash = MD4.hash(Self.utf16(password))
    }

    /// NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1) without domain, workstation or version.
    func negotiateMessage() -> [UInt8] {
        var message = Self.signature
        message += Self.bytes(UInt32(1))
        message += Self.bytes(Self.negotiateFlags)
        message += [UInt8](repeating: 0, count: 16)
        return message
    }

    /// AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3) with NTLMv2 responses. `clientChallenge` and `time`
    /// (FILETIME: 100 ns since 1601) are parameters so the spec's vectors can be reproduced.
    func authenticateMessage(_ challenge: NTLMChallenge, clientChallenge: [UInt8] = Self.randomBytes(8),
                             time: UInt64? = nil) -> (message: [UInt8], sessionBaseKey: [UInt8]) {
        let timestamp = challenge.timestamp
        let response = Self.ntlmv2Response(
            responseKey: responseKeyNT, serverChallenge: challenge.serverChallenge, clientChallenge: clientChallenge,
            time: timestamp ?? time ?? Self.fileTimeNow(), targetInfo: challenge.targetInfo)
        // With a server timestamp the LM response SHOULD be Z(24) (MS-NLMP 3.1.5.1.2).
        let lm = timestamp == nil ? response.lm : [UInt8](repeating: 0, count: 24)
        let fields = [lm, response.nt, Self.utf16(domain), Self.utf16(user), Self.utf16(workstation), []]
        var header = Self.signature + Self.bytes(UInt32(3))
        var payload: [UInt8] = []
        let headerLength = 64
        for field in fields {
            header += Self.bytes(UInt16(field.count)) + Self.bytes(UInt16(field.count)) + Self.bytes(UInt32(headerLength + payload.count))
            payload += field
        }
        header += Self.bytes(challenge.flags & Self.negotiateFlags)
        return (header + payload, response.sessionBaseKey)
    }

    /// NTOWFv2 (MS-NLMP 3.3.2): HMAC_MD5(NTOWFv1, UNICODE(Uppercase(User) + UserDom)).
    var responseKeyNT: [UInt8] {
        Self.hmacMD5(Self.utf16(user.uppercased() + domain), key: passwordHash)
    }

    /// ComputeResponse for NTLMv2 (MS-NLMP 3.3.2): the NT response (NTProofStr + client blob),
    /// the LMv2 response, and the session base key.
    static func ntlmv2Response(responseKey: [UInt8], serverChallenge: [UInt8], clientChallenge: [UInt8], time: UInt64,
                               targetInfo: [UInt8]) -> (nt: [UInt8], lm: [UInt8], sessionBaseKey: [UInt8]) {
        let blob: [UInt8] = [1, 1] + [UInt8](repeating: 0, count: 6) + bytes(time) + clientChallenge
            + [UInt8](repeating: 0, count: 4) + targetInfo + [UInt8](repeating: 0, count: 4)
        let proof = hmacMD5(serverChallenge + blob, key: responseKey)
        let lm = hmacMD5(serverChallenge + clientChallenge, key: responseKey) + clientChallenge
        return (proof + blob, lm, hmacMD5(proof, key: responseKey))
    }

    static func fileTimeNow() -> UInt64 {
        UInt64((Date().timeIntervalSince1970 + 11_644_473_600) * 10_000_000)
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    static func utf16(_ text: String) -> [UInt8] {
        text.utf16.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] }
    }

    static func bytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    /// HMAC-MD5 (RFC 2104), NTLMv2's only keyed hash.
    static func hmacMD5(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        Array(HMAC<Insecure.MD5>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }
}

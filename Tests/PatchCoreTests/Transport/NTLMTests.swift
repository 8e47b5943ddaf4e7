import Foundation
import Testing
@testable import PatchCore

/// MD4 and HMAC-MD5 against their RFCs' vectors, and NTLMv2 against MS-NLMP section 4.2.4 (user "User",
/// domain "Domain", password "Password", server challenge 0123456789abcdef, client challenge
/// aa×8, time 0, target info: NetBIOS domain "Domain", NetBIOS server "Server").
@Suite struct NTLMTests {
    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
    static func bytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.filter { !$0.isWhitespace })
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...($0 + 1)]), radix: 16)! }
    }

    @Test func md4MatchesRFC1320() {
        #expect(Self.hex(MD4.hash([])) == "31d6cfe0d16ae931b73c59d7e0c089c0")
        #expect(Self.hex(MD4.hash(Array("abc".utf8))) == "a448017aaf21d8525fc10ae87aa6729d")
        #expect(Self.hex(MD4.hash(Array("abcdefghijklmnopqrstuvwxyz".utf8))) == "d79e1c308aa5bbcdeea8ed63df412da9")
        let long = "12345678901234567890123456789012345678901234567890123456789012345678901234567890"
        #expect(Self.hex(MD4.hash(Array(long.utf8))) == "e33b4ddc9c38f2199c3e7b164fcc0536")
    }

    /// MD5 itself is swift-crypto's (tested there); this checks how NTLM keys it, long keys included.
    @Test func hmacMD5MatchesRFC2202() {
        #expect(Self.hex(NTLMClient.hmacMD5(Array("Hi There".utf8), key: [UInt8](repeating: 0x0b, count: 16)))
                == "9294727a3638bb1c13f48ef8158bfc9d")
        #expect(Self.hex(NTLMClient.hmacMD5(Array("what do ya want for nothing?".utf8), key: Array("Jefe".utf8)))
                == "750c783e6ab0b503eaa86e310a5db738")
        // A key longer than the block is hashed first.
        #expect(Self.hex(NTLMClient.hmacMD5(Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
                                              key: [UInt8](repeating: 0xaa, count: 80)))
                == "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd")
    }

    /// MS-NLMP 4.2.4.3: the CHALLENGE_MESSAGE of the NTLMv2 example.
    static let specChallenge = bytes("""
        4e544c4d53535000 02000000 0c000c00 38000000 33828ae2 0123456789abcdef 0000000000000000
        24002400 44000000 060070170000000f 530065007200760065007200
        02000c0044006f006d00610069006e00 01000c00530065007200760065007200 00000000
        """)

    @Test func challengeParses() throws {
        let challenge = try #require(NTLMChallenge(Self.specChallenge))
        #expect(challenge.flags == 0xe28a_8233)
        #expect(Self.hex(challenge.serverChallenge) == "0123456789abcdef")
        #expect(Self.hex(challenge.targetInfo) == "02000c0044006f006d00610069006e0001000c0053006500720076006500720000000000")
        #expect(challenge.timestamp == nil)
        #expect(NTLMChallenge(Array(Self.specChallenge.prefix(20))) == nil)
        #expect(NTLMChallenge([UInt8](repeating: 0, count: 64)) == nil)
    }

    @Test func ntlmv2MatchesMSNLMP424() throws {
        let client = NTLMClient(account: "Domain\\User", password: "Password", workstation: "COMPUTER")
        // 4.2.4.1.1 NTOWFv2 / ResponseKeyNT.
        #expect(Self.hex(client.responseKeyNT) == "0c868a403bfd7a93a3001ef22ef02e3f")
        let challenge = try #require(NTLMChallenge(Self.specChallenge))
        let clientChallenge = [UInt8](repeating: 0xaa, count: 8)
        let response = NTLMClient.ntlmv2Response(responseKey: client.responseKeyNT, serverChallenge: challenge.serverChallenge,
                                                 clientChallenge: clientChallenge, time: 0, targetInfo: challenge.targetInfo)
        // 4.2.4.1.3 session base key, 4.2.4.2.1 LMv2 response, 4.2.4.2.2 NTProofStr.
        #expect(Self.hex(response.sessionBaseKey) == "8de40ccadbc14a82f15cb0ad0de95ca3")
        #expect(Self.hex(response.lm) == "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa")
        #expect(Self.hex(Array(response.nt.prefix(16))) == "68cd0ab851e51c96aabc927bebef6a1c")
        #expect(Self.hex(Array(response.nt.dropFirst(16))) ==
                "0101000000000000" + "0000000000000000" + "aaaaaaaaaaaaaaaa" + "00000000"
                + "02000c0044006f006d00610069006e0001000c0053006500720076006500720000000000" + "00000000")

        // The AUTHENTICATE message carries exactly those responses and names.
        let (message, key) = client.authenticateMessage(challenge, clientChallenge: clientChallenge, time: 0)
        #expect(key == response.sessionBaseKey)
        #expect(Array(message.prefix(12)) == NTLMClient.signature + [3, 0, 0, 0])
        func field(_ index: Int) -> [UInt8] {
            let base = 12 + index * 8
            let length = Int(message[base]) | Int(message[base + 1]) << 8
            let offset = Int(NTLMChallenge.word(message, base + 4))
            return Array(message[offset..<(offset + length)])
        }
        #expect(field(0) == response.lm)
        #expect(field(1) == response.nt)
        #expect(field(2) == NTLMClient.utf16("Domain"))
        #expect(field(3) == NTLMClient.utf16("User"))
        #expect(field(4) == NTLMClient.utf16("COMPUTER"))
        #expect(field(5).isEmpty)
        #expect(NTLMChallenge.word(message, 60) == 0xe28a_8233 & NTLMClient.negotiateFlags)
    }

    @Test func serverTimestampIsUsedAndLMResponseIsEmpty() throws {
        // Same challenge with an MsvAvTimestamp pair inserted before MsvAvEOL.
        var info = Self.bytes("02000c0044006f006d00610069006e0001000c00530065007200760065007200")
        info += [7, 0, 8, 0] + NTLMClient.bytes(UInt64(0x01d0_0000_1234_5678)) + [0, 0, 0, 0]
        var challengeBytes = Array(Self.specChallenge.prefix(56 + 12))
        challengeBytes[40] = UInt8(info.count)
        challengeBytes[42] = UInt8(info.count)
        challengeBytes += info
        let challenge = try #require(NTLMChallenge(challengeBytes))
        #expect(challenge.timestamp == 0x01d0_0000_1234_5678)
        let client = NTLMClient(account: "User", password: "Password")
        let (message, _) = client.authenticateMessage(challenge, time: 42)
        let lmLength = Int(message[12]) | Int(message[13]) << 8
        let lmOffset = Int(NTLMChallenge.word(message, 16))
        #expect(Array(message[lmOffset..<(lmOffset + lmLength)]) == [UInt8](repeating: 0, count: 24))
        let ntOffset = Int(NTLMChallenge.word(message, 24))
        #expect(Array(message[(ntOffset + 24)..<(ntOffset + 32)]) == NTLMClient.bytes(UInt64(0x01d0_0000_1234_5678)))
    }

    @Test func accountForms() {
        let upn = NTLMClient(account: "ops@corp.example", password: "x")
        #expect(upn.user == "ops@corp.example" && upn.domain == "")
        let local = NTLMClient(account: "Administrator", password: "x")
        #expect(local.user == "Administrator" && local.domain == "")
        #expect(NTLMClient(account: "x", password: "x").negotiateMessage().count == 32)
    }
}

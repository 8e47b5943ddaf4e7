import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension InventoryComparison {
    /// Inventory hosts are matched by address: an `ansible_host` (or name) that is a name is
    /// resolved first, unless `resolveNames` is false (then only literal addresses match).
    public static func build(inventory: Inventory, label: String, found: [DiscoveredHost], swept: DiscoveryTargets,
                             resolveNames: Bool) -> InventoryComparison {
        var managed = Set<String>()
        var notFound: [String] = []
        var outside = 0
        let foundAddresses = Set(found.map(\.address))
        for host in inventory.hosts {
            let addresses = Self.addresses(of: host.address, resolve: resolveNames)
            managed.formUnion(addresses)
            let inSweep = addresses.filter { swept.contains($0) }
            if inSweep.isEmpty {
                outside += 1
            } else if !inSweep.contains(where: foundAddresses.contains) {
                notFound.append(host.name)
            }
        }
        let unmanaged = found.map(\.address).filter { !managed.contains($0) }
        return InventoryComparison(inventory: label, notInInventory: unmanaged, notFound: notFound.sorted(), outsideSweep: outside)
    }

    static func addresses(of address: String, resolve: Bool) -> [String] {
        if DiscoveryTargets.parseV4(address) != nil { return [address] }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, address, &v6) == 1 { return [DiscoveryTargets.formatV6(withUnsafeBytes(of: &v6) { Array($0) })] }
        guard resolve else { return [] }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(address, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var result: [String] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            cursor = info.pointee.ai_next
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(info.pointee.ai_addr, info.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if !result.contains(text) { result.append(text) }
            }
        }
        return result
    }
}

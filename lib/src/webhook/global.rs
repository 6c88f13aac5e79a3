//! Whether an address is globally reachable, per IANA's special-purpose address
//! registries for IPv4 and IPv6 (RFC 6890 and its updates, as of 2026), so that a
//! webhook can reach only the public Internet.
//!
//! IPv6 is allowed only inside global unicast space (`2000::/3`), less the
//! special-purpose blocks there, and an address that embeds an IPv4 one is judged
//! by the IPv4 address it leads to: IPv4-mapped (`::ffff:0:0/96`), NAT64
//! well-known prefix (`64:ff9b::/96`), 6to4 (`2002::/16`) and Teredo
//! (`2001::/32`, both its server and its client). IPv4-compatible (`::/96`),
//! IPv4-translated (`::ffff:0:0:0/96`) and the local-use NAT64 prefix
//! (`64:ff9b:1::/48`) are never globally reachable, whatever they embed.

use std::net::{Ipv4Addr, Ipv6Addr};

/// IPv4 blocks whose addresses are not globally reachable: the special-purpose
/// registry's entries marked so, with multicast and the reserved class E.
const V4_NOT_GLOBAL: &[(u32, u32)] = &[
    (0x0000_0000, 8),  // 0.0.0.0/8 "this network"
    (0x0a00_0000, 8),  // 10.0.0.0/8 private
    (0x6440_0000, 10), // 100.64.0.0/10 shared address space (CGN)
    (0x7f00_0000, 8),  // 127.0.0.0/8 loopback
    (0xa9fe_0000, 16), // 169.254.0.0/16 link-local (cloud metadata)
    (0xac10_0000, 12), // 172.16.0.0/12 private
    (0xc000_0000, 24), // 192.0.0.0/24 IETF protocol assignments (but see V4_GLOBAL_EXCEPTIONS)
    (0xc000_0200, 24), // 192.0.2.0/24 documentation (TEST-NET-1)
    (0xc058_6300, 24), // 192.88.99.0/24 deprecated 6to4 relay anycast
    (0xc0a8_0000, 16), // 192.168.0.0/16 private
    (0xc612_0000, 15), // 198.18.0.0/15 benchmarking
    (0xc633_6400, 24), // 198.51.100.0/24 documentation (TEST-NET-2)
    (0xcb00_7100, 24), // 203.0.113.0/24 documentation (TEST-NET-3)
    (0xe000_0000, 4),  // 224.0.0.0/4 multicast
    (0xf000_0000, 4),  // 240.0.0.0/4 reserved, and 255.255.255.255 broadcast
];

/// Addresses inside [`V4_NOT_GLOBAL`] that the registry marks globally reachable.
const V4_GLOBAL_EXCEPTIONS: &[u32] = &[
    0xc000_0009, // 192.0.0.9 port control protocol anycast
    0xc000_000a, // 192.0.0.10 traversal using relays around NAT anycast
];

/// Blocks inside `2000::/3` whose addresses are not globally reachable.
const V6_NOT_GLOBAL: &[(u128, u32)] = &[
    (0x2001_0000 << 96, 23), // 2001::/23 IETF protocol assignments (exceptions below)
    (0x2001_0db8 << 96, 32), // 2001:db8::/32 documentation
    (0x3fff_0000 << 96, 20), // 3fff::/20 documentation
];

/// Blocks inside `2001::/23` that the registry marks globally reachable.
const V6_GLOBAL_EXCEPTIONS: &[(u128, u32)] = &[
    ((0x2001_0001 << 96) | 1, 128), // 2001:1::1 port control protocol anycast
    ((0x2001_0001 << 96) | 2, 128), // 2001:1::2 TURN anycast
    ((0x2001_0001 << 96) | 3, 128), // 2001:1::3 DNS-SD service registration protocol anycast
    (0x2001_0003 << 96, 32),        // 2001:3::/32 AMT
    ((0x2001_0004 << 96) | (0x0112 << 80), 48), // 2001:4:112::/48 AS112-v6
    (0x2001_0020 << 96, 28),        // 2001:20::/28 ORCHIDv2
    (0x2001_0030 << 96, 28),        // 2001:30::/28 drone remote ID
];

fn in_block(address: u128, (network, len): (u128, u32), bits: u32) -> bool {
    let shift = bits - len;
    len == 0 || (address >> shift) == (network >> shift)
}

/// Whether `ip` is globally reachable.
pub fn is_global_v4(ip: Ipv4Addr) -> bool {
    let address = u32::from(ip);
    if V4_GLOBAL_EXCEPTIONS.contains(&address) {
        return true;
    }
    !V4_NOT_GLOBAL.iter().any(|&(net, len)| in_block(address.into(), (net.into(), len), 32))
}

/// Whether `ip` is globally reachable, judging an embedded IPv4 address by itself.
pub fn is_global_v6(ip: Ipv6Addr) -> bool {
    let address = u128::from(ip);
    let v4 = |bits: u128| Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    // IPv4-mapped: the connection goes to the IPv4 address.
    if in_block(address, (0xffff << 32, 96), 128) {
        return is_global_v4(v4(address));
    }
    // NAT64, well-known prefix: a translator forwards to the IPv4 address.
    if in_block(address, (0x0064_ff9b << 96, 96), 128) {
        return is_global_v4(v4(address));
    }
    // 6to4: the IPv4 address of the site's gateway follows the prefix.
    if in_block(address, (0x2002 << 112, 16), 128) {
        return is_global_v4(v4(address >> 80));
    }
    // Teredo: the server's IPv4 address, then the client's, inverted, at the end.
    if in_block(address, (0x2001_0000 << 96, 32), 128) {
        return is_global_v4(v4(address >> 64)) && is_global_v4(v4(!address));
    }
    if !in_block(address, (0x2000 << 112, 3), 128) {
        return false; // outside global unicast: loopback, ULA, link-local, multicast, ...
    }
    V6_GLOBAL_EXCEPTIONS.iter().any(|&block| in_block(address, block, 128))
        || !V6_NOT_GLOBAL.iter().any(|&block| in_block(address, block, 128))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn global(ip: &str) -> bool {
        match ip.parse::<IpAddr>().expect("an address") {
            IpAddr::V4(v4) => is_global_v4(v4),
            IpAddr::V6(v6) => is_global_v6(v6),
        }
    }

    #[test]
    fn public_unicast_addresses_are_global() {
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.0",
            "172.32.0.1",
            "192.0.0.9",
            "192.0.0.10",
            "192.31.196.1",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2606:2800:220:1::",
            "2a00:1450:4001:81b::200e",
            "2001:4860:4860::8888",
            "2001:1::1",
            "2001:3::1",
            "2001:4:112::1",
            "2001:20::1",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(global(ip), "{ip} is globally reachable");
        }
    }

    #[test]
    fn special_purpose_ipv4_blocks_are_not_global() {
        for ip in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.1",
            "192.0.0.192",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!global(ip), "{ip} is refused");
        }
    }

    #[test]
    fn special_purpose_ipv6_blocks_and_ipv4_embeddings_are_not_global() {
        for ip in [
            "::",
            "::1",
            "::127.0.0.1",
            "::8.8.8.8",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:0:7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::10.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::a00:1",
            "64:ff9b:1::808:808",
            "100::1",
            "100:0:0:1::1",
            "2001:db8::1",
            "2001:2::1",
            "2001:10::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:0:808:808::f5f5:f5fe",
            "2001:0:a00:1::f7f7:f7f7",
            "2002:7f00:1::",
            "2002:a00:1::1",
            "2002:a9fe:a9fe::1",
            "3fff::1",
            "5f00::1",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "fec0::1",
            "ff02::1",
        ] {
            assert!(!global(ip), "{ip} is refused");
        }
    }

    #[test]
    fn teredo_is_global_only_when_server_and_client_are() {
        // Server 65.54.227.120, client 192.0.2.45 inverted: a documentation client.
        assert!(!global("2001:0:4136:e378:8000:63bf:3fff:fdd2"));
        // Server 8.8.8.8, client 1.1.1.1 (inverted: fefe:fefe).
        assert!(global("2001:0:808:808::fefe:fefe"));
    }
}

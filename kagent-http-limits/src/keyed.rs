//! Counting holders of a resource per client and in total, up to two caps.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::ConnectInfo;

/// Who a request comes from, for per-client caps: the peer's IPv4 address, or the /64 network
/// of an IPv6 peer (one host usually owns a whole /64 and can rotate addresses inside it).
///
/// Behind a reverse proxy or an ingress every request has the proxy's address, so per-client
/// caps apply to the proxy as a whole; raise them there (or cap per client at the proxy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKey {
    /// An IPv4 peer (IPv4-mapped IPv6 addresses count as IPv4).
    V4(std::net::Ipv4Addr),
    /// The first 64 bits of an IPv6 peer's address.
    V6Net(u64),
    /// The peer address is unknown (the service was served without connect info); all such
    /// requests share one bucket.
    Unknown,
}

impl ClientKey {
    /// The key of a peer address.
    pub fn from_ip(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => ClientKey::V4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey::V4(v4),
                None => ClientKey::V6Net(v6_network(v6)),
            },
        }
    }

    /// The key of a request: from axum's [`ConnectInfo<SocketAddr>`] extension, which
    /// [`serve`](crate::serve) inserts and `axum::serve(.., router.into_make_service_with_connect_info::<SocketAddr>())`
    /// inserts too; [`ClientKey::Unknown`] without it.
    pub fn of<B>(request: &http::Request<B>) -> Self {
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(ClientKey::Unknown, |ConnectInfo(addr)| {
                ClientKey::from_ip(addr.ip())
            })
    }
}

impl std::fmt::Display for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientKey::V4(ip) => write!(f, "{ip}"),
            ClientKey::V6Net(net) => {
                let bits = u128::from(*net) << 64;
                write!(f, "{}/64", Ipv6Addr::from(bits))
            }
            ClientKey::Unknown => f.write_str("unknown"),
        }
    }
}

fn v6_network(ip: Ipv6Addr) -> u64 {
    // The upper half of the 128-bit address; the shift leaves exactly 64 bits.
    u64::try_from(u128::from(ip) >> 64).unwrap_or(u64::MAX)
}

/// Which cap of a [`KeyedLimiter`] was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitReached {
    /// Every slot is taken (`limit` in total).
    Total {
        /// The total cap.
        limit: usize,
    },
    /// This client holds `limit` slots already.
    PerClient {
        /// The per-client cap.
        limit: usize,
    },
}

#[derive(Debug, Default)]
struct Ledger {
    total: usize,
    per_client: HashMap<ClientKey, usize>,
}

/// Counts holders of a resource (connections, requests in flight, sessions) per client and
/// in total; [`KeyedLimiter::try_acquire`] hands out a [`KeyedPermit`] while both counts are
/// under their caps and refuses otherwise (it never waits). Dropping the permit frees the slot.
/// Clones share the counts.
#[derive(Debug, Clone)]
pub struct KeyedLimiter {
    ledger: Arc<Mutex<Ledger>>,
    total_limit: usize,
    per_client_limit: usize,
}

impl KeyedLimiter {
    /// A limiter with at most `total` holders, at most `per_client` of them for one client.
    pub fn new(total: usize, per_client: usize) -> Self {
        KeyedLimiter {
            ledger: Arc::default(),
            total_limit: total,
            per_client_limit: per_client,
        }
    }

    /// Takes a slot for `client`, or says which cap is reached (the total cap first).
    pub fn try_acquire(&self, client: ClientKey) -> Result<KeyedPermit, LimitReached> {
        let mut ledger = self.ledger.lock().unwrap_or_else(PoisonError::into_inner);
        if ledger.total >= self.total_limit {
            return Err(LimitReached::Total {
                limit: self.total_limit,
            });
        }
        let held = ledger.per_client.get(&client).copied().unwrap_or(0);
        if held >= self.per_client_limit {
            return Err(LimitReached::PerClient {
                limit: self.per_client_limit,
            });
        }
        ledger.total += 1;
        ledger.per_client.insert(client, held + 1);
        Ok(KeyedPermit {
            ledger: Arc::clone(&self.ledger),
            client,
        })
    }

    /// Slots held now, in total.
    pub fn in_use(&self) -> usize {
        self.ledger
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .total
    }

    /// Slots `client` holds now.
    pub fn in_use_by(&self, client: ClientKey) -> usize {
        self.ledger
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .per_client
            .get(&client)
            .copied()
            .unwrap_or(0)
    }

    /// Clients holding at least one slot (the ledger forgets a client once it holds none, so
    /// this stays bounded by the total cap).
    pub fn clients(&self) -> usize {
        self.ledger
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .per_client
            .len()
    }

    /// The total cap.
    pub fn total_limit(&self) -> usize {
        self.total_limit
    }

    /// The per-client cap.
    pub fn per_client_limit(&self) -> usize {
        self.per_client_limit
    }
}

/// One slot of a [`KeyedLimiter`]; dropping it frees the slot.
#[derive(Debug)]
#[must_use = "the slot is freed when the permit is dropped"]
pub struct KeyedPermit {
    ledger: Arc<Mutex<Ledger>>,
    client: ClientKey,
}

impl KeyedPermit {
    /// The client holding this slot.
    pub fn client(&self) -> ClientKey {
        self.client
    }
}

impl Drop for KeyedPermit {
    fn drop(&mut self) {
        let mut ledger = self.ledger.lock().unwrap_or_else(PoisonError::into_inner);
        ledger.total = ledger.total.saturating_sub(1);
        if let Some(held) = ledger.per_client.get_mut(&self.client) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                ledger.per_client.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(last: u8) -> ClientKey {
        ClientKey::from_ip(IpAddr::from([10, 0, 0, last]))
    }

    #[test]
    fn per_client_cap_leaves_room_for_others() {
        let limiter = KeyedLimiter::new(3, 2);
        let a1 = limiter.try_acquire(v4(1)).unwrap();
        let _a2 = limiter.try_acquire(v4(1)).unwrap();
        assert_eq!(
            limiter.try_acquire(v4(1)).unwrap_err(),
            LimitReached::PerClient { limit: 2 }
        );
        let _b = limiter.try_acquire(v4(2)).unwrap();
        assert_eq!(
            limiter.try_acquire(v4(3)).unwrap_err(),
            LimitReached::Total { limit: 3 }
        );
        drop(a1);
        assert_eq!(limiter.in_use(), 2);
        assert_eq!(limiter.in_use_by(v4(1)), 1);
        let _c = limiter.try_acquire(v4(3)).unwrap();
    }

    #[test]
    fn forgets_clients_that_hold_nothing() {
        let limiter = KeyedLimiter::new(10_000, 10);
        let permits: Vec<_> = (0..=255u8)
            .map(|i| limiter.try_acquire(v4(i)).unwrap())
            .collect();
        assert_eq!(limiter.clients(), 256);
        drop(permits);
        assert_eq!(limiter.clients(), 0);
        assert_eq!(limiter.in_use(), 0);
    }

    #[test]
    fn ipv6_peers_are_keyed_by_their_64_network() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ClientKey::from_ip(a), ClientKey::from_ip(b));
        assert_ne!(ClientKey::from_ip(a), ClientKey::from_ip(c));
        assert_eq!(ClientKey::from_ip(a).to_string(), "2001:db8:1:2::/64");
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(ClientKey::from_ip(mapped).to_string(), "192.0.2.7");
    }

    #[test]
    fn request_without_connect_info_is_unknown() {
        let request = http::Request::new(());
        assert_eq!(ClientKey::of(&request), ClientKey::Unknown);
        let mut request = http::Request::new(());
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 9))));
        assert_eq!(ClientKey::of(&request).to_string(), "127.0.0.1");
    }
}

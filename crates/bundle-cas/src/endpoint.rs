//! Offline iroh endpoints: direct UDP on one socket, no relay, no address lookup.

use std::net::SocketAddr;
use std::time::Duration;

use iroh::endpoint::presets;
use iroh::{Endpoint, EndpointAddr, RelayMode, Watcher};

/// How long a fresh endpoint may take to report its bound address.
pub(crate) const ADDRESS_WAIT: Duration = Duration::from_secs(5);

/// Binds an endpoint on exactly `bind`, with relays and every address-lookup service off,
/// so nothing leaves the machine except datagrams to the peers a ticket names.
pub(crate) async fn bind_direct(bind: SocketAddr) -> Result<Endpoint, String> {
    Endpoint::builder(presets::Minimal)
        .relay_mode(RelayMode::Disabled)
        .clear_address_lookup()
        .clear_ip_transports()
        .bind_addr(bind)
        .map_err(|e| e.to_string())?
        .bind()
        .await
        .map_err(|e| e.to_string())
}

/// Waits until the endpoint reports at least one direct IP address. (`Endpoint::online`
/// would wait for a relay that never comes when relays are disabled.)
pub(crate) async fn direct_addr(ep: &Endpoint) -> Option<EndpointAddr> {
    let mut watch = ep.watch_addr();
    let poll = async {
        loop {
            let addr = watch.get();
            if addr.ip_addrs().next().is_some() {
                return addr;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(ADDRESS_WAIT, poll).await.ok()
}

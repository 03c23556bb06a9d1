//! A malicious iroh-blobs provider for tests: it relays every request to an honest
//! provider and tampers with the answer. Shared by `crates/bundle-cas/tests/transfer.rs`
//! and `crates/cli/tests/bundle_transfer.rs` (included with `#[path]`).

use std::time::Duration;

use iroh::endpoint::{Connection, presets};
use iroh::protocol::{AcceptError, ProtocolHandler, Router};
use iroh::{Endpoint, EndpointAddr, RelayMode, Watcher};
use iroh_blobs::BlobFormat;
use iroh_blobs::ticket::BlobTicket;

/// What the malicious provider does to the response bytes of the honest provider.
#[derive(Debug, Clone, Copy)]
pub enum Tamper {
    /// Forward everything unchanged (the control case).
    Nothing,
    /// Replace the byte at this response offset (a substituted chunk).
    FlipAt(usize),
    /// End the response cleanly after this many bytes (a truncated blob).
    CutAt(usize),
}

/// Relays to `upstream` and applies `tamper` to each response. Responses shorter than the
/// tamper offset (a fetcher's size probe) pass unchanged, so only the fetcher's
/// verification of the body can catch the attack.
#[derive(Debug, Clone)]
struct MaliciousProvider {
    outbound: Endpoint,
    upstream: EndpointAddr,
    tamper: Tamper,
}

impl MaliciousProvider {
    async fn relay(&self, conn: Connection) -> anyhow::Result<()> {
        let up = self
            .outbound
            .connect(self.upstream.clone(), iroh_blobs::ALPN)
            .await?;
        while let Ok((mut send, mut recv)) = conn.accept_bi().await {
            let request = recv.read_to_end(64 * 1024).await?;
            let (mut up_send, mut up_recv) = up.open_bi().await?;
            up_send.write_all(&request).await?;
            up_send.finish()?;
            let mut offset = 0usize;
            while let Some(chunk) = up_recv.read_chunk(64 * 1024).await? {
                let mut data = chunk.to_vec();
                let end = offset + data.len();
                match self.tamper {
                    Tamper::FlipAt(at) if (offset..end).contains(&at) => data[at - offset] ^= 0x55,
                    Tamper::CutAt(at) if end > at => {
                        data.truncate(at - offset);
                        send.write_all(&data).await?;
                        send.finish()?;
                        return Ok(());
                    }
                    _ => {}
                }
                send.write_all(&data).await?;
                offset = end;
            }
            send.finish()?;
        }
        Ok(())
    }
}

impl ProtocolHandler for MaliciousProvider {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        self.relay(conn)
            .await
            .map_err(|e| AcceptError::from_boxed(e.into()))
    }
}

/// An offline endpoint on a loopback port.
pub async fn loopback_endpoint() -> Endpoint {
    Endpoint::builder(presets::Minimal)
        .relay_mode(RelayMode::Disabled)
        .clear_address_lookup()
        .clear_ip_transports()
        .bind_addr("127.0.0.1:0")
        .unwrap()
        .bind()
        .await
        .unwrap()
}

async fn direct_addr(ep: &Endpoint) -> EndpointAddr {
    let mut watch = ep.watch_addr();
    loop {
        let addr = watch.get();
        if addr.ip_addrs().next().is_some() {
            return addr;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A running malicious provider in front of an honest one.
pub struct Relay {
    router: Router,
    outbound: Endpoint,
    ticket: BlobTicket,
}

impl Relay {
    /// Starts a relay in front of the provider named by `honest` (its ticket text). The
    /// relay's ticket names the same blob, correct in every respect but the served bytes.
    pub async fn start(honest: &str, tamper: Tamper) -> Relay {
        let honest: BlobTicket = honest.parse().unwrap();
        let proxy = MaliciousProvider {
            outbound: loopback_endpoint().await,
            upstream: honest.addr().clone(),
            tamper,
        };
        let outbound = proxy.outbound.clone();
        let router = Router::builder(loopback_endpoint().await)
            .accept(iroh_blobs::ALPN, proxy)
            .spawn();
        let addr = direct_addr(router.endpoint()).await;
        let ticket = BlobTicket::new(addr, honest.hash(), BlobFormat::Raw);
        Relay {
            router,
            outbound,
            ticket,
        }
    }

    /// The relay's ticket text.
    pub fn ticket(&self) -> String {
        self.ticket.to_string()
    }

    /// Stops the relay.
    pub async fn shutdown(self) {
        self.router.shutdown().await.unwrap();
        self.outbound.close().await;
    }
}

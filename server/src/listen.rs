//! Accepting connections: HTTP/1.1 and HTTP/2 through hyper, with the limits a server on the
//! internet needs (docs/security.md) — headers must arrive within `LATCHKEY_HEADER_TIMEOUT_SECS` of
//! connecting or of the previous answer (so a slow-header client, or an idle keep-alive connection,
//! is closed), at most `LATCHKEY_MAX_CONNECTIONS` are open (the rest wait in the kernel's queue),
//! and one client address (an IPv6 /64) holds at most `LATCHKEY_MAX_CONNECTIONS_PER_ADDRESS` of
//! them (one more is closed at once; trusted proxies, which carry everyone's requests, are exempt).
//! Every request carries its peer's address (`ConnectInfo`), and Ctrl-C or SIGTERM drains the open
//! connections before returning.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

use crate::limits::TrustedProxies;

/// The limits on connections.
#[derive(Clone)]
pub struct ConnectionLimits {
    /// Time to send a request's headers, from connecting or from the previous answer.
    pub header_timeout: Duration,
    /// Open connections at most.
    pub max_connections: usize,
    /// Open connections one client address may hold.
    pub max_per_address: usize,
    /// The peers exempt from `max_per_address`.
    pub trusted_proxies: TrustedProxies,
}

/// Open connections per client address, each counted until its connection closes (attack L10 of
/// the review: one address could hold every connection the server has).
#[derive(Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

/// One open connection of an address; dropped when the connection closes.
struct Held {
    counts: Arc<PerAddress>,
    address: IpAddr,
}

impl PerAddress {
    fn hold(self: &Arc<Self>, address: IpAddr, max: usize) -> Option<Held> {
        let mut counts = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let open = counts.entry(address).or_default();
        if *open >= max {
            return None;
        }
        *open += 1;
        Some(Held { counts: self.clone(), address })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut counts = self.counts.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(open) = counts.get_mut(&self.address) {
            *open -= 1;
            if *open == 0 {
                counts.remove(&self.address);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then waits for open connections to finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let per_address = Arc::new(PerAddress::default());
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit.map_err(std::io::Error::other)?,
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, or a connection reset before accept: keep serving.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let held = if limits.trusted_proxies.trust(&peer.ip()) {
            None
        } else {
            match per_address.hold(crate::limits::bucket(peer.ip()), limits.max_per_address) {
                Some(held) => Some(held),
                None => {
                    engine::base::measure::rate_limited("connections");
                    tracing::info!(%peer, "connection closed: its address holds its most open connections");
                    drop(stream);
                    continue;
                }
            }
        };
        let watcher = graceful.watcher();
        let app = app.clone();
        let header_timeout = limits.header_timeout;
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                app.clone().oneshot(request)
            });
            let mut builder = Builder::new(TokioExecutor::new());
            builder.http1().timer(TokioTimer::new()).header_read_timeout(header_timeout);
            builder.http2().timer(TokioTimer::new()).keep_alive_interval(header_timeout);
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
            if let Err(error) = watcher.watch(connection).await {
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
            drop((held, permit));
        });
    }
    graceful.shutdown().await;
    Ok(())
}

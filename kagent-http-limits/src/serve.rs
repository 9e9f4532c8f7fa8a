//! The serve loop: HTTP/1.1 over TCP with connection caps, header limits and timeouts.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_io_timeout::TimeoutStream;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::keyed::{ClientKey, KeyedLimiter, LimitReached};
use crate::limits::ServerLimits;
use crate::reject::{JsonRejections, Rejection, SharedRejectionFormat, raw_response};

/// hyper's smallest allowed connection buffer.
const MIN_BUF_SIZE: usize = 8192;

/// Serves `router` on `listener` with the connection-level limits of a [`ServerLimits`]; build
/// it with [`serve`], then `.await` it.
///
/// What it adds to `axum::serve`:
///
/// - at most [`ServerLimits::max_connections`] connections, and
///   [`ServerLimits::max_connections_per_client`] per client; a connection over either cap
///   gets a complete `503` / `429` answer and is closed;
/// - request headers capped at [`ServerLimits::max_header_bytes`] and
///   [`ServerLimits::max_headers`] (hyper answers `431`), and read within
///   [`ServerLimits::header_read_timeout`] (slowloris; also the keep-alive idle timeout);
/// - a write blocked longer than [`ServerLimits::write_timeout`] closes the connection;
/// - `TCP_NODELAY` on every connection (responses are written in small pieces; with Nagle's
///   algorithm a call can stall ~40 ms on the client's delayed ACK);
/// - axum's `ConnectInfo<SocketAddr>` on every request, which per-client caps key on;
/// - graceful shutdown when its token is cancelled: no new connections, open ones finish
///   within [`ServerLimits::shutdown_grace`] and are dropped after it.
///
/// It speaks HTTP/1.1 only (with upgrades, e.g. WebSockets): the servers of this workspace are
/// plain-HTTP endpoints whose clients (MCP clients, kube, kubectl) use HTTP/1.1 there;
/// terminate TLS and HTTP/2 at a proxy.
///
/// Request-level limits are a separate layer: apply [`LimitsLayer`](crate::LimitsLayer) to the
/// router.
#[must_use = "a Serve does nothing until awaited"]
pub struct Serve {
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    format: SharedRejectionFormat,
    shutdown: CancellationToken,
    connections: KeyedLimiter,
}

impl std::fmt::Debug for Serve {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Starts building a [`Serve`] of `router` on `listener` with default [`ServerLimits`].
pub fn serve(listener: TcpListener, router: Router) -> Serve {
    let limits = ServerLimits::default();
    Serve {
        listener,
        router,
        connections: connection_limiter(&limits),
        limits,
        format: Arc::new(JsonRejections),
        shutdown: CancellationToken::new(),
    }
}

fn connection_limiter(limits: &ServerLimits) -> KeyedLimiter {
    KeyedLimiter::new(limits.max_connections, limits.max_connections_per_client)
}

impl Serve {
    /// Uses `limits`.
    pub fn limits(mut self, limits: ServerLimits) -> Self {
        self.connections = connection_limiter(&limits);
        self.limits = limits;
        self
    }

    /// Renders refused connections' answers with `format`.
    pub fn rejection_format(mut self, format: SharedRejectionFormat) -> Self {
        self.format = format;
        self
    }

    /// Stops serving when `token` is cancelled.
    pub fn shutdown_on(mut self, token: CancellationToken) -> Self {
        self.shutdown = token;
        self
    }

    /// The open connections, per client (for metrics and tests).
    pub fn connections(&self) -> KeyedLimiter {
        self.connections.clone()
    }

    async fn run(self) -> std::io::Result<()> {
        let Serve {
            listener,
            router,
            limits,
            format,
            shutdown,
            connections,
        } = self;
        let limits = Arc::new(limits);
        let mut tasks = JoinSet::new();
        loop {
            let (tcp, peer) = tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        if !is_connection_error(&e) {
                            // Out of file descriptors and the like: back off instead of spinning.
                            tracing::warn!(error = %e, "accept failed; retrying in 100 ms");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        continue;
                    }
                },
            };
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY");
            }
            let client = ClientKey::from_ip(peer.ip());
            let permit = match connections.try_acquire(client) {
                Ok(permit) => permit,
                Err(reached) => {
                    let rejection = match reached {
                        LimitReached::Total { limit } => Rejection::Connections { limit },
                        LimitReached::PerClient { limit } => Rejection::ClientConnections { limit },
                    };
                    tracing::debug!(%client, %rejection, "connection refused");
                    // A fresh socket's send buffer takes the short answer whole; no task, so a
                    // flood of refused connections costs nothing that outlives this call.
                    let answer = raw_response(&rejection, format.as_ref(), limits.retry_after);
                    let _ = tcp.try_write(&answer);
                    continue;
                }
            };
            let router = router.clone();
            let limits = Arc::clone(&limits);
            let shutdown = shutdown.clone();
            tasks.spawn(async move {
                serve_connection(tcp, peer, router, &limits, shutdown).await;
                drop(permit);
            });
        }
        drop(listener);
        let drained = tokio::time::timeout(limits.shutdown_grace, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::debug!(
                open = tasks.len(),
                "shutdown grace elapsed; dropping open connections"
            );
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
        }
        Ok(())
    }
}

impl IntoFuture for Serve {
    type Output = std::io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

async fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: &ServerLimits,
    shutdown: CancellationToken,
) {
    let mut io = TimeoutStream::new(tcp);
    io.set_write_timeout(Some(limits.write_timeout));
    let io = TokioIo::new(Box::pin(io));
    let service = hyper::service::service_fn(move |mut request: http::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(request)
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_headers(limits.max_headers)
        .max_header_size(limits.max_header_bytes)
        .max_buf_size(
            limits
                .max_header_bytes
                .saturating_add(MIN_BUF_SIZE)
                .max(MIN_BUF_SIZE),
        );
    let connection = http.serve_connection(io, service).with_upgrades();
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = result {
        // Timeouts, oversized headers, clients that went away: routine for a public server.
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        e.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    )
}

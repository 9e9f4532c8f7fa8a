//! The limits and their defaults.

use std::time::Duration;

/// Bounds on what clients can make an HTTP server hold: connections, requests in flight,
/// bodies, headers, and how long a connection may stall. The defaults are safe for a server
/// reachable by anyone on its network; every field can be changed (the `with_*` methods, or
/// assign fields of a [`ServerLimits::default`]).
///
/// Request-level limits ([`LimitsLayer`](crate::LimitsLayer)) work wherever the router is
/// served; connection-level limits (connection caps, header limits and every timeout) need
/// [`serve`](crate::serve).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerLimits {
    /// Open connections in total; one more is answered `503` and closed. Default 1024: every
    /// connection costs a task and its buffers (up to [`ServerLimits::max_header_bytes`] plus
    /// 8 KiB), so this bounds that memory at a few tens of MB.
    pub max_connections: usize,
    /// Open connections from one client (one IPv4 address or IPv6 /64); one more is answered
    /// `429` and closed. Default 512: half the total, so one client alone cannot lock every
    /// other client out.
    pub max_connections_per_client: usize,
    /// Requests in flight from one client, open streams (SSE, watches) included; one more is
    /// answered `429`. Default 256: an agent runtime holds about two per MCP session (an event
    /// stream and a call), so this allows over a hundred busy sessions from one pod.
    pub max_requests_per_client: usize,
    /// Bytes of one request body; a larger `Content-Length` is answered `413` at once, a larger
    /// chunked body fails while it is read. Default 1 MiB: JSON-RPC requests and tool
    /// arguments are small, and the server buffers each body before parsing it, so this times
    /// [`ServerLimits::max_requests_per_client`] bounds what one client can make it hold.
    pub max_request_body_bytes: usize,
    /// Bytes of a request's start line and headers; more is answered `431` and the connection
    /// closed. Default 32 KiB: room for long bearer tokens (service account JWTs are 1–2 KiB)
    /// and proxies' forwarding headers, far below hyper's 400 KiB buffer.
    pub max_header_bytes: usize,
    /// Number of request headers; more is answered `431`. Default 100 (hyper's).
    pub max_headers: usize,
    /// Time for a client to send a request's headers, counted from the moment the server is
    /// ready to read them (so it is also how long an idle keep-alive connection stays open).
    /// A client that sends headers slower than this (slowloris) is cut off. Default 15 s.
    pub header_read_timeout: Duration,
    /// Time for a client to send a whole request body, counted from the moment its headers
    /// arrived; a slower body is answered `408` (where the server reads the body itself) or
    /// fails the request. Default 30 s: 1 MiB in 30 s is 35 KB/s, far below any link that
    /// reaches a cluster.
    pub request_body_timeout: Duration,
    /// Time one write to a connection may stay blocked (the client stopped reading); the
    /// connection is then closed. Long-lived streams are unaffected while the client reads
    /// them. Default 30 s.
    pub write_timeout: Duration,
    /// On shutdown, how long open connections get to finish before they are dropped.
    /// Default 10 s.
    pub shutdown_grace: Duration,
    /// The `Retry-After` sent with `429` and `503` answers (whole seconds, at least 1).
    /// Default 1 s.
    pub retry_after: Duration,
}

impl ServerLimits {
    /// See [`ServerLimits::max_connections`].
    pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
    /// See [`ServerLimits::max_connections_per_client`].
    pub const DEFAULT_MAX_CONNECTIONS_PER_CLIENT: usize = 512;
    /// See [`ServerLimits::max_requests_per_client`].
    pub const DEFAULT_MAX_REQUESTS_PER_CLIENT: usize = 256;
    /// See [`ServerLimits::max_request_body_bytes`].
    pub const DEFAULT_MAX_REQUEST_BODY_BYTES: usize = 1024 * 1024;
    /// See [`ServerLimits::max_header_bytes`].
    pub const DEFAULT_MAX_HEADER_BYTES: usize = 32 * 1024;
    /// See [`ServerLimits::max_headers`].
    pub const DEFAULT_MAX_HEADERS: usize = 100;
    /// See [`ServerLimits::header_read_timeout`].
    pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(15);
    /// See [`ServerLimits::request_body_timeout`].
    pub const DEFAULT_REQUEST_BODY_TIMEOUT: Duration = Duration::from_secs(30);
    /// See [`ServerLimits::write_timeout`].
    pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);
    /// See [`ServerLimits::shutdown_grace`].
    pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
    /// See [`ServerLimits::retry_after`].
    pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

    /// Sets [`ServerLimits::max_connections`].
    #[must_use]
    pub fn with_max_connections(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }

    /// Sets [`ServerLimits::max_connections_per_client`].
    #[must_use]
    pub fn with_max_connections_per_client(mut self, n: usize) -> Self {
        self.max_connections_per_client = n;
        self
    }

    /// Sets [`ServerLimits::max_requests_per_client`].
    #[must_use]
    pub fn with_max_requests_per_client(mut self, n: usize) -> Self {
        self.max_requests_per_client = n;
        self
    }

    /// Sets [`ServerLimits::max_request_body_bytes`].
    #[must_use]
    pub fn with_max_request_body_bytes(mut self, n: usize) -> Self {
        self.max_request_body_bytes = n;
        self
    }

    /// Sets [`ServerLimits::max_header_bytes`].
    #[must_use]
    pub fn with_max_header_bytes(mut self, n: usize) -> Self {
        self.max_header_bytes = n;
        self
    }

    /// Sets [`ServerLimits::max_headers`].
    #[must_use]
    pub fn with_max_headers(mut self, n: usize) -> Self {
        self.max_headers = n;
        self
    }

    /// Sets [`ServerLimits::header_read_timeout`].
    #[must_use]
    pub fn with_header_read_timeout(mut self, d: Duration) -> Self {
        self.header_read_timeout = d;
        self
    }

    /// Sets [`ServerLimits::request_body_timeout`].
    #[must_use]
    pub fn with_request_body_timeout(mut self, d: Duration) -> Self {
        self.request_body_timeout = d;
        self
    }

    /// Sets [`ServerLimits::write_timeout`].
    #[must_use]
    pub fn with_write_timeout(mut self, d: Duration) -> Self {
        self.write_timeout = d;
        self
    }

    /// Sets [`ServerLimits::shutdown_grace`].
    #[must_use]
    pub fn with_shutdown_grace(mut self, d: Duration) -> Self {
        self.shutdown_grace = d;
        self
    }

    /// Sets [`ServerLimits::retry_after`].
    #[must_use]
    pub fn with_retry_after(mut self, d: Duration) -> Self {
        self.retry_after = d;
        self
    }
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            max_connections_per_client: Self::DEFAULT_MAX_CONNECTIONS_PER_CLIENT,
            max_requests_per_client: Self::DEFAULT_MAX_REQUESTS_PER_CLIENT,
            max_request_body_bytes: Self::DEFAULT_MAX_REQUEST_BODY_BYTES,
            max_header_bytes: Self::DEFAULT_MAX_HEADER_BYTES,
            max_headers: Self::DEFAULT_MAX_HEADERS,
            header_read_timeout: Self::DEFAULT_HEADER_READ_TIMEOUT,
            request_body_timeout: Self::DEFAULT_REQUEST_BODY_TIMEOUT,
            write_timeout: Self::DEFAULT_WRITE_TIMEOUT,
            shutdown_grace: Self::DEFAULT_SHUTDOWN_GRACE,
            retry_after: Self::DEFAULT_RETRY_AFTER,
        }
    }
}

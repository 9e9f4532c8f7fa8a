//! What a client is told when a limit is hit.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};

/// A limit that refused a connection or a request. Its [`Display`](std::fmt::Display) text says
/// what was hit and what the client can do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The server holds its maximum of open connections (`503`).
    #[error(
        "the server has {limit} open connections, its maximum; retry later or reuse an open connection"
    )]
    Connections {
        /// The cap.
        limit: usize,
    },
    /// This client holds its maximum of open connections (`429`).
    #[error(
        "this client has {limit} open connections to the server, its per-client maximum; close idle connections or reuse them"
    )]
    ClientConnections {
        /// The cap.
        limit: usize,
    },
    /// This client has its maximum of requests in flight, open streams included (`429`).
    #[error(
        "this client has {limit} requests in flight (open event streams count), its per-client maximum; wait for some to finish, then retry"
    )]
    ClientRequests {
        /// The cap.
        limit: usize,
    },
    /// The request body is larger than the server accepts (`413`).
    #[error("the request body is larger than {limit} bytes, the server's maximum; send less")]
    BodyTooLarge {
        /// The cap in bytes.
        limit: usize,
    },
    /// The request body did not arrive in time (`408`).
    #[error(
        "the request body did not arrive within {} s; send the whole body promptly",
        after.as_secs_f64()
    )]
    BodyTimeout {
        /// The deadline, from the moment the request headers arrived.
        after: Duration,
    },
    /// The server holds its maximum of live sessions (`503`).
    #[error(
        "the server has {limit} live sessions, its maximum; retry later (idle sessions expire), or close sessions you no longer use"
    )]
    Sessions {
        /// The cap.
        limit: usize,
    },
    /// This client holds its maximum of live sessions (`429`).
    #[error(
        "this client has {limit} live sessions, its per-client maximum; close sessions you no longer use (HTTP DELETE) or reuse one"
    )]
    ClientSessions {
        /// The cap.
        limit: usize,
    },
}

impl Rejection {
    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::Connections { .. } | Rejection::Sessions { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Rejection::ClientConnections { .. }
            | Rejection::ClientRequests { .. }
            | Rejection::ClientSessions { .. } => StatusCode::TOO_MANY_REQUESTS,
            Rejection::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Rejection::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
        }
    }

    /// A stable machine-readable name (`client_requests`, `body_too_large`, ...).
    pub fn reason(&self) -> &'static str {
        match self {
            Rejection::Connections { .. } => "connections",
            Rejection::ClientConnections { .. } => "client_connections",
            Rejection::ClientRequests { .. } => "client_requests",
            Rejection::BodyTooLarge { .. } => "body_too_large",
            Rejection::BodyTimeout { .. } => "body_timeout",
            Rejection::Sessions { .. } => "sessions",
            Rejection::ClientSessions { .. } => "client_sessions",
        }
    }

    /// The cap that was hit (bytes for [`Rejection::BodyTooLarge`], milliseconds for
    /// [`Rejection::BodyTimeout`]).
    pub fn limit(&self) -> u64 {
        let n = match self {
            Rejection::Connections { limit }
            | Rejection::ClientConnections { limit }
            | Rejection::ClientRequests { limit }
            | Rejection::BodyTooLarge { limit }
            | Rejection::Sessions { limit }
            | Rejection::ClientSessions { limit } => *limit,
            Rejection::BodyTimeout { after } => {
                return u64::try_from(after.as_millis()).unwrap_or(u64::MAX);
            }
        };
        u64::try_from(n).unwrap_or(u64::MAX)
    }

    /// Whether the same request may succeed later unchanged (a `Retry-After` header goes with
    /// these answers).
    pub fn is_transient(&self) -> bool {
        matches!(
            self.status(),
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS
        )
    }
}

/// A rendered answer body: its media type and bytes.
#[derive(Debug, Clone)]
pub struct RejectionBody {
    /// The `Content-Type`.
    pub content_type: HeaderValue,
    /// The body.
    pub body: Bytes,
}

impl RejectionBody {
    /// A JSON body.
    pub fn json(value: &serde_json::Value) -> Self {
        RejectionBody {
            content_type: HeaderValue::from_static("application/json"),
            body: Bytes::from(value.to_string()),
        }
    }
}

/// Renders the body of an answer to a [`Rejection`] in the protocol the server speaks
/// (plain JSON by default; JSON-RPC for MCP, a Kubernetes `Status` for the fake API server).
pub trait RejectionFormat: Send + Sync + 'static {
    /// The body for `rejection`.
    fn render(&self, rejection: &Rejection) -> RejectionBody;
}

impl<F> RejectionFormat for F
where
    F: Fn(&Rejection) -> RejectionBody + Send + Sync + 'static,
{
    fn render(&self, rejection: &Rejection) -> RejectionBody {
        self(rejection)
    }
}

/// The default format:
/// `{"error":{"reason":"client_requests","message":"...","limit":256}}`.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonRejections;

impl RejectionFormat for JsonRejections {
    fn render(&self, rejection: &Rejection) -> RejectionBody {
        RejectionBody::json(&serde_json::json!({
            "error": {
                "reason": rejection.reason(),
                "message": rejection.to_string(),
                "limit": rejection.limit(),
            }
        }))
    }
}

/// A shared [`RejectionFormat`].
pub type SharedRejectionFormat = Arc<dyn RejectionFormat>;

/// The HTTP answer to `rejection`: its status, the body `format` renders, and for transient
/// rejections `Retry-After: <retry_after, whole seconds, at least 1>`.
pub fn rejection_response(
    rejection: &Rejection,
    format: &dyn RejectionFormat,
    retry_after: Duration,
) -> Response {
    let rendered = format.render(rejection);
    let mut response = Response::new(Body::from(rendered.body));
    *response.status_mut() = rejection.status();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, rendered.content_type);
    if rejection.is_transient() {
        headers.insert(header::RETRY_AFTER, retry_after_value(retry_after));
    }
    response
}

pub(crate) fn retry_after_value(retry_after: Duration) -> HeaderValue {
    HeaderValue::from(retry_after.as_secs().max(1))
}

/// A whole HTTP/1.1 response for a connection refused before HTTP is spoken (written straight
/// to the socket, then the connection is closed).
pub(crate) fn raw_response(
    rejection: &Rejection,
    format: &dyn RejectionFormat,
    retry_after: Duration,
) -> Vec<u8> {
    let rendered = format.render(rejection);
    let status = rejection.status();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: {}\r\ncontent-length: {}\r\nretry-after: {}\r\nconnection: close\r\n\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        rendered.content_type.to_str().unwrap_or("application/json"),
        rendered.body.len(),
        retry_after.as_secs().max(1),
    )
    .into_bytes();
    out.extend_from_slice(&rendered.body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_reasons() {
        let cases = [
            (Rejection::Connections { limit: 1 }, 503, "connections"),
            (
                Rejection::ClientConnections { limit: 1 },
                429,
                "client_connections",
            ),
            (
                Rejection::ClientRequests { limit: 1 },
                429,
                "client_requests",
            ),
            (Rejection::BodyTooLarge { limit: 1 }, 413, "body_too_large"),
            (
                Rejection::BodyTimeout {
                    after: Duration::from_secs(1),
                },
                408,
                "body_timeout",
            ),
            (Rejection::Sessions { limit: 1 }, 503, "sessions"),
            (
                Rejection::ClientSessions { limit: 1 },
                429,
                "client_sessions",
            ),
        ];
        for (rejection, status, reason) in cases {
            assert_eq!(rejection.status().as_u16(), status, "{rejection:?}");
            assert_eq!(rejection.reason(), reason);
            assert!(!rejection.to_string().is_empty());
        }
    }

    #[tokio::test]
    async fn json_answer_carries_retry_after_when_transient() {
        let response = rejection_response(
            &Rejection::ClientRequests { limit: 8 },
            &JsonRejections,
            Duration::from_millis(10),
        );
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"]["reason"], "client_requests");
        assert_eq!(v["error"]["limit"], 8);

        let response = rejection_response(
            &Rejection::BodyTooLarge { limit: 8 },
            &JsonRejections,
            Duration::from_secs(3),
        );
        assert!(response.headers().get(header::RETRY_AFTER).is_none());
    }

    #[test]
    fn raw_response_is_complete_http() {
        let raw = raw_response(
            &Rejection::Connections { limit: 2 },
            &JsonRejections,
            Duration::from_secs(2),
        );
        let text = String::from_utf8(raw).unwrap();
        assert!(text.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())));
        assert!(head.contains("retry-after: 2"));
        assert!(body.contains("\"connections\""));
    }
}

//! The request-level limits as a tower layer.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use http::header;
use http_body_util::Limited;
use tower::{Layer, Service};
use tower_http::timeout::DeadlineBody;

use crate::body::PermitBody;
use crate::keyed::{ClientKey, KeyedLimiter, LimitReached};
use crate::limits::ServerLimits;
use crate::reject::{JsonRejections, Rejection, SharedRejectionFormat, rejection_response};

/// Applies the request-level limits of [`ServerLimits`] to every request:
///
/// - at most [`ServerLimits::max_requests_per_client`] requests in flight per client (a
///   request counts until its response body, e.g. an event stream, has ended); one more is
///   answered `429` with `Retry-After`;
/// - a `Content-Length` over [`ServerLimits::max_request_body_bytes`] is answered `413`
///   before anything reads the body; a chunked body is cut at that size (readers get an
///   `http_body_util::LengthLimitError`, which axum's extractors answer with `413`);
/// - the body must arrive within [`ServerLimits::request_body_timeout`] (readers get a
///   `tower_http::timeout::TimeoutError`).
///
/// Answers are rendered by the layer's [`RejectionFormat`](crate::RejectionFormat) (plain JSON
/// unless [`LimitsLayer::with_format`] says otherwise). Clones share the counts.
#[derive(Clone)]
pub struct LimitsLayer {
    requests: KeyedLimiter,
    max_body: usize,
    body_timeout: Duration,
    retry_after: Duration,
    format: SharedRejectionFormat,
}

impl std::fmt::Debug for LimitsLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LimitsLayer")
            .field("requests", &self.requests)
            .field("max_body", &self.max_body)
            .field("body_timeout", &self.body_timeout)
            .finish_non_exhaustive()
    }
}

impl LimitsLayer {
    /// The layer for `limits`, answering in plain JSON.
    pub fn new(limits: &ServerLimits) -> Self {
        LimitsLayer {
            requests: KeyedLimiter::new(usize::MAX, limits.max_requests_per_client),
            max_body: limits.max_request_body_bytes,
            body_timeout: limits.request_body_timeout,
            retry_after: limits.retry_after,
            format: Arc::new(JsonRejections),
        }
    }

    /// Renders answers with `format` (e.g. JSON-RPC errors, Kubernetes `Status` objects).
    #[must_use]
    pub fn with_format(mut self, format: SharedRejectionFormat) -> Self {
        self.format = format;
        self
    }

    /// The requests in flight, per client (for metrics and tests).
    pub fn requests(&self) -> &KeyedLimiter {
        &self.requests
    }
}

impl<S> Layer<S> for LimitsLayer {
    type Service = Limits<S>;

    fn layer(&self, inner: S) -> Limits<S> {
        Limits {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`LimitsLayer`].
#[derive(Clone, Debug)]
pub struct Limits<S> {
    inner: S,
    layer: LimitsLayer,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S> Service<Request> for Limits<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let layer = &self.layer;
        let reject = |rejection: Rejection| -> Self::Future {
            let response = rejection_response(&rejection, layer.format.as_ref(), layer.retry_after);
            Box::pin(std::future::ready(Ok(response)))
        };
        let client = ClientKey::of(&request);
        let permit = match layer.requests.try_acquire(client) {
            Ok(permit) => permit,
            Err(LimitReached::PerClient { limit } | LimitReached::Total { limit }) => {
                tracing::debug!(%client, limit, "request refused: per-client cap");
                return reject(Rejection::ClientRequests { limit });
            }
        };
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let max_body = layer.max_body;
        if declared.is_some_and(|n| n > u64::try_from(max_body).unwrap_or(u64::MAX)) {
            return reject(Rejection::BodyTooLarge { limit: max_body });
        }
        let timeout = layer.body_timeout;
        let request =
            request.map(|body| Body::new(Limited::new(DeadlineBody::new(timeout, body), max_body)));
        // The service that was polled ready is the one to call; a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let response = match inner.call(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            Ok(response.map(|body| Body::new(PermitBody::new(body, permit))))
        })
    }
}

/// What stopped a request body from being read, when it was one of [`LimitsLayer`]'s limits:
/// [`Rejection::BodyTooLarge`] or [`Rejection::BodyTimeout`] (looked up in `error`'s source
/// chain). For handlers that read bodies themselves and answer in their own protocol.
pub fn body_rejection(
    error: &(dyn std::error::Error + 'static),
    limits: &ServerLimits,
) -> Option<Rejection> {
    let mut source = Some(error);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return Some(Rejection::BodyTooLarge {
                limit: limits.max_request_body_bytes,
            });
        }
        if err.is::<tower_http::timeout::TimeoutError>() {
            return Some(Rejection::BodyTimeout {
                after: limits.request_body_timeout,
            });
        }
        source = err.source();
    }
    None
}

//! The legacy HTTP+SSE client transport (MCP 2024-11-05): `GET` an event stream whose first
//! event, `endpoint`, names the URL to `POST` JSON-RPC messages to; responses arrive on the
//! stream as `message` events. rmcp 3 has no client for it.

use std::time::Duration;

use futures::StreamExt;
use http::HeaderMap;
use http::header::{ACCEPT, CONTENT_TYPE};
use rmcp::RoleClient;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::Transport;
use tokio::sync::mpsc;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::{Fault, FaultSlot, excerpt};
use crate::error::McpError;

/// Errors posting a message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum SsePostError {
    #[error("POST to the message endpoint failed")]
    Http(#[from] reqwest::Error),
    #[error("message endpoint answered HTTP {status}")]
    Status { status: u16 },
    #[error("could not encode the message")]
    Encode(#[from] serde_json::Error),
}

pub(crate) struct SseTransport {
    client: reqwest::Client,
    endpoint: reqwest::Url,
    headers: HeaderMap,
    rx: mpsc::Receiver<ServerJsonRpcMessage>,
    stop: CancellationToken,
    _guard: DropGuard,
}

impl SseTransport {
    /// Opens the event stream and waits for the `endpoint` event.
    pub(crate) async fn connect(
        server: &str,
        client: reqwest::Client,
        url: &str,
        headers: HeaderMap,
        read_timeout: Duration,
        fault: FaultSlot,
    ) -> Result<Self, McpError> {
        let connect_err =
            |message: String, source: Option<Box<dyn std::error::Error + Send + Sync>>| {
                McpError::Connect {
                    server: server.to_owned(),
                    message,
                    source,
                }
            };
        let base = reqwest::Url::parse(url).map_err(|e| McpError::InvalidConfig {
            server: server.to_owned(),
            message: format!("invalid url: {e}"),
        })?;
        let response = client
            .get(base.clone())
            .headers(headers.clone())
            .header(ACCEPT, "text/event-stream")
            .send()
            .await
            .map_err(|e| connect_err("GET of the SSE stream failed".into(), Some(Box::new(e))))?;
        let status = response.status();
        if !status.is_success() {
            return Err(connect_err(
                format!("SSE stream answered HTTP {status}"),
                None,
            ));
        }
        let is_sse = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if !is_sse {
            return Err(connect_err(
                "SSE endpoint did not answer with text/event-stream".into(),
                None,
            ));
        }

        let idle = move |_| {
            std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no data on the SSE stream for {read_timeout:?} (sseReadTimeout)"),
            )
        };
        let body = tokio_stream::StreamExt::timeout(response.bytes_stream(), read_timeout).map(
            move |item| {
                item.map_err(idle)
                    .and_then(|r| r.map_err(std::io::Error::other))
            },
        );
        let mut events = Box::pin(sseer::EventStream::new(body));

        // The first event names the message endpoint, relative to the stream's URL.
        let endpoint = loop {
            match events.next().await {
                Some(Ok(ev)) if &*ev.event == "endpoint" => {
                    let endpoint = base
                        .join(ev.data.trim())
                        .map_err(|e| connect_err(format!("invalid endpoint event: {e}"), None))?;
                    if endpoint.origin() != base.origin() {
                        // Our headers (credentials) must not go to another origin.
                        return Err(connect_err(
                            format!(
                                "endpoint event points to another origin ({})",
                                endpoint.origin().ascii_serialization()
                            ),
                            None,
                        ));
                    }
                    break endpoint;
                }
                Some(Ok(ev)) => {
                    tracing::debug!(server, event = %&*ev.event, "ignoring SSE event before endpoint");
                }
                Some(Err(e)) => {
                    return Err(connect_err(
                        format!("SSE stream failed before the endpoint event: {e}"),
                        None,
                    ));
                }
                None => {
                    return Err(connect_err(
                        "SSE stream ended before the endpoint event".into(),
                        None,
                    ));
                }
            }
        };
        tracing::debug!(server, endpoint = %endpoint.path(), "legacy SSE endpoint received");

        let (tx, rx) = mpsc::channel(64);
        let stop = CancellationToken::new();
        let token = stop.clone();
        let name = server.to_owned();
        tokio::spawn(async move {
            loop {
                let next = tokio::select! {
                    () = token.cancelled() => break,
                    next = events.next() => next,
                };
                match next {
                    Some(Ok(ev)) if &*ev.event == "message" || ev.event.is_empty() => {
                        match serde_json::from_str::<ServerJsonRpcMessage>(&ev.data) {
                            Ok(msg) => {
                                if tx.send(msg).await.is_err() {
                                    break;
                                }
                            }
                            Err(e) => {
                                fault.set(Fault::Protocol(format!(
                                    "malformed JSON-RPC in SSE message ({e}): {}",
                                    excerpt(&ev.data)
                                )));
                                break;
                            }
                        }
                    }
                    Some(Ok(ev)) => {
                        tracing::debug!(server = %name, event = %&*ev.event, "ignoring SSE event");
                    }
                    Some(Err(e)) => {
                        fault.set(Fault::Transport(format!("SSE stream failed: {e}")));
                        break;
                    }
                    None => {
                        fault.set(Fault::Transport("server closed the SSE stream".into()));
                        break;
                    }
                }
            }
        });

        Ok(SseTransport {
            client,
            endpoint,
            headers,
            rx,
            _guard: stop.clone().drop_guard(),
            stop,
        })
    }
}

impl Transport<RoleClient> for SseTransport {
    type Error = SsePostError;

    fn send(
        &mut self,
        item: ClientJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let request = serde_json::to_vec(&item).map(|body| {
            self.client
                .post(self.endpoint.clone())
                .headers(self.headers.clone())
                .header(CONTENT_TYPE, "application/json")
                .body(body)
        });
        async move {
            let response = request?.send().await?;
            let status = response.status();
            // Drain the (small) body so the pooled connection can be reused.
            let _ = response.bytes().await;
            if status.is_success() {
                Ok(())
            } else {
                Err(SsePostError::Status {
                    status: status.as_u16(),
                })
            }
        }
    }

    async fn receive(&mut self) -> Option<ServerJsonRpcMessage> {
        self.rx.recv().await
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.stop.cancel();
        self.rx.close();
        Ok(())
    }
}

//! An in-process HTTP/1.1 wire server for provider conformance tests (feature `testing`).
//!
//! [`WireServer`] listens on `127.0.0.1` and answers each request with the next matching
//! [`Scenario`]: it checks what the provider sent (method, path, query, headers, JSON body),
//! records it, and replies with a status, headers and a scripted list of body chunks. Each
//! chunk is written separately and flushed (TCP_NODELAY, a short pause between chunks) so the
//! chunk boundaries reach the client as they were scripted, including boundaries inside a JSON
//! string or inside a multi-byte UTF-8 character ([`split_inside`]). A reply can also hang after
//! its chunks, cut the connection mid-body, or be any error status with any headers.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use kagent_llm::testing::{Reply, Scenario, WireServer};
//! use serde_json::json;
//!
//! let server = WireServer::start(vec![
//!     Scenario::post("/v1/chat/completions")
//!         .header("authorization", "Bearer sk-test")
//!         .body_includes(json!({"stream": true}))
//!         .reply(Reply::sse(["data: {\"a\":", "1}\n\n", "data: [DONE]\n\n"])),
//! ])
//! .await;
//! let base = server.url(); // http://127.0.0.1:PORT
//! # let _ = base;
//! // ... point a provider at `base`, run it, assert on its output ...
//! // server.verify(); // panics listing every expectation the provider's requests broke
//! # }
//! ```
//!
//! Scenarios are taken in order; a scenario with a method and path is only used for a request
//! with that method and path (the first unused match wins), so token endpoints and model calls
//! can be served by one server. A request that breaks an expectation still gets the scenario's
//! reply; the mismatch is recorded and [`WireServer::verify`] panics with the list. A request
//! for which no scenario is left gets a `599` reply with a JSON error naming it.

#![allow(clippy::panic)] // `verify` is an assertion helper for tests.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// How the reply body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Framing {
    /// `transfer-encoding: chunked`, one HTTP chunk per scripted chunk (default). A cut
    /// connection is visible to the client as an incomplete body.
    #[default]
    Chunked,
    /// `content-length` of all chunks together.
    ContentLength,
    /// No length: the body ends when the server closes the connection.
    Close,
}

/// What happens after the scripted chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum End {
    /// The body is terminated properly.
    #[default]
    Complete,
    /// Nothing more is sent and the connection stays open until the client drops it.
    Hang,
    /// The connection is closed without terminating the body.
    Cut,
}

/// The reply of a scenario.
#[derive(Debug, Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    chunks: Vec<Bytes>,
    pause: Duration,
    delay: Duration,
    framing: Framing,
    end: End,
}

impl Reply {
    /// A reply with this status, no headers and no body.
    pub fn status(status: u16) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            chunks: Vec::new(),
            pause: Duration::from_millis(1),
            delay: Duration::ZERO,
            framing: Framing::Chunked,
            end: End::Complete,
        }
    }

    /// `200`, `content-type: text/event-stream`, these chunks.
    pub fn sse<I, C>(chunks: I) -> Self
    where
        I: IntoIterator<Item = C>,
        C: Into<Bytes>,
    {
        Reply::status(200)
            .header("content-type", "text/event-stream")
            .chunks(chunks)
    }

    /// `200`, `content-type: application/x-ndjson`, these chunks.
    pub fn ndjson<I, C>(chunks: I) -> Self
    where
        I: IntoIterator<Item = C>,
        C: Into<Bytes>,
    {
        Reply::status(200)
            .header("content-type", "application/x-ndjson")
            .chunks(chunks)
    }

    /// A JSON body with `content-length`.
    pub fn json(status: u16, body: &Value) -> Self {
        Reply::status(status)
            .header("content-type", "application/json")
            .chunks([body.to_string()])
            .framing(Framing::ContentLength)
    }

    /// A raw body (any bytes) with `content-length`.
    pub fn raw(status: u16, content_type: &str, body: impl Into<Bytes>) -> Self {
        Reply::status(status)
            .header("content-type", content_type)
            .chunks([body.into()])
            .framing(Framing::ContentLength)
    }

    /// Adds a response header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body chunks, each written separately.
    pub fn chunks<I, C>(mut self, chunks: I) -> Self
    where
        I: IntoIterator<Item = C>,
        C: Into<Bytes>,
    {
        self.chunks = chunks.into_iter().map(Into::into).collect();
        self
    }

    /// Pause after each chunk (default 1 ms) so chunks are read separately.
    pub fn pause(mut self, pause: Duration) -> Self {
        self.pause = pause;
        self
    }

    /// Waits this long before sending anything, the status line included: a server that
    /// does not answer within the client's request (first-byte) timeout.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Body framing.
    pub fn framing(mut self, framing: Framing) -> Self {
        self.framing = framing;
        self
    }

    /// What happens after the chunks.
    pub fn end(mut self, end: End) -> Self {
        self.end = end;
        self
    }

    /// Shortcut for `.end(End::Hang)`.
    pub fn then_hang(self) -> Self {
        self.end(End::Hang)
    }

    /// Shortcut for `.end(End::Cut)`.
    pub fn then_cut(self) -> Self {
        self.end(End::Cut)
    }
}

/// One expected request and its reply.
#[derive(Debug, Clone)]
pub struct Scenario {
    method: Option<String>,
    path: Option<String>,
    query: Vec<(String, Option<String>)>,
    headers: Vec<(String, String)>,
    absent_headers: Vec<String>,
    body_exact: Option<Value>,
    body_includes: Vec<Value>,
    body_absent: Vec<String>,
    rejections: Vec<(String, Value, Reply)>,
    reply: Reply,
}

impl Scenario {
    /// A scenario for any request.
    pub fn any() -> Self {
        Scenario {
            method: None,
            path: None,
            query: Vec::new(),
            headers: Vec::new(),
            absent_headers: Vec::new(),
            body_exact: None,
            body_includes: Vec::new(),
            body_absent: Vec::new(),
            rejections: Vec::new(),
            reply: Reply::status(200),
        }
    }

    /// A scenario for `POST path` (path without the query).
    pub fn post(path: &str) -> Self {
        Scenario {
            method: Some("POST".into()),
            path: Some(path.into()),
            ..Scenario::any()
        }
    }

    /// A scenario for `GET path` (path without the query).
    pub fn get(path: &str) -> Self {
        Scenario {
            method: Some("GET".into()),
            path: Some(path.into()),
            ..Scenario::any()
        }
    }

    /// The query must contain `name=value` (decoded).
    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.into(), Some(value.into())));
        self
    }

    /// The query must not contain `name`.
    pub fn no_query(mut self, name: &str) -> Self {
        self.query.push((name.into(), None));
        self
    }

    /// The request must carry this header with exactly this value.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// The request must not carry this header.
    pub fn no_header(mut self, name: &str) -> Self {
        self.absent_headers.push(name.to_ascii_lowercase());
        self
    }

    /// The JSON body must equal this value.
    pub fn body_json(mut self, body: Value) -> Self {
        self.body_exact = Some(body);
        self
    }

    /// The JSON body must include this value: objects may have more keys, arrays must have the
    /// same length, scalars must be equal.
    pub fn body_includes(mut self, part: Value) -> Self {
        self.body_includes.push(part);
        self
    }

    /// The JSON body must not have a value at this JSON pointer (e.g. `/model`).
    pub fn body_absent(mut self, pointer: &str) -> Self {
        self.body_absent.push(pointer.into());
        self
    }

    /// The reply.
    pub fn reply(mut self, reply: Reply) -> Self {
        self.reply = reply;
        self
    }

    /// A validation rule of the server being reproduced: when the JSON body has `value` at the
    /// JSON `pointer` (e.g. `/messages/2/content` and `null`), answer `reply` instead of the
    /// scenario's reply. A rejected request is recorded like any other and is not a mismatch.
    pub fn reject_if(mut self, pointer: &str, value: Value, reply: Reply) -> Self {
        self.rejections.push((pointer.into(), value, reply));
        self
    }

    fn reply_for(self, req: &RecordedRequest) -> Reply {
        let body = req.json();
        for (pointer, value, reply) in self.rejections {
            if body.as_ref().and_then(|b| b.pointer(&pointer)) == Some(&value) {
                return reply;
            }
        }
        self.reply
    }

    fn routes(&self, req: &RecordedRequest) -> bool {
        self.method.as_deref().is_none_or(|m| m == req.method)
            && self.path.as_deref().is_none_or(|p| p == req.path)
    }

    fn check(&self, req: &RecordedRequest) -> Vec<String> {
        let mut out = Vec::new();
        let what = format!("{} {}", req.method, req.path);
        if let Some(m) = &self.method
            && m != &req.method
        {
            out.push(format!("{what}: expected method {m}"));
        }
        if let Some(p) = &self.path
            && p != &req.path
        {
            out.push(format!("{what}: expected path {p}"));
        }
        for (name, value) in &self.query {
            let got = req.query_param(name);
            match (value, got) {
                (Some(v), Some(g)) if *v == g => {}
                (Some(v), g) => {
                    out.push(format!("{what}: query {name}: expected {v:?}, got {g:?}"))
                }
                (None, Some(g)) => {
                    out.push(format!("{what}: query {name} must be absent, got {g:?}"))
                }
                (None, None) => {}
            }
        }
        for (name, value) in &self.headers {
            match req.header(name) {
                Some(g) if g == value => {}
                g => out.push(format!(
                    "{what}: header {name}: expected {value:?}, got {g:?}"
                )),
            }
        }
        for name in &self.absent_headers {
            if let Some(g) = req.header(name) {
                out.push(format!("{what}: header {name} must be absent, got {g:?}"));
            }
        }
        if self.body_exact.is_some()
            || !self.body_includes.is_empty()
            || !self.body_absent.is_empty()
        {
            match req.json() {
                None => out.push(format!("{what}: body is not JSON")),
                Some(body) => {
                    if let Some(exact) = &self.body_exact
                        && exact != &body
                    {
                        out.push(format!(
                            "{what}: body\n  expected {exact}\n  got      {body}"
                        ));
                    }
                    for part in &self.body_includes {
                        if let Err(at) = json_includes(&body, part, String::new()) {
                            out.push(format!(
                                "{what}: body does not include {part} (at {at})\n  got {body}"
                            ));
                        }
                    }
                    for ptr in &self.body_absent {
                        if let Some(v) = body.pointer(ptr) {
                            out.push(format!("{what}: body must not have {ptr}, got {v}"));
                        }
                    }
                }
            }
        }
        out
    }
}

/// Whether `actual` includes `expected` (see [`Scenario::body_includes`]); the error is the
/// JSON pointer of the first difference.
pub fn json_includes(actual: &Value, expected: &Value, at: String) -> Result<(), String> {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (k, ev) in e {
                let here = format!("{at}/{k}");
                match a.get(k) {
                    Some(av) => json_includes(av, ev, here)?,
                    None => return Err(here),
                }
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(e)) => {
            if a.len() != e.len() {
                return Err(format!("{at} (length {} vs {})", a.len(), e.len()));
            }
            for (i, (av, ev)) in a.iter().zip(e).enumerate() {
                json_includes(av, ev, format!("{at}/{i}"))?;
            }
            Ok(())
        }
        (a, e) if a == e => Ok(()),
        _ => Err(if at.is_empty() { "/".into() } else { at }),
    }
}

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Raw query string (without `?`), empty when none.
    pub query: String,
    /// Headers, names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Bytes,
}

impl RecordedRequest {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A decoded query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k) == name).then(|| percent_decode(v))
        })
    }

    /// The body as JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes.get(i) {
            Some(b'%') => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            Some(b'+') => out.push(b' '),
            Some(&b) => out.push(b),
            None => break,
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Default)]
struct Shared {
    scenarios: Mutex<Vec<Option<Scenario>>>,
    requests: Mutex<Vec<RecordedRequest>>,
    mismatches: Mutex<Vec<String>>,
    disconnects: Mutex<usize>,
    notify: Notify,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The wire server. Dropping it stops it and closes every connection.
pub struct WireServer {
    url: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for WireServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WireServer")
            .field("url", &self.url)
            .finish()
    }
}

impl Drop for WireServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl WireServer {
    /// Starts a server on `127.0.0.1` with an ephemeral port.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn start(scenarios: Vec<Scenario>) -> WireServer {
        let listener = match TcpListener::bind("127.0.0.1:0").await {
            Ok(l) => l,
            Err(e) => panic!("wire server: cannot bind 127.0.0.1: {e}"),
        };
        let url = match listener.local_addr() {
            Ok(a) => format!("http://{a}"),
            Err(e) => panic!("wire server: no local address: {e}"),
        };
        let shared = Arc::new(Shared {
            scenarios: Mutex::new(scenarios.into_iter().map(Some).collect()),
            ..Default::default()
        });
        let s = shared.clone();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((sock, _)) => {
                            let _ = sock.set_nodelay(true);
                            conns.spawn(serve_connection(sock, s.clone()));
                        }
                        Err(_) => break,
                    },
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                }
            }
        });
        WireServer { url, shared, task }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// The last request received.
    ///
    /// # Panics
    /// When there was none.
    pub fn last_request(&self) -> RecordedRequest {
        match lock(&self.shared.requests).last() {
            Some(r) => r.clone(),
            None => panic!("wire server: no request received"),
        }
    }

    /// Expectations broken so far.
    pub fn mismatches(&self) -> Vec<String> {
        lock(&self.shared.mismatches).clone()
    }

    /// How many scenarios were not used.
    pub fn unused(&self) -> usize {
        lock(&self.shared.scenarios)
            .iter()
            .filter(|s| s.is_some())
            .count()
    }

    /// Panics when a request broke an expectation.
    pub fn verify(&self) {
        let m = self.mismatches();
        if !m.is_empty() {
            panic!("wire server: {} mismatch(es):\n{}", m.len(), m.join("\n"));
        }
    }

    /// Like [`WireServer::verify`], and also panics when a scenario was not used.
    pub fn verify_all_used(&self) {
        self.verify();
        let unused = self.unused();
        if unused > 0 {
            panic!("wire server: {unused} scenario(s) were never requested");
        }
    }

    /// Waits until the client has closed `n` connections that were hanging or being written
    /// to ([`End::Hang`]); `false` after `timeout`.
    pub async fn wait_for_disconnects(&self, n: usize, timeout: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.shared.notify.notified();
                if *lock(&self.shared.disconnects) >= n {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, wait).await.is_ok()
    }
}

async fn serve_connection(mut sock: TcpStream, shared: Arc<Shared>) {
    let mut buf = Vec::with_capacity(8192);
    loop {
        let req = match read_request(&mut sock, &mut buf).await {
            Some(r) => r,
            None => return,
        };
        let scenario = {
            let mut scenarios = lock(&shared.scenarios);
            let idx = scenarios
                .iter()
                .position(|s| s.as_ref().is_some_and(|s| s.routes(&req)))
                .or_else(|| scenarios.iter().position(Option::is_some));
            idx.and_then(|i| scenarios.get_mut(i).and_then(Option::take))
        };
        lock(&shared.requests).push(req.clone());
        let reply = match scenario {
            Some(s) => {
                let problems = s.check(&req);
                lock(&shared.mismatches).extend(problems);
                s.reply_for(&req)
            }
            None => {
                let msg = format!(
                    "wire server: no scenario left for {} {}",
                    req.method, req.path
                );
                lock(&shared.mismatches).push(msg.clone());
                Reply::json(599, &serde_json::json!({"error": {"message": msg}}))
            }
        };
        let keep_open = match write_reply(&mut sock, &reply).await {
            Ok(k) => k,
            Err(_) => {
                *lock(&shared.disconnects) += 1;
                shared.notify.notify_waiters();
                return;
            }
        };
        match reply.end {
            End::Complete if keep_open => continue,
            End::Complete | End::Cut => {
                let _ = sock.shutdown().await;
                return;
            }
            End::Hang => {
                // Wait for the client to go away.
                let mut scratch = [0u8; 1024];
                loop {
                    match sock.read(&mut scratch).await {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
                *lock(&shared.disconnects) += 1;
                shared.notify.notify_waiters();
                return;
            }
        }
    }
}

/// Reads one request; `None` when the client closed the connection or sent garbage.
async fn read_request(sock: &mut TcpStream, buf: &mut Vec<u8>) -> Option<RecordedRequest> {
    let head_end = loop {
        if let Some(i) = memchr::memmem::find(buf, b"\r\n\r\n") {
            break i;
        }
        let mut tmp = [0u8; 8192];
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(tmp.get(..n)?);
    };
    let head = String::from_utf8_lossy(buf.get(..head_end)?).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (target, String::new()),
    };
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let body_start = head_end + 4;
    while buf.len() < body_start + len {
        let mut tmp = [0u8; 8192];
        let n = sock.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(tmp.get(..n)?);
    }
    let body = Bytes::copy_from_slice(buf.get(body_start..body_start + len)?);
    buf.drain(..body_start + len);
    Some(RecordedRequest {
        method,
        path,
        query,
        headers,
        body,
    })
}

/// Writes the reply; `Ok(true)` when the connection may serve another request.
async fn write_reply(sock: &mut TcpStream, reply: &Reply) -> std::io::Result<bool> {
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let reason = http::StatusCode::from_u16(reply.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Scripted");
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason);
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    match reply.framing {
        Framing::Chunked => head.push_str("transfer-encoding: chunked\r\n"),
        Framing::ContentLength => {
            let total: usize = reply.chunks.iter().map(Bytes::len).sum();
            head.push_str(&format!("content-length: {total}\r\n"));
        }
        Framing::Close => head.push_str("connection: close\r\n"),
    }
    head.push_str("\r\n");
    sock.write_all(head.as_bytes()).await?;
    sock.flush().await?;
    for chunk in &reply.chunks {
        if chunk.is_empty() {
            continue;
        }
        if !reply.pause.is_zero() {
            tokio::time::sleep(reply.pause).await;
        }
        match reply.framing {
            Framing::Chunked => {
                let mut frame = Vec::with_capacity(chunk.len() + 16);
                frame.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                frame.extend_from_slice(chunk);
                frame.extend_from_slice(b"\r\n");
                sock.write_all(&frame).await?;
            }
            Framing::ContentLength | Framing::Close => sock.write_all(chunk).await?,
        }
        sock.flush().await?;
    }
    match (reply.end, reply.framing) {
        (End::Complete, Framing::Chunked) => {
            sock.write_all(b"0\r\n\r\n").await?;
            sock.flush().await?;
            Ok(true)
        }
        (End::Complete, Framing::ContentLength) => Ok(true),
        _ => Ok(false),
    }
}

/// Splits `body` at the given byte offsets (ascending) into chunks.
pub fn split_at(body: &[u8], offsets: &[usize]) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut start = 0;
    for &o in offsets {
        let o = o.clamp(start, body.len());
        out.push(Bytes::copy_from_slice(
            body.get(start..o).unwrap_or_default(),
        ));
        start = o;
    }
    out.push(Bytes::copy_from_slice(
        body.get(start..).unwrap_or_default(),
    ));
    out.retain(|c| !c.is_empty());
    out
}

/// Splits `body` into chunks of `n` bytes (the last may be shorter).
pub fn split_every(body: &[u8], n: usize) -> Vec<Bytes> {
    body.chunks(n.max(1)).map(Bytes::copy_from_slice).collect()
}

/// Splits `body` `offset` bytes into the first occurrence of `needle`, e.g.
/// `split_inside(body, "é", 1)` cuts between the two bytes of `é`, and
/// `split_inside(body, "\"location\"", 4)` cuts inside a JSON string.
///
/// # Panics
/// When `needle` does not occur in `body`.
pub fn split_inside(body: &[u8], needle: &str, offset: usize) -> Vec<Bytes> {
    match memchr::memmem::find(body, needle.as_bytes()) {
        Some(i) => split_at(body, &[i + offset]),
        None => panic!("split_inside: {needle:?} not found in the body"),
    }
}

/// Builds an SSE body from `(event, data)` pairs: `event: X\ndata: Y\n\n` (no `event:` line
/// when the name is empty).
pub fn sse_body<'a>(events: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (event, data) in events {
        if !event.is_empty() {
            out.push_str("event: ");
            out.push_str(event);
            out.push('\n');
        }
        for line in data.split('\n') {
            out.push_str("data: ");
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn includes() {
        let a = json!({"a": 1, "b": [1, {"c": 2, "d": 3}]});
        assert!(json_includes(&a, &json!({"b": [1, {"c": 2}]}), String::new()).is_ok());
        assert_eq!(
            json_includes(&a, &json!({"b": [1, {"c": 3}]}), String::new()),
            Err("/b/1/c".into())
        );
        assert!(json_includes(&a, &json!({"b": [1]}), String::new()).is_err());
    }

    #[test]
    fn splits() {
        let chunks = split_inside("a é b".as_bytes(), "é", 1);
        assert_eq!(chunks.len(), 2);
        assert_eq!(&chunks[0][..], b"a \xc3");
        assert_eq!(split_every(b"abcde", 2).len(), 3);
        assert_eq!(percent_decode("a%20b+c"), "a b c");
    }

    #[tokio::test]
    async fn serves_chunks_and_records() {
        let server = WireServer::start(vec![
            Scenario::post("/x")
                .query("v", "1 2")
                .header("x-k", "v")
                .body_includes(json!({"a": 1}))
                .reply(Reply::sse(["data: 1\n\n", "data: 2\n\n"])),
        ])
        .await;
        let client = reqwest::Client::new();
        let resp = client
            .post(format!("{}/x?v=1%202", server.url()))
            .header("x-k", "v")
            .json(&json!({"a": 1, "b": 2}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.text().await.unwrap(), "data: 1\n\ndata: 2\n\n");
        server.verify_all_used();
        assert_eq!(server.last_request().json().unwrap()["b"], 2);
    }

    #[tokio::test]
    async fn mismatches_are_recorded() {
        let server = WireServer::start(vec![
            Scenario::post("/x")
                .header("x-k", "v")
                .reply(Reply::json(200, &json!({}))),
        ])
        .await;
        let client = reqwest::Client::new();
        let _ = client
            .post(format!("{}/x", server.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(server.mismatches().len(), 1);
        let resp = client
            .get(format!("{}/y", server.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 599);
    }
}

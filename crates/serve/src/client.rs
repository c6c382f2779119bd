//! A small HTTP client for the daemon's API, used by the load generator and the tests: one
//! keep-alive HTTP/1.1 connection per [`Client`] (or one HTTP/2 connection that clones of the
//! client share, many requests at once), JSON in and out, and a reader of server-sent event
//! streams.
//!
//! It is hyper's connection-level client and nothing more (no pool, no redirects, no TLS): the
//! daemon listens on loopback, and a load generator wants to own its connections.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("connect to {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("http: {0}")]
    Http(#[from] hyper::Error),
    #[error("request: {0}")]
    Request(#[from] hyper::http::Error),
}

enum Sender {
    H1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    H2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

/// One connection to the daemon.
pub struct Client {
    sender: Sender,
    authorization: Option<String>,
    host: String,
}

/// An answer: status and body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

impl Client {
    pub async fn connect(addr: SocketAddr, token: Option<&str>) -> Result<Client, ClientError> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|source| ClientError::Connect { addr, source })?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // Ends when the server closes the connection or the client is dropped.
            let _ = conn.await;
        });
        Ok(Client {
            sender: Sender::H1(sender),
            authorization: token.map(|t| format!("Bearer {t}")),
            host: addr.to_string(),
        })
    }

    /// An HTTP/2 connection (prior knowledge, no TLS); [`Client::share`] gives more handles
    /// on it, whose requests travel side by side.
    pub async fn connect_h2(addr: SocketAddr, token: Option<&str>) -> Result<Client, ClientError> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|source| ClientError::Connect { addr, source })?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            TokioIo::new(stream),
        )
        .await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Client {
            sender: Sender::H2(sender),
            authorization: token.map(|t| format!("Bearer {t}")),
            host: addr.to_string(),
        })
    }

    /// Another handle on the same HTTP/2 connection (`None` for HTTP/1.1).
    pub fn share(&self) -> Option<Client> {
        match &self.sender {
            Sender::H1(_) => None,
            Sender::H2(s) => Some(Client {
                sender: Sender::H2(s.clone()),
                authorization: self.authorization.clone(),
                host: self.host.clone(),
            }),
        }
    }

    /// Whether the connection can take another request.
    pub fn is_open(&self) -> bool {
        match &self.sender {
            Sender::H1(s) => !s.is_closed(),
            Sender::H2(s) => !s.is_closed(),
        }
    }

    fn build(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<Request<Full<Bytes>>, ClientError> {
        // HTTP/2 carries the authority in the request itself.
        let uri = match self.sender {
            Sender::H1(_) => path.to_string(),
            Sender::H2(_) => format!("http://{}{path}", self.host),
        };
        let mut b = Request::builder().method(method).uri(uri);
        if let Sender::H1(_) = self.sender {
            b = b.header(HOST, &self.host);
        }
        if let Some(a) = &self.authorization {
            b = b.header(AUTHORIZATION, a);
        }
        if !body.is_empty() {
            b = b.header(CONTENT_TYPE, "application/json");
        }
        Ok(b.body(Full::new(body))?)
    }

    async fn send(
        &mut self,
        req: Request<Full<Bytes>>,
    ) -> Result<hyper::Response<Incoming>, ClientError> {
        match &mut self.sender {
            Sender::H1(s) => {
                s.ready().await?;
                Ok(s.send_request(req).await?)
            }
            Sender::H2(s) => {
                s.ready().await?;
                Ok(s.send_request(req).await?)
            }
        }
    }

    /// Sends a request and reads the whole answer.
    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        body: impl Into<Bytes>,
    ) -> Result<Answer, ClientError> {
        let req = self.build(method, path, body.into())?;
        let res = self.send(req).await?;
        let status = res.status().as_u16();
        let body = res.into_body().collect().await?.to_bytes();
        Ok(Answer { status, body })
    }

    pub async fn get(&mut self, path: &str) -> Result<Answer, ClientError> {
        self.request(Method::GET, path, Bytes::new()).await
    }

    pub async fn post(
        &mut self,
        path: &str,
        body: impl Into<Bytes>,
    ) -> Result<Answer, ClientError> {
        self.request(Method::POST, path, body).await
    }

    /// Opens a server-sent event stream; the connection is the stream's from then on. A
    /// refused stream comes back as the answer.
    pub async fn stream(mut self, path: &str) -> Result<Result<EventStream, Answer>, ClientError> {
        let req = self.build(Method::GET, path, Bytes::new())?;
        let res = self.send(req).await?;
        let status = res.status().as_u16();
        if status != 200 {
            let body = res.into_body().collect().await?.to_bytes();
            return Ok(Err(Answer { status, body }));
        }
        Ok(Ok(EventStream {
            body: res.into_body(),
            buf: Vec::new(),
            _client: self,
        }))
    }
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamEvent {
    pub event: String,
    pub data: String,
}

/// A server-sent event stream being read.
pub struct EventStream {
    body: Incoming,
    buf: Vec<u8>,
    _client: Client,
}

impl EventStream {
    /// The next event; `None` when the server ends the stream. Comments (keep-alives) are
    /// skipped.
    pub async fn next(&mut self) -> Result<Option<StreamEvent>, ClientError> {
        loop {
            if let Some(end) = find_blank_line(&self.buf) {
                let block: Vec<u8> = self.buf.drain(..end.1).collect();
                let text = String::from_utf8_lossy(&block[..end.0]);
                let mut event = StreamEvent {
                    event: "message".into(),
                    data: String::new(),
                };
                let mut any = false;
                for line in text.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event.event = v.trim_start().to_string();
                        any = true;
                    } else if let Some(v) = line.strip_prefix("data:") {
                        if !event.data.is_empty() {
                            event.data.push('\n');
                        }
                        event.data.push_str(v.strip_prefix(' ').unwrap_or(v));
                        any = true;
                    }
                }
                if any {
                    return Ok(Some(event));
                }
                continue;
            }
            match self.body.frame().await {
                None => return Ok(None),
                Some(frame) => {
                    if let Ok(data) = frame?.into_data() {
                        self.buf.extend_from_slice(&data);
                    }
                }
            }
        }
    }
}

/// The end of the first event block: (where its text ends, where the next block starts).
fn find_blank_line(buf: &[u8]) -> Option<(usize, usize)> {
    buf.windows(2)
        .position(|w| w == b"\n\n")
        .map(|i| (i, i + 2))
}

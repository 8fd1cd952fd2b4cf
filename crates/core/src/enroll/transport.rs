//! The HTTP edge: a [`Transport`] sends one request and returns the answer. The protocol
//! logic above it is pure and is tested with an in-process transport; [`HttpTransport`]
//! is the real one (reqwest, blocking, rustls).
//!
//! Calls **block** until the server answers or a timeout passes (10 s to connect, 30 s in
//! all): the phone shells call them off the main thread.

#[cfg(feature = "https")]
use std::io::Read;
#[cfg(feature = "https")]
use std::time::{Duration, Instant};

#[cfg(feature = "https")]
use super::ServerUrl;
use super::certificate::CertificateProblem;
#[cfg(feature = "https")]
use super::certificate::classify;

/// An HTTP method the app API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST` with a JSON body.
    Post,
}

/// One request to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The full URL.
    pub url: String,
    /// The JSON body of a POST.
    pub body: Option<Vec<u8>>,
}

/// The server's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// The body (at most [`MAX_RESPONSE_BYTES`]).
    pub body: Vec<u8>,
}

/// The largest answer read; the protocol's answers are a few hundred bytes.
pub const MAX_RESPONSE_BYTES: u64 = 64 * 1024;

/// Why a request got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The server's certificate could not be verified: the server was reached, but is not
    /// believed (told apart from [`SendError::Failed`], which reads as "offline").
    Certificate(CertificateProblem),
    /// Anything else: DNS, a refused connection, a timeout (the words say which).
    Failed(String),
}

impl From<String> for SendError {
    fn from(reason: String) -> Self {
        SendError::Failed(reason)
    }
}

/// Sends requests. Implementations must not follow redirects (a redirect could lead to
/// plain HTTP or another host).
pub trait Transport: Send + Sync {
    /// Sends `request`; `Err` carries why no answer came.
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, SendError>;
}

/// The real transport: reqwest's blocking client over rustls, no redirects, timeouts.
/// Behind the default feature `https` (the fuzz targets build the core without it).
#[cfg(feature = "https")]
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::blocking::Client,
    /// The CA certificates every client trusts besides the built-in roots.
    extra_roots: Vec<reqwest::Certificate>,
    /// Servers with a CA of their own (remembered from their activation), each with a
    /// client trusting it too: a bank's CA vouches for that bank's server only.
    by_server: Vec<(String, reqwest::blocking::Client)>,
    /// When set, every request must finish by then (a best-effort refresh on open must not
    /// hold the customer up for the full 30 s per request).
    deadline: Option<Instant>,
}

#[cfg(feature = "https")]
impl HttpTransport {
    /// A client with softtoken's user agent and timeouts, trusting the built-in roots.
    pub fn new() -> Result<Self, String> {
        Self::with_roots(Vec::new())
    }

    /// [`HttpTransport::new`], trusting also the CA certificates in `pem` (one or more
    /// `CERTIFICATE` blocks): a bank's own CA, a test CA. An error says what is wrong
    /// with them.
    pub fn trusting(pem: &[u8]) -> Result<Self, String> {
        let roots = parse_roots(pem)?;
        Self::with_roots(roots).map_err(|e| format!("not usable as CA certificates ({e})"))
    }

    /// This transport, trusting also the CA certificates in `pem` for `server` alone (its
    /// own URL and the paths under it). An error says what is wrong with them.
    pub fn trusting_for(mut self, server: &ServerUrl, pem: &[u8]) -> Result<Self, String> {
        let mut roots = parse_roots(pem)?;
        roots.extend(self.extra_roots.iter().cloned());
        let client = client(&roots).map_err(|e| format!("not usable as CA certificates ({e})"))?;
        self.by_server.push((server.as_str().to_string(), client));
        Ok(self)
    }

    fn with_roots(roots: Vec<reqwest::Certificate>) -> Result<Self, String> {
        Ok(HttpTransport {
            client: client(&roots)?,
            extra_roots: roots,
            by_server: Vec::new(),
            deadline: None,
        })
    }

    /// The client for `url`: its server's own, else the common one.
    fn client_for(&self, url: &str) -> &reqwest::blocking::Client {
        self.by_server
            .iter()
            .find(|(server, _)| {
                url.strip_prefix(server.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            })
            .map_or(&self.client, |(_, client)| client)
    }

    /// This transport with an overall budget: every request from now on shares `budget`
    /// (each one's timeout is what is left of it), and none is sent once it is spent.
    pub fn within(mut self, budget: Duration) -> Self {
        self.deadline = Some(Instant::now() + budget);
        self
    }
}

#[cfg(feature = "https")]
impl Transport for HttpTransport {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, SendError> {
        let client = self.client_for(&request.url);
        let builder = match request.method {
            Method::Get => client.get(&request.url),
            Method::Post => client
                .post(&request.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(request.body.clone().unwrap_or_default()),
        };
        let builder = match self.deadline {
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(SendError::Failed(
                        "timed out (no time left for this request)".into(),
                    ));
                }
                builder.timeout(left)
            }
            None => builder,
        };
        let response = builder
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .map_err(|e| match classify(&e) {
                Some(problem) => SendError::Certificate(problem),
                None => SendError::Failed(describe(e)),
            })?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        response
            .take(MAX_RESPONSE_BYTES)
            .read_to_end(&mut body)
            .map_err(|e| format!("reading the answer failed: {e}"))?;
        Ok(HttpResponse { status, body })
    }
}

/// The CA certificates in `pem` (one or more `CERTIFICATE` blocks).
#[cfg(feature = "https")]
fn parse_roots(pem: &[u8]) -> Result<Vec<reqwest::Certificate>, String> {
    let roots = reqwest::Certificate::from_pem_bundle(pem)
        .map_err(|e| format!("not PEM certificates: {e}"))?;
    if roots.is_empty() {
        return Err("holds no PEM CERTIFICATE block".into());
    }
    Ok(roots)
}

/// A client with softtoken's user agent, timeouts and no redirects, trusting the built-in
/// roots and `roots`.
#[cfg(feature = "https")]
fn client(roots: &[reqwest::Certificate]) -> Result<reqwest::blocking::Client, String> {
    let mut builder = reqwest::blocking::Client::builder();
    for root in roots {
        builder = builder.add_root_certificate(root.clone());
    }
    builder
        .use_rustls_tls()
        .https_only(false) // ServerUrl already refused plain http to anything but loopback
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("softtoken/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot set up HTTPS: {e}"))
}

/// reqwest's errors name the URL already; keep the innermost cause, which says what failed.
#[cfg(feature = "https")]
fn describe(e: reqwest::Error) -> String {
    let mut reason = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "connection failed".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(&e);
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    if let Some(cause) = last {
        reason.push_str(": ");
        reason.push_str(&cause);
    }
    reason
}

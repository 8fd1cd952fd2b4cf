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

/// Sends requests. Implementations must not follow redirects (a redirect could lead to
/// plain HTTP or another host).
pub trait Transport: Send + Sync {
    /// Sends `request`; `Err` carries why the server could not be reached.
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, String>;
}

/// The real transport: reqwest's blocking client over rustls, no redirects, timeouts.
/// Behind the default feature `https` (the fuzz targets build the core without it).
#[cfg(feature = "https")]
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::blocking::Client,
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
        let roots = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| format!("not PEM certificates: {e}"))?;
        if roots.is_empty() {
            return Err("holds no PEM CERTIFICATE block".into());
        }
        Self::with_roots(roots).map_err(|e| format!("not usable as CA certificates ({e})"))
    }

    fn with_roots(roots: Vec<reqwest::Certificate>) -> Result<Self, String> {
        let mut builder = reqwest::blocking::Client::builder();
        for root in roots {
            builder = builder.add_root_certificate(root);
        }
        let client = builder
            .use_rustls_tls()
            .https_only(false) // ServerUrl already refused plain http to anything but loopback
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("softtoken/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot set up HTTPS: {e}"))?;
        Ok(HttpTransport {
            client,
            deadline: None,
        })
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
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, String> {
        let builder = match request.method {
            Method::Get => self.client.get(&request.url),
            Method::Post => self
                .client
                .post(&request.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(request.body.clone().unwrap_or_default()),
        };
        let builder = match self.deadline {
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err("timed out (no time left for this request)".into());
                }
                builder.timeout(left)
            }
            None => builder,
        };
        let response = builder
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .map_err(describe)?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        response
            .take(MAX_RESPONSE_BYTES)
            .read_to_end(&mut body)
            .map_err(|e| format!("reading the answer failed: {e}"))?;
        Ok(HttpResponse { status, body })
    }
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

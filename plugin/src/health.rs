//! Health probes: TCP connect, TLS handshake, HTTP(S) status, and real logins with the
//! protocols' own clients for PostgreSQL, MySQL/MariaDB and Redis (log in, run `SELECT 1` or
//! `PING`). Credentials are held in memory only; no error text that reaches the user may
//! contain the password (it is scrubbed from every message).

use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// How to reach a service and log in.
#[derive(Clone, Debug, Default)]
pub struct Target {
    /// The connection type (`postgres`, `mysql`, `redis`, `http`, ...).
    pub kind: String,
    /// Host name or address.
    pub host: Option<String>,
    /// Port.
    pub port: Option<u16>,
    /// A URL (HTTP types).
    pub url: Option<String>,
    /// Database name.
    pub database: Option<String>,
    /// User name.
    pub username: Option<String>,
    /// Password (never printed).
    pub password: Option<String>,
    /// TLS: `disable`, `require` (encrypt, do not verify) or `verify-full`.
    pub tls: Option<String>,
}

/// What a probe found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Health {
    /// It answered as it should.
    Healthy,
    /// It did not; the reason says how.
    Unhealthy(String),
}

/// The outcome and how long it took.
#[derive(Clone, Debug)]
pub struct Report {
    /// Healthy or not, and why.
    pub health: Health,
    /// Wall time of the probe.
    pub latency: Duration,
    /// What was probed (`postgres at 127.0.0.1:55432`), without credentials.
    pub what: String,
}

/// Why a probe could not even be tried.
#[derive(Debug)]
pub struct Unprobeable(pub String);

fn default_port(kind: &str) -> Option<u16> {
    Some(match kind {
        "postgres" => 5432,
        "mysql" | "mariadb" => 3306,
        "redis" => 6379,
        "mongo" | "mongodb" => 27017,
        "amqp" => 5672,
        "ssh" | "git" => 22,
        "ftp" => 21,
        _ => return None,
    })
}

impl Target {
    /// `host:port` or the URL, for messages.
    pub fn describe(&self) -> String {
        match (&self.url, &self.host) {
            (Some(url), _) => format!("{} at {}", self.kind, strip_userinfo(url)),
            (None, Some(host)) => format!(
                "{} at {host}:{}",
                self.kind,
                self.port.or_else(|| default_port(&self.kind)).unwrap_or(0)
            ),
            _ => self.kind.clone(),
        }
    }
}

/// A URL reduced to `scheme://host:port`: credentials can sit in the user info, the path
/// (webhook tokens) or the query, and a URL from a Secret is a secret itself.
fn strip_userinfo(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port_or_known_default()) {
            (Some(host), Some(port)) => format!("{}://{host}:{port}", u.scheme()),
            (Some(host), None) => format!("{}://{host}", u.scheme()),
            _ => format!("{}:", u.scheme()),
        },
        Err(_) => "<a URL that does not parse>".to_string(),
    }
}

/// Runs the probe for the target's type, within `timeout`.
pub async fn probe(target: &Target, timeout: Duration) -> Result<Report, Unprobeable> {
    let started = Instant::now();
    let what = target.describe();
    let work = async {
        match target.kind.as_str() {
            "postgres" => postgres(target).await,
            "mysql" | "mariadb" => mysql(target).await,
            "redis" => redis_ping(target).await,
            "http" | "https" | "webhook" | "slack" | "discord" | "mattermost" | "hipchat"
            | "pagerduty" | "jenkins" => http(target).await,
            _ => tcp(target).await,
        }
    };
    let health = match tokio::time::timeout(timeout, work).await {
        Err(_) => Health::Unhealthy(format!("timeout: no answer within {}", humanize(timeout))),
        Ok(Err(e)) => return Err(e),
        Ok(Ok(health)) => health,
    };
    let health = match health {
        Health::Unhealthy(reason) => Health::Unhealthy(scrub(&reason, target.password.as_deref())),
        healthy => healthy,
    };
    Ok(Report { health, latency: started.elapsed(), what })
}

fn humanize(d: Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// Removes a password from a message, whatever the client library put in it.
pub fn scrub(message: &str, password: Option<&str>) -> String {
    match password {
        Some(p) if !p.is_empty() => message.replace(p, "***"),
        _ => message.to_string(),
    }
}

fn kind_words(kind: &str) -> String {
    if kind.is_empty() { "the connection".to_string() } else { format!("the {kind} connection") }
}

fn host_port(target: &Target) -> Result<(String, u16), Unprobeable> {
    let host = target
        .host
        .clone()
        .ok_or_else(|| Unprobeable(format!("{} has no host to probe", kind_words(&target.kind))))?;
    let port = target
        .port
        .or_else(|| default_port(&target.kind))
        .ok_or_else(|| Unprobeable(format!("{} has no port to probe", kind_words(&target.kind))))?;
    Ok((host, port))
}

/// Why a TCP connect failed, in the words users look for.
fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "refused: nothing listens there".to_string(),
        std::io::ErrorKind::TimedOut => "timeout: the connection attempt timed out".to_string(),
        _ => format!("cannot connect: {e}"),
    }
}

async fn tcp(target: &Target) -> Result<Health, Unprobeable> {
    let (host, port) = host_port(target)?;
    let stream = match TcpStream::connect((host.as_str(), port)).await {
        Ok(s) => s,
        Err(e) => return Ok(Health::Unhealthy(io_reason(&e))),
    };
    if matches!(target.tls.as_deref(), Some("require" | "verify-full")) {
        return Ok(
            match tls_handshake(stream, &host, target.tls.as_deref() == Some("verify-full")).await {
                Ok(_) => Health::Healthy,
                Err(reason) => Health::Unhealthy(reason),
            },
        );
    }
    Ok(Health::Healthy)
}

fn tls_config(verify: bool) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the default protocol versions");
    let config = if verify {
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
            .with_no_client_auth()
    };
    Arc::new(config)
}

async fn tls_handshake(stream: TcpStream, host: &str, verify: bool) -> Result<(), String> {
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| format!("TLS error: {e}"))?;
    tokio_rustls::TlsConnector::from(tls_config(verify))
        .connect(name, stream)
        .await
        .map(|_| ())
        .map_err(|e| format!("TLS error: {e}"))
}

/// `sslmode=require`: encrypt without checking the certificate, as libpq does.
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

async fn postgres(target: &Target) -> Result<Health, Unprobeable> {
    let (host, port) = host_port(target)?;
    let mut config = tokio_postgres::Config::new();
    config.host(&host).port(port).connect_timeout(Duration::from_secs(3600));
    config.user(target.username.as_deref().unwrap_or("postgres"));
    if let Some(password) = &target.password {
        config.password(password);
    }
    if let Some(db) = &target.database {
        config.dbname(db);
    }
    let mode = target.tls.as_deref().unwrap_or("prefer");
    let result = match mode {
        "disable" => {
            config.ssl_mode(tokio_postgres::config::SslMode::Disable);
            match config.connect(tokio_postgres::NoTls).await {
                Ok((client, connection)) => {
                    tokio::spawn(connection);
                    client.simple_query("SELECT 1").await.map(|_| ())
                }
                Err(e) => Err(e),
            }
        }
        _ => {
            config.ssl_mode(if mode == "prefer" {
                tokio_postgres::config::SslMode::Prefer
            } else {
                tokio_postgres::config::SslMode::Require
            });
            let tls = tokio_postgres_rustls::MakeRustlsConnect::new(
                (*tls_config(mode == "verify-full")).clone(),
            );
            match config.connect(tls).await {
                Ok((client, connection)) => {
                    tokio::spawn(connection);
                    client.simple_query("SELECT 1").await.map(|_| ())
                }
                Err(e) => Err(e),
            }
        }
    };
    Ok(match result {
        Ok(()) => Health::Healthy,
        Err(e) => Health::Unhealthy(postgres_reason(&e)),
    })
}

fn postgres_reason(e: &tokio_postgres::Error) -> String {
    let chain = {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        text
    };
    if chain.contains("certificate")
        || chain.contains("TLS")
        || chain.contains("tls")
        || chain.contains("handshake")
    {
        return format!("TLS error: {chain}");
    }
    if let Some(db) = e.as_db_error() {
        return match db.code().code() {
            "28P01" | "28000" => format!("authentication failed: {}", db.message()),
            "3D000" => format!("no such database: {}", db.message()),
            _ => format!("the server refused: {}", db.message()),
        };
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return io_reason(io);
        }
        source = s.source();
    }
    let text = e.to_string();
    if text.contains("tls") || text.contains("TLS") || text.contains("certificate") {
        format!("TLS error: {text}")
    } else {
        format!("cannot connect: {text}")
    }
}

async fn mysql(target: &Target) -> Result<Health, Unprobeable> {
    use mysql_async::prelude::Queryable as _;
    let (host, port) = host_port(target)?;
    let mut opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname(host)
        .tcp_port(port)
        .user(target.username.clone())
        .pass(target.password.clone())
        .db_name(target.database.clone())
        .prefer_socket(false);
    if matches!(target.tls.as_deref(), Some("require" | "verify-full")) {
        let ssl = mysql_async::SslOpts::default()
            .with_danger_accept_invalid_certs(target.tls.as_deref() != Some("verify-full"));
        opts = opts.ssl_opts(Some(ssl));
    }
    let result: Result<(), mysql_async::Error> = async {
        let mut conn = mysql_async::Conn::new(opts).await?;
        let _: Option<u8> = conn.query_first("SELECT 1").await?;
        conn.disconnect().await
    }
    .await;
    Ok(match result {
        Ok(()) => Health::Healthy,
        Err(mysql_async::Error::Server(e)) if e.code == 1045 || e.code == 1044 => {
            Health::Unhealthy(format!("authentication failed: {}", e.message))
        }
        Err(mysql_async::Error::Server(e)) => {
            Health::Unhealthy(format!("the server refused: {}", e.message))
        }
        Err(mysql_async::Error::Io(mysql_async::IoError::Io(e))) => {
            Health::Unhealthy(io_reason(&e))
        }
        Err(e) => Health::Unhealthy(format!("cannot connect: {e}")),
    })
}

async fn redis_ping(target: &Target) -> Result<Health, Unprobeable> {
    let (host, port) = host_port(target)?;
    let mut info = redis::RedisConnectionInfo::default();
    if let Some(user) = &target.username {
        info = info.set_username(user);
    }
    if let Some(password) = &target.password {
        info = info.set_password(password);
    }
    if let Some(db) = target.database.as_deref().and_then(|d| d.parse::<i64>().ok()) {
        info = info.set_db(db);
    }
    let address = redis::ConnectionAddr::Tcp(host, port);
    let result: redis::RedisResult<String> = async {
        use redis::IntoConnectionInfo as _;
        let client = redis::Client::open(address.into_connection_info()?.set_redis_settings(info))?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async(&mut conn).await
    }
    .await;
    Ok(match result {
        Ok(reply) if reply == "PONG" => Health::Healthy,
        Ok(other) => Health::Unhealthy(format!("unexpected reply to PING: {other}")),
        Err(e) if matches!(e.kind(), redis::ErrorKind::AuthenticationFailed) => {
            Health::Unhealthy(format!("authentication failed: {e}"))
        }
        Err(e) if e.code().is_some_and(|c| c == "WRONGPASS" || c == "NOAUTH") => {
            Health::Unhealthy(format!("authentication failed: {e}"))
        }
        Err(e) if e.is_connection_refusal() => {
            Health::Unhealthy("refused: nothing listens there".to_string())
        }
        Err(e) if e.is_timeout() => {
            Health::Unhealthy("timeout: the connection attempt timed out".to_string())
        }
        Err(e) => Health::Unhealthy(format!("cannot connect: {e}")),
    })
}

async fn http(target: &Target) -> Result<Health, Unprobeable> {
    let url = target
        .url
        .clone()
        .ok_or_else(|| Unprobeable(format!("{} has no url to probe", kind_words(&target.kind))))?;
    let parsed = url::Url::parse(&url).map_err(|e| {
        Unprobeable(format!("cannot probe the connection's url: it does not parse ({e})"))
    })?;
    let host = parsed.host_str().unwrap_or_default().to_string();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let stream = match TcpStream::connect((host.as_str(), port)).await {
        Ok(s) => s,
        Err(e) => return Ok(Health::Unhealthy(io_reason(&e))),
    };
    let path = match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_string(),
    };
    let request = hyper::Request::get(path)
        .header(hyper::header::HOST, &host)
        .header(hyper::header::USER_AGENT, "kubectl-connections")
        .body(http_body_util::Empty::<hyper::body::Bytes>::new())
        .map_err(|e| Unprobeable(format!("cannot build the request: {e}")))?;
    let status = if parsed.scheme() == "https" {
        let name = match rustls::pki_types::ServerName::try_from(host.clone()) {
            Ok(n) => n,
            Err(e) => return Ok(Health::Unhealthy(format!("TLS error: {e}"))),
        };
        let tls = match tokio_rustls::TlsConnector::from(tls_config(
            target.tls.as_deref() != Some("require"),
        ))
        .connect(name, stream)
        .await
        {
            Ok(t) => t,
            Err(e) => return Ok(Health::Unhealthy(format!("TLS error: {e}"))),
        };
        send(hyper_util::rt::TokioIo::new(tls), request).await
    } else {
        send(hyper_util::rt::TokioIo::new(stream), request).await
    };
    Ok(match status {
        Ok(code) if code < 400 => Health::Healthy,
        Ok(code) => Health::Unhealthy(format!("HTTP status {code}")),
        Err(reason) => Health::Unhealthy(reason),
    })
}

async fn send<T>(
    io: T,
    request: hyper::Request<http_body_util::Empty<hyper::body::Bytes>>,
) -> Result<u16, String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    tokio::spawn(connection);
    sender
        .send_request(request)
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| format!("no HTTP answer: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_scrubbed_and_urls_lose_their_credentials() {
        assert_eq!(scrub("auth failed for hunter2", Some("hunter2")), "auth failed for ***");
        assert_eq!(
            strip_userinfo("https://u:p@host/hooks/T000/B000/TOKEN?key=k"),
            "https://host:443"
        );
        assert_eq!(
            strip_userinfo("http://admin:secret@127.0.0.1:99999/x"),
            "<a URL that does not parse>"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_closed_port_is_refused_and_a_silent_one_times_out() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let target = Target {
            kind: "tcp".into(),
            host: Some("127.0.0.1".into()),
            port: Some(port),
            ..Target::default()
        };
        let report = probe(&target, Duration::from_secs(2)).await.unwrap();
        assert!(
            matches!(report.health, Health::Unhealthy(ref r) if r.starts_with("refused")),
            "{report:?}"
        );
    }
}

//! Derived connection URIs: `postgresql://user:p%40ss@pg.data.svc:5432/sales` built from a
//! connection's host, port, database, username and password.
//!
//! A URI is the value consumers most often want and the one users most often assemble by hand
//! (with the classic bug: a password holding `@`, `:` or `/` that nobody percent-encoded).
//! Here the user information, the host and the path segment are encoded per RFC 3986: every
//! byte outside the *unreserved* set (`A-Z a-z 0-9 - . _ ~`) becomes `%XX` of its UTF-8
//! encoding. That is stricter than the RFC requires (sub-delimiters are allowed raw in user
//! information) and is always read back identically, by every URI parser.
//!
//! This module only builds and reads text; whether a URI holding a password may be written
//! anywhere is the secrets policy's decision (DESIGN.md §5), not this module's.

use std::fmt;

/// The URI scheme for a connection type, when a URI can be derived for that type.
pub fn scheme(connection_type: &str) -> Option<&'static str> {
    Some(match connection_type.to_ascii_lowercase().as_str() {
        "postgres" | "postgresql" => "postgresql",
        "mysql" | "mariadb" => "mysql",
        "redis" => "redis",
        "mongodb" | "mongo" => "mongodb",
        "amqp" | "rabbitmq" => "amqp",
        "http" => "http",
        "https" => "https",
        _ => return None,
    })
}

/// The parts a URI is made of. Text is given decoded; [`compose`] encodes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UriParts {
    /// `postgresql`, `mysql`, ... (see [`scheme`]).
    pub scheme: String,
    /// The user name, if any.
    pub username: Option<String>,
    /// The password, if any (written only after a user name, which may be empty).
    pub password: Option<String>,
    /// A DNS name, an IPv4 address, or an IPv6 address (with or without brackets).
    pub host: String,
    /// The port, if not the scheme's default.
    pub port: Option<u16>,
    /// The database (PostgreSQL, MySQL, MongoDB), database index (Redis) or virtual host
    /// (AMQP): one path segment.
    pub database: Option<String>,
}

/// Why a URI cannot be composed. Messages never contain the user name or password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UriError {
    /// No host.
    MissingHost,
    /// The host is neither a DNS name nor an IP address.
    InvalidHost(String),
    /// The scheme is not one of [`scheme`]'s.
    UnknownScheme(String),
    /// The database is empty, `.` or `..`: URI readers drop such path segments (encoded too).
    InvalidDatabase(String),
}

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UriError::MissingHost => write!(f, "a connection URI needs a host"),
            UriError::InvalidHost(host) => write!(
                f,
                "`{host}` is not a DNS name or an IP address, so it cannot be the host of a URI"
            ),
            UriError::UnknownScheme(s) => write!(f, "no connection URI is derived for `{s}`"),
            UriError::InvalidDatabase(d) => write!(
                f,
                "the database `{d}` cannot be a URI path segment (URI readers drop empty, `.` and `..` segments)"
            ),
        }
    }
}

/// Percent-encodes every byte of `text` outside RFC 3986's unreserved set.
pub fn encode_component(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
    out
}

/// Decodes `%XX` sequences; `None` when one is malformed or the result is not UTF-8.
pub fn decode_component(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let value = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
            out.push(value);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Whether `host` is a DNS name (letters, digits, `-` and `.`, labels of 1 to 63 bytes) or an
/// IPv4 address.
pub(crate) fn is_dns_name_or_ipv4(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.trim_end_matches('.').split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// The host as written in a URI: IPv6 addresses in brackets.
fn uri_host(host: &str) -> Result<String, UriError> {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if bare.is_empty() {
        return Err(UriError::MissingHost);
    }
    if bare.parse::<std::net::Ipv6Addr>().is_ok() {
        return Ok(format!("[{bare}]"));
    }
    if is_dns_name_or_ipv4(bare) {
        return Ok(bare.to_string());
    }
    Err(UriError::InvalidHost(host.to_string()))
}

/// Builds the URI. User name, password and database are percent-encoded.
pub fn compose(parts: &UriParts) -> Result<String, UriError> {
    if !matches!(
        parts.scheme.as_str(),
        "postgresql" | "mysql" | "redis" | "mongodb" | "amqp" | "http" | "https"
    ) {
        return Err(UriError::UnknownScheme(parts.scheme.clone()));
    }
    let host = uri_host(&parts.host)?;
    let mut out = format!("{}://", parts.scheme);
    if parts.username.is_some() || parts.password.is_some() {
        out.push_str(&encode_component(parts.username.as_deref().unwrap_or("")));
        if let Some(password) = &parts.password {
            out.push(':');
            out.push_str(&encode_component(password));
        }
        out.push('@');
    }
    out.push_str(&host);
    if let Some(port) = parts.port {
        out.push(':');
        out.push_str(&port.to_string());
    }
    if let Some(database) = &parts.database {
        if matches!(database.as_str(), "" | "." | "..") {
            return Err(UriError::InvalidDatabase(database.clone()));
        }
        out.push('/');
        out.push_str(&encode_component(database));
    }
    Ok(out)
}

/// Reads a URI [`compose`] wrote (or any `scheme://[user[:password]@]host[:port][/segment]`)
/// back into its parts, decoded. `None` when it has another shape.
pub fn parse(uri: &str) -> Option<UriParts> {
    let (scheme, rest) = uri.split_once("://")?;
    // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    if !scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        || !scheme.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    {
        return None;
    }
    // The authority ends at the path, the query or the fragment; the path at either of those.
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, after) = rest.split_at(end);
    let path = after.strip_prefix('/').map(|p| &p[..p.find(['?', '#']).unwrap_or(p.len())]);
    // The user information ends at the last `@`: encoded text holds none.
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
        None => (None, authority),
    };
    let (username, password) = match userinfo {
        None => (None, None),
        Some(info) => match info.split_once(':') {
            Some((user, password)) => {
                (Some(decode_component(user)?), Some(decode_component(password)?))
            }
            None => (Some(decode_component(info)?), None),
        },
    };
    // port = *DIGIT; an empty port means the default.
    let port_of = |text: &str| -> Option<Option<u16>> {
        if text.is_empty() {
            return Some(None);
        }
        if !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse().ok().map(Some)
    };
    let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
        let (host, after) = inner.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => port_of(p)?,
            None if after.is_empty() => None,
            None => return None,
        };
        (host.to_string(), port)
    } else {
        match hostport.rsplit_once(':') {
            Some((host, port)) => (host.to_string(), port_of(port)?),
            None => (hostport.to_string(), None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let database = match path {
        Some(segment) if !segment.is_empty() => Some(decode_component(segment)?),
        _ => None,
    };
    Some(UriParts { scheme: scheme.to_string(), username, password, host, port, database })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(user: Option<&str>, password: Option<&str>, database: Option<&str>) -> UriParts {
        UriParts {
            scheme: "postgresql".into(),
            username: user.map(str::to_string),
            password: password.map(str::to_string),
            host: "pg.data.svc".into(),
            port: Some(5432),
            database: database.map(str::to_string),
        }
    }

    #[test]
    fn reserved_characters_in_the_password_are_encoded() {
        let uri = compose(&parts(Some("app"), Some("p@ss:w/rd?#%"), Some("sales"))).unwrap();
        assert_eq!(uri, "postgresql://app:p%40ss%3Aw%2Frd%3F%23%25@pg.data.svc:5432/sales");
    }

    #[test]
    fn ipv6_hosts_get_brackets_and_bad_hosts_are_refused() {
        let mut p = parts(None, None, None);
        p.host = "fd00::1".into();
        assert_eq!(compose(&p).unwrap(), "postgresql://[fd00::1]:5432");
        p.host = "pg data".into();
        assert_eq!(compose(&p), Err(UriError::InvalidHost("pg data".into())));
        p.host = String::new();
        assert_eq!(compose(&p), Err(UriError::MissingHost));
    }

    #[test]
    fn path_segments_readers_would_drop_are_refused() {
        for database in ["", ".", ".."] {
            assert_eq!(
                compose(&parts(None, None, Some(database))),
                Err(UriError::InvalidDatabase(database.into()))
            );
        }
    }

    #[test]
    fn parse_follows_the_rfc_grammar() {
        assert_eq!(parse("postgresql://h:+80"), None, "a port is digits only");
        assert_eq!(parse("postgresql://u%+F@h"), None, "percent needs two hex digits");
        assert_eq!(parse("1pg://h"), None, "a scheme starts with a letter");
        let p = parse("postgresql://h:/db?sslmode=require#x").unwrap();
        assert_eq!((p.port, p.database.as_deref()), (None, Some("db")));
        assert_eq!(parse("https://h?q=1").unwrap().host, "h");
    }

    #[test]
    fn a_password_without_a_user_keeps_an_empty_user() {
        let uri = compose(&parts(None, Some("secret"), None)).unwrap();
        assert_eq!(uri, "postgresql://:secret@pg.data.svc:5432");
        assert_eq!(parse(&uri).unwrap().password.as_deref(), Some("secret"));
    }

    #[test]
    fn the_url_crate_reads_the_same_parts() {
        let uri = compose(&parts(Some("ädmin"), Some("a b:c@d"), Some("my db"))).unwrap();
        let url = url::Url::parse(&uri).unwrap();
        assert_eq!(decode_component(url.username()).unwrap(), "ädmin");
        assert_eq!(decode_component(url.password().unwrap()).unwrap(), "a b:c@d");
        assert_eq!(url.host_str(), Some("pg.data.svc"));
        assert_eq!(url.port(), Some(5432));
        assert_eq!(decode_component(&url.path()[1..]).unwrap(), "my db");
    }

    #[test]
    fn schemes_cover_the_derived_types() {
        for (t, s) in [
            ("postgres", "postgresql"),
            ("MySQL", "mysql"),
            ("redis", "redis"),
            ("mongodb", "mongodb"),
            ("rabbitmq", "amqp"),
            ("https", "https"),
        ] {
            assert_eq!(scheme(t), Some(s), "{t}");
        }
        assert_eq!(scheme("s3"), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, ..Default::default() })]

        /// Any user name, password and database (any Unicode, any reserved character) and any
        /// DNS-like host and port read back as the same parts.
        #[test]
        fn compose_then_parse_gives_the_same_parts(
            user in proptest::option::of(".*"),
            password in proptest::option::of(".*"),
            database in proptest::option::of(".*"),
            dns in "[a-zA-Z]([a-zA-Z0-9-]{0,18}[a-zA-Z0-9])?(\\.[a-zA-Z]([a-zA-Z0-9-]{0,18}[a-zA-Z0-9])?){0,3}",
            ipv6 in proptest::option::of(proptest::prelude::any::<[u16; 8]>()),
            port in proptest::option::of(1u16..),
            scheme_index in 0usize..7,
        ) {
            let schemes = ["postgresql", "mysql", "redis", "mongodb", "amqp", "http", "https"];
            let host = match ipv6 {
                Some(s) => std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]).to_string(),
                None => dns,
            };
            let parts = UriParts {
                scheme: schemes[scheme_index].to_string(),
                username: user.clone(),
                password: password.clone(),
                host: host.clone(),
                port,
                database: database.clone(),
            };
            if matches!(database.as_deref(), Some("" | "." | "..")) {
                proptest::prop_assert!(compose(&parts).is_err());
                return Ok(());
            }
            let uri = compose(&parts).expect("composes");
            let back = parse(&uri).expect("parses back");
            // A password alone is written after an empty user name.
            let expected_user = if password.is_some() && user.is_none() { Some(String::new()) } else { user };
            proptest::prop_assert_eq!(back.username, expected_user);
            proptest::prop_assert_eq!(back.password, password);
            proptest::prop_assert_eq!(back.host, host);
            proptest::prop_assert_eq!(back.port, port);
            proptest::prop_assert_eq!(back.database, database);
            // An independent parser agrees on the host and port.
            let url = url::Url::parse(&uri).expect("a valid URL");
            let expected_host = match ipv6 {
                Some(_) => format!("[{}]", parts.host),
                None => parts.host.to_ascii_lowercase(),
            };
            // Hosts are compared as DNS compares them (`xn--` labels may be IDNA-mapped).
            if !expected_host.contains("xn--") {
                let read = url.host_str().map(str::to_ascii_lowercase);
                proptest::prop_assert_eq!(read.as_deref(), Some(expected_host.as_str()));
            }
            if let Some(port) = parts.port {
                proptest::prop_assert_eq!(url.port_or_known_default(), Some(port));
            }
        }
    }
}

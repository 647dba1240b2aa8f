//! Service Binding rules (servicebinding.io, ecosystem.md §5.1): the annotation that selects
//! the projection, binding names, the volume a binding is mounted from, and the constraints on
//! the well-known entries (`host`, `port`, `uri`, `certificates`, `private-key`).
//!
//! The validators take the value and return a reason in our words. A reason never quotes the
//! value: entries are often read from Secrets, and no Secret value may reach a diagnostic.

/// Workload annotation that selects how connections are projected into its pods.
pub const PROJECTION_ANNOTATION: &str = "connections.dev/projection";
/// The value of [`PROJECTION_ANNOTATION`] that asks for Service Binding projection.
pub const SERVICE_BINDING: &str = "service-binding";
/// Every value [`PROJECTION_ANNOTATION`] accepts. Without the annotation connections become
/// environment variables; there is no value for that, so that a typo cannot select it.
pub const PROJECTIONS: &[&str] = &[SERVICE_BINDING];
/// The environment variable that tells an application where its bindings are.
pub const ROOT_ENV: &str = "SERVICE_BINDING_ROOT";
/// The root the spec recommends, used where a container does not set its own.
pub const DEFAULT_ROOT: &str = "/bindings";
/// The entries whose values the spec constrains.
pub const CONSTRAINED_ENTRIES: &[&str] = &["host", "port", "uri", "certificates", "private-key"];

/// The spec's binding name rule: `[a-z0-9\-\.]{1,253}`.
pub fn binding_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if name.len() > 253 {
        return Err(format!("must be at most 253 characters (it has {})", name.len()));
    }
    if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    {
        return Err("may hold only lower-case letters, digits, '-' and '.'".into());
    }
    Ok(())
}

/// The volume a binding is mounted from: `binding-<name>` when that is a DNS-1123 label.
/// Otherwise dots become dashes, the name is cut to fit 63 characters, and a hash of the
/// original name is appended, so that `a.b` and `a-b` never share a volume.
pub fn volume_name(name: &str) -> String {
    let plain = format!("binding-{name}");
    if crate::rules::dns1123_label(&plain).is_ok() {
        return plain;
    }
    let hash = crate::render::generate::content_hash([("", name.as_bytes())]);
    let hash = &hash[..8];
    let mut cleaned: String = plain
        .chars()
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() { c } else { '-' })
        .collect();
    cleaned.truncate(crate::rules::DNS1123_LABEL_MAX - hash.len() - 1);
    format!("{}-{hash}", cleaned.trim_end_matches('-'))
}

/// Checks the value of a constrained entry; `None` for entries the spec leaves free.
pub fn check_entry(entry: &str, value: &[u8]) -> Option<Result<(), String>> {
    if !CONSTRAINED_ENTRIES.contains(&entry) {
        return None;
    }
    let Ok(text) = std::str::from_utf8(value) else {
        return Some(Err("is not UTF-8 text".into()));
    };
    Some(match entry {
        "host" => host(text),
        "port" => port(text),
        "uri" => uri(text),
        "certificates" => certificates(text),
        _ => private_key(text),
    })
}

/// A value as an application reads it from a file: one final line break, which `echo` and
/// editors add, is not part of it.
fn line(text: &str) -> &str {
    text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(text)
}

/// `port`: a decimal integer from 1 to 65535.
pub fn port(text: &str) -> Result<(), String> {
    let text = line(text);
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    match text.parse::<u32>() {
        Ok(p) if digits && (1..=65535).contains(&p) => Ok(()),
        _ => Err("must be a decimal integer from 1 to 65535".into()),
    }
}

/// `host`: a DNS name or an IP address (IPv6 with or without brackets).
pub fn host(text: &str) -> Result<(), String> {
    let text = line(text);
    let bare = text.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(text);
    if bare.parse::<std::net::IpAddr>().is_ok() || crate::uri::is_dns_name_or_ipv4(bare) {
        Ok(())
    } else if text.is_empty() {
        Err("must not be empty".into())
    } else {
        Err("must be a DNS name or an IP address (no scheme, port, path or spaces)".into())
    }
}

/// `uri`: an absolute URI per RFC 3986. The characters are checked against the RFC's grammar
/// first, because the `url` crate (WHATWG rules) silently repairs some that the RFC forbids,
/// such as spaces; then the structure is parsed.
pub fn uri(text: &str) -> Result<(), String> {
    let text = line(text);
    let bytes = text.as_bytes();
    // No position is given: the URI may hold a password, and where its odd characters are is
    // a hint about it.
    for (i, &b) in bytes.iter().enumerate() {
        let allowed = b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b);
        if !allowed {
            return Err("is not an RFC 3986 URI: it holds a character that must be percent-encoded (a space, a quote, `<`, `>`, `\\`, a non-ASCII letter, ...)".into());
        }
        if b == b'%'
            && !bytes.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
        {
            return Err(
                "is not an RFC 3986 URI: it holds a `%` that does not start a `%XX` escape".into(),
            );
        }
    }
    // The url crate's messages name the problem, never the input.
    url::Url::parse(text).map(|_| ()).map_err(|e| format!("is not an RFC 3986 URI: {e}"))
}

/// `certificates`: one or more PEM `CERTIFICATE` blocks (an X.509 chain), each holding DER.
pub fn certificates(text: &str) -> Result<(), String> {
    let blocks = pem_blocks(text)?;
    if blocks.is_empty() {
        return Err(
            "must hold PEM certificates (`-----BEGIN CERTIFICATE-----`), and holds none".into()
        );
    }
    for (n, (label, der)) in blocks.iter().enumerate() {
        if label != "CERTIFICATE" {
            // A private key pasted into `certificates` would be handed out as a CA bundle.
            return Err(format!(
                "block {} is a `{label}`, and `certificates` may hold only CERTIFICATE blocks",
                n + 1
            ));
        }
        if der.first() != Some(&0x30) {
            return Err(format!("block {} does not hold a DER-encoded certificate", n + 1));
        }
    }
    Ok(())
}

/// `private-key`: PEM, with a block whose label ends in `PRIVATE KEY` (PKCS #8, PKCS #1, SEC 1,
/// encrypted PKCS #8, OpenSSH).
pub fn private_key(text: &str) -> Result<(), String> {
    let blocks = pem_blocks(text)?;
    if !blocks.iter().any(|(label, _)| label.ends_with("PRIVATE KEY")) {
        return Err(
            "must hold a PEM private key (`-----BEGIN PRIVATE KEY-----`), and holds none".into()
        );
    }
    Ok(())
}

/// The blocks of a PEM text as `(label, decoded bytes)`. Text outside blocks is allowed (RFC
/// 7468 §2); inside, RFC 1421 headers (`Proc-Type: ...`, legacy encrypted keys) are skipped and
/// the rest must be standard base64.
fn pem_blocks(text: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, String)> = None;
    for raw in text.lines() {
        let l = raw.trim();
        if let Some(label) = l.strip_prefix("-----BEGIN ").and_then(|r| r.strip_suffix("-----")) {
            if open.is_some() {
                return Err(format!("block {} has no END line", blocks.len() + 1));
            }
            open = Some((label.to_string(), String::new()));
        } else if let Some(label) =
            l.strip_prefix("-----END ").and_then(|r| r.strip_suffix("-----"))
        {
            let Some((begin, body)) = open.take() else {
                return Err(format!(
                    "an END line has no BEGIN line (after block {})",
                    blocks.len()
                ));
            };
            let n = blocks.len() + 1;
            if begin != label {
                return Err(format!("block {n} begins as `{begin}` and ends as `{label}`"));
            }
            let der = crate::rules::decode_secret_value(&body)
                .map_err(|_| format!("block {n} (`{begin}`) is not valid base64"))?;
            if der.is_empty() {
                return Err(format!("block {n} (`{begin}`) is empty"));
            }
            blocks.push((begin, der));
        } else if let Some((_, body)) = &mut open
            && !(body.is_empty() && (l.contains(':') || l.is_empty()))
        {
            body.push_str(l);
        }
    }
    if open.is_some() {
        return Err(format!("block {} has no END line", blocks.len() + 1));
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    // A real (tiny, self-signed, throw-away) certificate body would be long; a DER SEQUENCE
    // header is what the check looks at.
    const CERT: &str =
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUYQ==\n-----END CERTIFICATE-----\n";

    #[test]
    fn binding_names_follow_the_spec_regex() {
        assert!(binding_name("warehouse").is_ok());
        assert!(binding_name("db.prod-1").is_ok());
        assert!(binding_name(&"a".repeat(253)).is_ok());
        assert!(binding_name("").is_err());
        assert!(binding_name(&"a".repeat(254)).is_err());
        assert!(binding_name("Sales_DB").is_err());
        assert!(binding_name("a/b").is_err());
    }

    #[test]
    fn volume_names_are_labels_and_distinct() {
        assert_eq!(volume_name("warehouse"), "binding-warehouse");
        let dotted = volume_name("a.b");
        assert!(crate::rules::dns1123_label(&dotted).is_ok(), "{dotted}");
        assert_ne!(dotted, volume_name("a-b"));
        let long = volume_name(&"x".repeat(200));
        assert!(crate::rules::dns1123_label(&long).is_ok(), "{long}");
        assert!(crate::rules::dns1123_label(&volume_name("Upper.Case_")).is_ok());
    }

    #[test]
    fn ports() {
        assert!(port("5432").is_ok());
        assert!(port("1").is_ok());
        assert!(port("65535").is_ok());
        assert!(port("5432\n").is_ok());
        for bad in ["0", "65536", "99999", "-1", "+80", " 80", "80 ", "5432a", "", "4294967297"] {
            assert!(port(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hosts() {
        for good in
            ["pg.data.svc", "localhost", "10.0.0.1", "::1", "[fe80::1]", "db-1.example.com."]
        {
            assert!(host(good).is_ok(), "{good}");
        }
        for bad in ["", "pg.data.svc:5432", "http://pg", "two words", "-lead.example", "a..b"] {
            assert!(host(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn uris() {
        for good in [
            "postgresql://app@pg.data.svc:5432/sales",
            "postgresql://app:p%40ss@pg.data.svc:5432/sales?sslmode=require",
            "redis://[::1]:6379/0",
            "mailto:ops@example.com",
        ] {
            assert!(uri(good).is_ok(), "{good}");
        }
        for bad in [
            "pg.data.svc/sales",
            "postgresql://pg.data.svc:99999/sales",
            "postgresql://pg data/sales",
            "postgresql://pg/sa%zzles",
            "http://[::1/",
            "",
        ] {
            assert!(uri(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn certificate_chains() {
        assert!(certificates(CERT).is_ok());
        assert!(certificates(&format!("{CERT}{CERT}")).is_ok());
        assert!(certificates(&format!("subject=CN=x\n{CERT}")).is_ok());
        let bad_base64 = "-----BEGIN CERTIFICATE-----\nnot*base64\n-----END CERTIFICATE-----\n";
        assert!(certificates(bad_base64).is_err());
        assert!(certificates("hello").is_err());
        assert!(certificates("-----BEGIN CERTIFICATE-----\nMIIB\n").is_err());
        let key = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n";
        assert!(certificates(key).is_err());
        let mismatched = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END PRIVATE KEY-----\n";
        assert!(certificates(mismatched).is_err());
        let not_der = "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n";
        assert!(certificates(not_der).is_err());
    }

    #[test]
    fn private_keys() {
        assert!(
            private_key("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----").is_ok()
        );
        let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nMIIB\n-----END RSA PRIVATE KEY-----\n";
        assert!(private_key(legacy).is_ok());
        assert!(private_key(CERT).is_err());
        assert!(private_key("secret").is_err());
        assert!(
            private_key("-----BEGIN PRIVATE KEY-----\n%%%\n-----END PRIVATE KEY-----").is_err()
        );
    }

    #[test]
    fn reasons_never_quote_the_value() {
        let value = "p@ss w0rd-canary";
        for entry in CONSTRAINED_ENTRIES {
            if let Some(Err(reason)) = check_entry(entry, value.as_bytes()) {
                assert!(!reason.contains("canary"), "{entry}: {reason}");
            }
        }
        assert_eq!(check_entry("password", value.as_bytes()), None);
        assert!(check_entry("port", &[0xff, 0xfe]).unwrap().is_err());
    }
}

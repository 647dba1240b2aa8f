//! Kubernetes name, label, key and size rules (apimachinery's validation), as plain functions.
//!
//! Each returns `Ok(())` or a reason in our words. The regexes they implement are quoted in the
//! doc comments (RE2 syntax, matched against the whole string).

/// Maximum length of a DNS-1123 label (namespace names, volume names).
pub const DNS1123_LABEL_MAX: usize = 63;
/// Maximum length of a DNS-1123 subdomain (most object names).
pub const DNS1123_SUBDOMAIN_MAX: usize = 253;
/// Maximum size of a Secret's decoded data, and of a ConfigMap's data.
pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;
/// Maximum total size of all annotation keys and values.
pub const MAX_ANNOTATIONS_BYTES: usize = 256 * 1024;

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
pub fn dns1123_label(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > DNS1123_LABEL_MAX {
        return Err(format!("must be at most {DNS1123_LABEL_MAX} characters (it has {})", s.len()));
    }
    let b = s.as_bytes();
    if !b.iter().all(|&c| is_lower_alnum(c) || c == b'-') {
        return Err(
            "must be a DNS-1123 label: lower-case letters, digits and '-' only (no '.', '_' or upper case)"
                .into(),
        );
    }
    if !is_lower_alnum(b[0]) || !is_lower_alnum(b[b.len() - 1]) {
        return Err("must start and end with a lower-case letter or digit".into());
    }
    Ok(())
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*`, at most 253 characters.
pub fn dns1123_subdomain(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > DNS1123_SUBDOMAIN_MAX {
        return Err(format!(
            "must be at most {DNS1123_SUBDOMAIN_MAX} characters (it has {})",
            s.len()
        ));
    }
    for part in s.split('.') {
        let b = part.as_bytes();
        let ok = !b.is_empty()
            && b.iter().all(|&c| is_lower_alnum(c) || c == b'-')
            && is_lower_alnum(b[0])
            && is_lower_alnum(b[b.len() - 1]);
        if !ok {
            return Err("must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', each dot-separated part starting and ending with a letter or digit".into());
        }
    }
    Ok(())
}

/// `[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63 characters (Service names).
pub fn dns1035_label(s: &str) -> Result<(), String> {
    dns1123_label(s)?;
    if !s.as_bytes()[0].is_ascii_lowercase() {
        return Err("must start with a lower-case letter (DNS-1035 label)".into());
    }
    Ok(())
}

/// A `kind`: what the API server accepts for a custom resource's kind (lower-cased, a
/// DNS-1035 label; every built-in kind is one too), so letters, digits and '-', starting with
/// a letter, at most 63 characters.
pub fn kind(s: &str) -> Result<(), String> {
    let lowered = s.to_ascii_lowercase();
    let ok = !s.is_empty()
        && s.len() <= DNS1123_LABEL_MAX
        && lowered.bytes().all(|c| is_lower_alnum(c) || c == b'-')
        && lowered.as_bytes()[0].is_ascii_lowercase()
        && !lowered.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err("must be letters, digits and '-', starting with a letter and at most 63 characters (a DNS-1035 label, in any case)".into())
    }
}

/// An `apiVersion`: `VERSION` or `GROUP/VERSION`, the group a DNS-1123 subdomain and the
/// version a DNS-1035 label (the API server's rules for API groups and versions).
pub fn api_version(s: &str) -> Result<(), String> {
    let (group, version) = match s.split_once('/') {
        Some((group, version)) => (Some(group), version),
        None => (None, s),
    };
    if let Some(group) = group {
        dns1123_subdomain(group).map_err(|reason| format!("has a group that {reason}"))?;
    }
    dns1035_label(version).map_err(|reason| format!("has a version that {reason}"))
}

/// Names of RBAC objects: anything but `.`, `..`, and names containing `/` or `%`.
pub fn path_segment_name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s == "." || s == ".." {
        return Err(format!("may not be '{s}'"));
    }
    if s.contains('/') || s.contains('%') {
        return Err("may not contain '/' or '%'".into());
    }
    Ok(())
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, 1 to 63 characters: a label name or value.
fn qualified_part(s: &str, what: &str) -> Result<(), String> {
    if s.len() > 63 {
        return Err(format!("{what} must be at most 63 characters (it has {})", s.len()));
    }
    let b = s.as_bytes();
    let ok = !b.is_empty()
        && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric();
    if !ok {
        return Err(format!(
            "{what} must be letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
        ));
    }
    Ok(())
}

/// A label (or annotation) key: an optional DNS-1123 subdomain prefix and `/`, then a name.
pub fn label_key(s: &str) -> Result<(), String> {
    let mut parts = s.split('/');
    let (prefix, name) = match (parts.next(), parts.next(), parts.next()) {
        (Some(name), None, _) => (None, name),
        (Some(prefix), Some(name), None) => (Some(prefix), name),
        _ => return Err("may contain at most one '/'".into()),
    };
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            return Err("prefix before '/' must not be empty".into());
        }
        dns1123_subdomain(prefix).map_err(|e| format!("prefix {e}"))?;
    }
    if name.is_empty() {
        return Err("name part must not be empty".into());
    }
    qualified_part(name, "name part")
}

/// A label value: empty, or `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]` up to 63 characters.
pub fn label_value(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Ok(());
    }
    qualified_part(s, "value")
}

/// An annotation key: the label key rule, checked after lower-casing.
pub fn annotation_key(s: &str) -> Result<(), String> {
    label_key(&s.to_ascii_lowercase())
}

/// A Secret or ConfigMap data key: `[-._a-zA-Z0-9]+`, at most 253, not `.`/`..`/`..*`.
pub fn data_key(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > DNS1123_SUBDOMAIN_MAX {
        return Err(format!("must be at most 253 characters (it has {})", s.len()));
    }
    if !s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.') {
        return Err("may contain only letters, digits, '-', '_' and '.'".into());
    }
    if s == "." || s == ".." || s.starts_with("..") {
        return Err("may not be '.' or '..' or start with '..'".into());
    }
    Ok(())
}

/// An environment variable name as the API server accepts it (`IsRelaxedEnvVarName`, the
/// default since Kubernetes 1.32): non-empty, printable ASCII, no `=`.
pub fn env_var_name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.contains('=') {
        return Err("may not contain '='".into());
    }
    if !s.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return Err("may contain only printable ASCII characters".into());
    }
    Ok(())
}

/// Go's `base64.StdEncoding` as the API server decodes Secret data: standard alphabet, padded;
/// CR and LF inside are ignored.
pub fn decode_secret_value(s: &str) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    let cleaned: String;
    let input = if s.contains(['\n', '\r']) {
        cleaned = s.chars().filter(|&c| c != '\n' && c != '\r').collect();
        cleaned.as_str()
    } else {
        s
    };
    // Go's decoder accepts non-zero trailing bits (`aGl=`); so does the API server.
    const GO_STD: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    GO_STD.decode(input).map_err(|_| "is not standard padded base64".to_string())
}

/// Kubernetes kinds that are cluster-scoped (not in a namespace), by `(group, kind)`.
pub fn is_cluster_scoped(group: &str, kind: &str) -> bool {
    matches!(
        (group, kind),
        ("", "Namespace")
            | ("", "Node")
            | ("", "PersistentVolume")
            | ("rbac.authorization.k8s.io", "ClusterRole")
            | ("rbac.authorization.k8s.io", "ClusterRoleBinding")
            | ("apiextensions.k8s.io", "CustomResourceDefinition")
            | ("storage.k8s.io", "StorageClass")
            | ("storage.k8s.io", "CSIDriver")
            | ("storage.k8s.io", "CSINode")
            | ("storage.k8s.io", "VolumeAttachment")
            | ("scheduling.k8s.io", "PriorityClass")
            | ("networking.k8s.io", "IngressClass")
            | ("node.k8s.io", "RuntimeClass")
            | ("admissionregistration.k8s.io", _)
            | ("apiregistration.k8s.io", "APIService")
            | ("certificates.k8s.io", "CertificateSigningRequest")
            | ("flowcontrol.apiserver.k8s.io", _)
            | ("cert-manager.io", "ClusterIssuer")
            | ("external-secrets.io", "ClusterSecretStore")
            | ("external-secrets.io", "ClusterExternalSecret")
            | ("management.loft.sh", "ClusterConnect")
            | ("management.loft.sh", "Cluster")
            | ("management.loft.sh", "ClusterAccess")
            | ("storage.loft.sh", "Cluster")
            | ("storage.loft.sh", "ClusterAccess")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_api_versions_follow_the_api_server() {
        for ok in ["ConfigMap", "KubeDirectorCluster", "THING", "my-kind", "V1Thing"] {
            assert!(kind(ok).is_ok(), "{ok}");
        }
        for bad in ["", "../x", "a/b", "Con\u{444}igMap", "1st", "x-", "Thing.v1", &"K".repeat(64)]
        {
            assert!(kind(bad).is_err(), "{bad}");
        }
        for ok in ["v1", "apps/v1", "kustomize.config.k8s.io/v1beta1", "x.example/v2alpha3"] {
            assert!(api_version(ok).is_ok(), "{ok}");
        }
        for bad in ["", "../../v1", "a/b/v1", "Apps/v1", "apps/", "/v1", "apps/V1", "\u{430}pps/v1"]
        {
            assert!(api_version(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_follow_apimachinery() {
        assert!(dns1123_subdomain("my-secret").is_ok());
        assert!(dns1123_subdomain("a.b-c").is_ok());
        for bad in ["My-Secret", "-x", "x-", "a..b", "a_b", "", "x/y"] {
            assert!(dns1123_subdomain(bad).is_err(), "{bad}");
        }
        assert!(dns1123_subdomain(&"a".repeat(253)).is_ok());
        assert!(dns1123_subdomain(&"a".repeat(254)).is_err());
        assert!(dns1123_label("a.b").is_err());
        assert!(dns1123_label(&"a".repeat(63)).is_ok());
        assert!(dns1123_label(&"a".repeat(64)).is_err());
        assert!(dns1035_label("1abc").is_err());
        assert!(dns1035_label("abc1").is_ok());
    }

    #[test]
    fn labels_follow_apimachinery() {
        assert!(label_key("app.kubernetes.io/name").is_ok());
        assert!(label_key("team").is_ok());
        for bad in ["a/b/c", "/x", "Bad_Prefix/x", "x/", "-x", "has space"] {
            assert!(label_key(bad).is_err(), "{bad}");
        }
        assert!(label_value("").is_ok());
        assert!(label_value("v1.2_3-x").is_ok());
        assert!(label_value("data platform").is_err());
        assert!(label_value(&"a".repeat(64)).is_err());
        assert!(annotation_key("Example.COM/Thing").is_ok());
        assert!(label_key("Example.COM/Thing").is_err());
    }

    #[test]
    fn data_keys_follow_apimachinery() {
        for good in [".dockerconfigjson", "tls.crt", "a-b_c"] {
            assert!(data_key(good).is_ok(), "{good}");
        }
        for bad in ["..data", "a/b", ".", "..", "", "sp ace"] {
            assert!(data_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secret_values_decode_like_go_std_encoding() {
        assert_eq!(decode_secret_value("aGk=").unwrap(), b"hi");
        assert_eq!(decode_secret_value("aG\nk=").unwrap(), b"hi");
        assert!(decode_secret_value("aGk").is_err());
        assert_eq!(
            decode_secret_value("aGl=").unwrap(),
            b"hi",
            "trailing bits are ignored, as in Go"
        );
        assert!(decode_secret_value("a-_=").is_err());
        assert!(decode_secret_value("hunter2").is_err());
    }
}

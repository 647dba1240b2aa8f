//! Offline sealing for `--secrets sealed`, with the scheme of Bitnami's sealed-secrets
//! controller (pkg/crypto): each value gets a fresh 32-byte AES-256-GCM key and an all-zero
//! nonce (safe because the key is used once); the key is wrapped with RSA-OAEP (SHA-256)
//! under the controller's public key with the scope label; the ciphertext is the 2-byte
//! big-endian length of the RSA block, the block, then the GCM output, in standard base64.
//!
//! Only the public key is ever needed: nothing here can decrypt, and no cluster is contacted.

use base64::Engine as _;
use connections_core::render::sealed::Sealer;
use rand_core::{OsRng, RngCore as _};
use rsa::traits::PublicKeyParts as _;
use rsa::{Oaep, RsaPublicKey};

/// The smallest RSA key accepted (the controller makes 4096-bit keys).
const MIN_KEY_BITS: usize = 2048;
/// The largest: keeps the RSA block's length within the 2-byte prefix, and sealing fast.
const MAX_KEY_BITS: usize = 16384;

/// Seals values with a controller's public key.
#[derive(Debug)]
pub struct CertSealer {
    key: RsaPublicKey,
}

impl CertSealer {
    /// Reads the public key from PEM text: a `CERTIFICATE` (what `kubeseal --fetch-cert`
    /// prints), a `PUBLIC KEY` or an `RSA PUBLIC KEY`.
    pub fn from_pem(text: &str) -> Result<CertSealer, String> {
        use x509_cert::der::{DecodePem as _, Encode as _};
        let key = if let Some(block) = pem_block(text, "CERTIFICATE") {
            let certificate = x509_cert::Certificate::from_pem(block)
                .map_err(|e| format!("not a readable X.509 certificate ({e})"))?;
            let spki = certificate
                .tbs_certificate
                .subject_public_key_info
                .to_der()
                .map_err(|e| format!("the certificate's public key cannot be read ({e})"))?;
            key_from_spki(&spki)
                .map_err(|e| format!("the certificate does not hold a usable RSA key ({e})"))?
        } else if let Some(block) = pem_block(text, "PUBLIC KEY") {
            key_from_spki(&pem_body(block)?)
                .map_err(|e| format!("not a usable RSA public key ({e})"))?
        } else if let Some(block) = pem_block(text, "RSA PUBLIC KEY") {
            key_from_pkcs1(&pem_body(block)?)
                .map_err(|e| format!("not a usable RSA public key ({e})"))?
        } else {
            return Err("no PEM certificate or public key in it (`kubeseal --fetch-cert` prints the controller's certificate)".into());
        };
        let bits = key.size() * 8;
        if bits < MIN_KEY_BITS {
            return Err(format!(
                "its RSA key has {bits} bits; at least {MIN_KEY_BITS} are needed (the controller makes 4096-bit keys)"
            ));
        }
        Ok(CertSealer { key })
    }
}

/// The DER bytes of a PEM block (between its markers).
fn pem_body(block: &str) -> Result<Vec<u8>, String> {
    let body: String = block
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .flat_map(|line| line.chars().filter(|c| !c.is_whitespace()))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| format!("the PEM block is not base64: {e}"))
}

/// An RSA key from a SubjectPublicKeyInfo. The `rsa` crate's own decoders stop at 4096 bits,
/// but a controller may be started with a larger `--key-size`: the key is built from its
/// modulus and exponent with the bound of this tool.
fn key_from_spki(der: &[u8]) -> Result<RsaPublicKey, String> {
    use rsa::pkcs8::der::Decode as _;
    const RSA_ENCRYPTION: rsa::pkcs8::ObjectIdentifier =
        rsa::pkcs8::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
    let spki = rsa::pkcs8::SubjectPublicKeyInfoRef::from_der(der).map_err(|e| e.to_string())?;
    if spki.algorithm.oid != RSA_ENCRYPTION {
        return Err(format!("the key's algorithm is {}, not RSA", spki.algorithm.oid));
    }
    let key =
        spki.subject_public_key.as_bytes().ok_or("the key's bit string is not whole bytes")?;
    key_from_pkcs1(key)
}

/// An RSA key from a PKCS#1 RSAPublicKey (modulus and public exponent).
fn key_from_pkcs1(der: &[u8]) -> Result<RsaPublicKey, String> {
    use rsa::pkcs1::der::Decode as _;
    let key = rsa::pkcs1::RsaPublicKey::from_der(der).map_err(|e| e.to_string())?;
    let n = rsa::BigUint::from_bytes_be(key.modulus.as_bytes());
    let e = rsa::BigUint::from_bytes_be(key.public_exponent.as_bytes());
    let bits = n.bits();
    if bits > MAX_KEY_BITS {
        return Err(format!(
            "its RSA key has {bits} bits; at most {MAX_KEY_BITS} are accepted (the controller makes 4096-bit keys)"
        ));
    }
    RsaPublicKey::new_with_max_size(n, e, MAX_KEY_BITS).map_err(|e| e.to_string())
}

/// The first PEM block with this label, markers included.
fn pem_block<'t>(text: &'t str, label: &str) -> Option<&'t str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)?;
    let stop = text[start..].find(&end)? + start + end.len();
    Some(&text[start..stop])
}

impl Sealer for CertSealer {
    fn seal(&self, label: &[u8], value: &[u8]) -> String {
        use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
        let mut session = [0u8; 32];
        OsRng.fill_bytes(&mut session);
        // Labels are built from a namespace and a name, which are UTF-8.
        let label = String::from_utf8_lossy(label).into_owned();
        let wrapped = self
            .key
            .encrypt(&mut OsRng, Oaep::new_with_label::<sha2::Sha256, _>(label), &session)
            .expect("a 32-byte key fits the OAEP block of any RSA key of 2048 bits or more");
        let aead = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &session).expect("32 bytes is an AES-256 key"),
        );
        let mut sealed = value.to_vec();
        aead.seal_in_place_append_tag(
            Nonce::assume_unique_for_key([0; 12]),
            Aad::empty(),
            &mut sealed,
        )
        .expect("values of a Secret are far below the GCM size limit");
        let length = u16::try_from(wrapped.len()).expect("keys have at most 16384 bits");
        let mut out = Vec::with_capacity(2 + wrapped.len() + sealed.len());
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(&wrapped);
        out.extend_from_slice(&sealed);
        base64::engine::general_purpose::STANDARD.encode(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_public_key() {
        let err = CertSealer::from_pem("hello").unwrap_err();
        assert!(err.contains("no PEM certificate"), "{err}");
        let err =
            CertSealer::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .unwrap_err();
        assert!(err.contains("not a readable X.509 certificate"), "{err}");
        // A 1024-bit key is too weak to be a controller's.
        let small = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC72dYxc0muMeJPfiKI5abeJxpY
6IGkdYBdDOiLY/wPD9y44Y0pudkM34uSTSjjDX1VyYmEXCSYy/44H0zN8In8a/k+
SusDHrmgccbkri1bXjcq1qiJr1WBOG5bd1uzVViT9x941ATiJtxuE/g7MabiFr89
0YCCVlIZAwtheaqlIQIDAQAB
-----END PUBLIC KEY-----
";
        let err = CertSealer::from_pem(small).unwrap_err();
        assert!(err.contains("1024 bits; at least 2048"), "{err}");
    }

    #[test]
    fn keys_larger_than_4096_bits_seal_too() {
        let pem = include_str!("../tests/data/sealed/public-key-8192.pem");
        let sealer = CertSealer::from_pem(pem).unwrap();
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(sealer.seal(b"ns/name", b"value"))
            .unwrap();
        // The 2-byte prefix holds the length of the RSA block: 8192 bits.
        assert_eq!(u16::from_be_bytes([sealed[0], sealed[1]]), 1024);
        assert_eq!(sealed.len(), 2 + 1024 + 5 + 16);
    }
}

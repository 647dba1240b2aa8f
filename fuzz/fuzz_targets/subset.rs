//! Fuzz target: the fast reader for plain block YAML (`yaml_subset`) against saphyr. Bytes
//! are read as one file's text; whenever the fast reader takes the text, its events and byte
//! spans must be saphyr's exactly (it may decline any text, never differ or take a text
//! saphyr rejects). The unit tests and proptest hold it to saphyr on generated texts; this
//! target explores from real manifests (the loader's seeds) by mutation.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let text = String::from_utf8_lossy(bytes);
    if let Err(difference) = connections_core::yaml_subset::check_against_saphyr(&text) {
        panic!("the subset reader differs from saphyr on {difference}");
    }
});

//! Any bytes as a tx: decoding never panics, and a tx it accepts is the one canonical
//! spelling of its envelope (re-encoding the parts gives the same bytes, so the same hash).
#![no_main]

use libfuzzer_sys::fuzz_target;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let Ok(tx) = stoa_app::tx::decode_tx(data, stoa_fuzz::router()) else {
        return;
    };
    let again = cosmos_sdk_proto::cosmos::tx::v1beta1::TxRaw {
        body_bytes: tx.body_bytes.clone(),
        auth_info_bytes: tx.auth_info_bytes.clone(),
        signatures: tx.signers.iter().map(|s| s.signature.clone()).collect(),
    }
    .encode_to_vec();
    assert_eq!(again, data, "an accepted tx has another spelling");
    assert!(!tx.signers.is_empty() && !tx.msgs.is_empty());
});

//! Transactions and signatures as JSON files, in the Cosmos SDK's format
//! (`{"body":{"messages":[{"@type":...}],...},"auth_info":{...},"signatures":[]}`): proto3 JSON
//! with the proto field names, defaults written out and every `Any` resolved by its type URL
//! through Stoa's descriptor pool, so the files `--generate-only`, `tx sign` and `tx
//! multi-sign` write are the ones `gaiad`/`simd` write and read.

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::{
    signature_descriptor::{data, Data},
    SignMode, SignatureDescriptor, SignatureDescriptors,
};
use cosmos_sdk_proto::cosmos::tx::v1beta1::{Tx, TxRaw};
use cosmos_sdk_proto::Any;
use prost::Message;
use prost_reflect::prost_types::{
    field_descriptor_proto::{Label, Type},
    DescriptorProto, FieldDescriptorProto, FileDescriptorProto,
};
use prost_reflect::{
    DescriptorPool, DynamicMessage, MessageDescriptor, ReflectMessage, SerializeOptions, Value,
};
use serde_json::json;
use std::path::Path;
use std::sync::LazyLock;

/// Stoa's pool, plus `cosmos.crypto.multisig.LegacyAminoPubKey` (the public key of a multisig
/// account, which only clients meet) when the pool does not have it yet.
static POOL: LazyLock<std::result::Result<DescriptorPool, String>> = LazyLock::new(|| {
    let mut pool = stoa_proto::descriptor_pool();
    if pool
        .get_message_by_name("cosmos.crypto.multisig.LegacyAminoPubKey")
        .is_none()
    {
        pool.add_file_descriptor_proto(multisig_keys_file())
            .map_err(|e| e.to_string())?;
    }
    Ok(pool)
});

/// `cosmos/crypto/multisig/keys.proto` as the Cosmos SDK declares it (without its gogoproto
/// and amino options, which do not change the wire format or the JSON).
fn multisig_keys_file() -> FileDescriptorProto {
    let field = |name: &str, number: i32, label: Label, ty: Type, type_name: Option<&str>| {
        FieldDescriptorProto {
            name: Some(name.into()),
            number: Some(number),
            label: Some(label as i32),
            r#type: Some(ty as i32),
            type_name: type_name.map(str::to_string),
            json_name: Some(name.into()),
            ..Default::default()
        }
    };
    FileDescriptorProto {
        name: Some("cosmos/crypto/multisig/keys.proto".into()),
        package: Some("cosmos.crypto.multisig".into()),
        dependency: vec!["google/protobuf/any.proto".into()],
        message_type: vec![DescriptorProto {
            name: Some("LegacyAminoPubKey".into()),
            field: vec![
                field("threshold", 1, Label::Optional, Type::Uint32, None),
                field(
                    "public_keys",
                    2,
                    Label::Repeated,
                    Type::Message,
                    Some(".google.protobuf.Any"),
                ),
            ],
            ..Default::default()
        }],
        syntax: Some("proto3".into()),
        ..Default::default()
    }
}

fn pool() -> Result<&'static DescriptorPool> {
    POOL.as_ref()
        .map_err(|e| anyhow!("building the descriptor pool: {e}"))
}

fn descriptor(name: &str) -> Result<MessageDescriptor> {
    pool()?
        .get_message_by_name(name)
        .ok_or_else(|| anyhow!("{name} is not in Stoa's descriptor pool"))
}

/// prost-reflect writes an `Any` as JSON only when its type URL has Google's host; Cosmos'
/// URLs have none (`/cosmos.bank.v1beta1.MsgSend`).
const GOOGLE_PREFIX: &str = "type.googleapis.com";

/// Gives every `Any` in `msg` (nested ones too) Google's host, so prost-reflect writes it.
fn prefix_any_urls(msg: &mut DynamicMessage, depth: usize) -> Result<()> {
    if depth > 32 {
        bail!("Any values nested too deep");
    }
    if msg.descriptor().full_name() == "google.protobuf.Any" {
        let url = msg
            .get_field_by_name("type_url")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let value = msg
            .get_field_by_name("value")
            .and_then(|v| v.as_bytes().cloned())
            .unwrap_or_default();
        let name = url.rsplit('/').next().unwrap_or_default();
        let desc = descriptor(name).with_context(|| format!("unknown type URL {url:?}"))?;
        let mut inner = DynamicMessage::decode(desc, value.as_ref())
            .with_context(|| format!("decoding the {name} inside an Any"))?;
        prefix_any_urls(&mut inner, depth + 1)?;
        msg.set_field_by_name("type_url", Value::String(format!("{GOOGLE_PREFIX}/{name}")));
        msg.set_field_by_name("value", Value::Bytes(inner.encode_to_vec().into()));
        return Ok(());
    }
    let fields: Vec<_> = msg.descriptor().fields().collect();
    for field in fields {
        if !msg.has_field(&field) {
            continue;
        }
        match msg.get_field_mut(&field) {
            Value::Message(m) => prefix_any_urls(m, depth + 1)?,
            Value::List(list) => {
                for v in list.iter_mut() {
                    if let Value::Message(m) = v {
                        prefix_any_urls(m, depth + 1)?;
                    }
                }
            }
            Value::Map(map) => {
                for v in map.values_mut() {
                    if let Value::Message(m) = v {
                        prefix_any_urls(m, depth + 1)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Takes Google's host off every `"@type"` again: the SDK's JSON has `"/cosmos..."`.
fn strip_any_urls(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            if let Some(serde_json::Value::String(t)) = m.get_mut("@type") {
                if let Some(rest) = t.strip_prefix(GOOGLE_PREFIX) {
                    *t = rest.to_string();
                }
            }
            m.values_mut().for_each(strip_any_urls);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip_any_urls),
        _ => {}
    }
}

/// Any proto message (given by its full name and bytes) as the SDK's JSON.
pub fn bytes_to_json(full_name: &str, bytes: &[u8]) -> Result<serde_json::Value> {
    let mut msg = DynamicMessage::decode(descriptor(full_name)?, bytes)
        .with_context(|| format!("decoding a {full_name}"))?;
    prefix_any_urls(&mut msg, 0)?;
    let options = SerializeOptions::new()
        .use_proto_field_name(true)
        .skip_default_fields(false);
    let mut v = msg
        .serialize_with_options(serde_json::value::Serializer, &options)
        .map_err(|e| anyhow!("writing a {full_name} as JSON: {e}"))?;
    strip_any_urls(&mut v);
    Ok(v)
}

/// The bytes of the `full_name` message that `json` describes (unknown fields refused).
pub fn json_to_bytes(full_name: &str, json: &str) -> Result<Vec<u8>> {
    let mut de = serde_json::Deserializer::from_str(json);
    let msg = DynamicMessage::deserialize(descriptor(full_name)?, &mut de)
        .map_err(|e| anyhow!("not a valid {full_name}: {e}"))?;
    de.end()
        .map_err(|e| anyhow!("trailing data after the {full_name}: {e}"))?;
    Ok(msg.encode_to_vec())
}

/// A tx as JSON.
pub fn tx_to_json(tx: &Tx) -> Result<serde_json::Value> {
    bytes_to_json("cosmos.tx.v1beta1.Tx", &tx.encode_to_vec())
}

/// A tx from JSON.
pub fn tx_from_json(json: &str) -> Result<Tx> {
    let bytes = json_to_bytes("cosmos.tx.v1beta1.Tx", json)?;
    Tx::decode(bytes.as_slice()).context("decoding the tx")
}

/// Reads a tx JSON file (`-` is stdin).
pub fn read_tx_file(path: &Path) -> Result<Tx> {
    let text = read_text(path)?;
    tx_from_json(&text).with_context(|| format!("in {}", path.display()))
}

/// The text of a file, or of stdin for `-`.
pub fn read_text(path: &Path) -> Result<String> {
    if path == Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).context("reading stdin")?;
        return Ok(s);
    }
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// The bytes that go on the wire: TxRaw of the body and auth info as encoded here (which is
/// what a signer signed: prost's encoding is the canonical one).
pub fn tx_raw_bytes(tx: &Tx) -> Vec<u8> {
    TxRaw {
        body_bytes: tx
            .body
            .as_ref()
            .map(Message::encode_to_vec)
            .unwrap_or_default(),
        auth_info_bytes: tx
            .auth_info
            .as_ref()
            .map(Message::encode_to_vec)
            .unwrap_or_default(),
        signatures: tx.signatures.clone(),
    }
    .encode_to_vec()
}

/// A tx from the bytes a node holds (a TxRaw, which decodes as a Tx).
pub fn tx_from_bytes(bytes: &[u8]) -> Result<Tx> {
    Tx::decode(bytes).context("not a protobuf cosmos.tx.v1beta1.Tx")
}

/// Signatures as `tx sign --signature-only` (and `--multisig`) writes them: the SDK's
/// `SignatureDescriptors` JSON (single signatures only: what one signer makes).
pub fn signatures_to_json(s: &SignatureDescriptors) -> Result<serde_json::Value> {
    let mut list = Vec::new();
    for d in &s.signatures {
        let public_key = match &d.public_key {
            Some(pk) => bytes_to_json("google.protobuf.Any", &pk.encode_to_vec())?,
            None => serde_json::Value::Null,
        };
        let single = match d.data.as_ref().and_then(|x| x.sum.as_ref()) {
            Some(data::Sum::Single(s)) => s,
            _ => bail!("only single signatures are written as JSON"),
        };
        let mode = SignMode::try_from(single.mode)
            .map(|m| m.as_str_name().to_string())
            .unwrap_or_else(|_| single.mode.to_string());
        list.push(json!({
            "public_key": public_key,
            "data": { "single": {
                "mode": mode,
                "signature": base64::engine::general_purpose::STANDARD.encode(&single.signature),
            } },
            "sequence": d.sequence.to_string(),
        }));
    }
    Ok(json!({ "signatures": list }))
}

pub fn signatures_from_json(text: &str) -> Result<SignatureDescriptors> {
    let v: serde_json::Value = serde_json::from_str(text).context("not JSON")?;
    let list = v
        .get("signatures")
        .and_then(|l| l.as_array())
        .ok_or_else(|| anyhow!("no \"signatures\" list: not a signature file"))?;
    let mut out = SignatureDescriptors::default();
    for d in list {
        let public_key = match d.get("public_key") {
            Some(pk) if !pk.is_null() => Some(
                Any::decode(json_to_bytes("google.protobuf.Any", &pk.to_string())?.as_slice())
                    .context("decoding a public key")?,
            ),
            _ => None,
        };
        let single = d
            .get("data")
            .and_then(|x| x.get("single"))
            .ok_or_else(|| anyhow!("a signature without data.single"))?;
        let mode_name = single.get("mode").and_then(|m| m.as_str()).unwrap_or("");
        let mode = SignMode::from_str_name(mode_name)
            .ok_or_else(|| anyhow!("unknown sign mode {mode_name:?}"))?;
        let signature = base64::engine::general_purpose::STANDARD
            .decode(
                single
                    .get("signature")
                    .and_then(|s| s.as_str())
                    .unwrap_or(""),
            )
            .map_err(|e| anyhow!("the signature is not base64: {e}"))?;
        let sequence = match d.get("sequence") {
            Some(serde_json::Value::String(s)) => s
                .parse()
                .map_err(|_| anyhow!("sequence {s:?} is not a number"))?,
            Some(serde_json::Value::Number(n)) => n
                .as_u64()
                .ok_or_else(|| anyhow!("sequence {n} is not a u64"))?,
            _ => 0,
        };
        out.signatures.push(SignatureDescriptor {
            public_key,
            data: Some(Data {
                sum: Some(data::Sum::Single(data::Single {
                    mode: mode as i32,
                    signature,
                })),
            }),
            sequence,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;
    use cosmos_sdk_proto::cosmos::base::v1beta1::Coin;
    use cosmos_sdk_proto::cosmos::tx::v1beta1::{AuthInfo, Fee, TxBody};
    use cosmos_sdk_proto::Any;

    fn sample() -> Tx {
        let send = MsgSend {
            from_address: "stoa1a".into(),
            to_address: "stoa1b".into(),
            amount: vec![Coin {
                denom: "ustor".into(),
                amount: "5".into(),
            }],
        };
        Tx {
            body: Some(TxBody {
                messages: vec![Any {
                    type_url: "/cosmos.bank.v1beta1.MsgSend".into(),
                    value: send.encode_to_vec(),
                }],
                memo: "m".into(),
                timeout_height: 9,
                ..Default::default()
            }),
            auth_info: Some(AuthInfo {
                signer_infos: vec![],
                fee: Some(Fee {
                    amount: vec![],
                    gas_limit: 200_000,
                    payer: String::new(),
                    granter: String::new(),
                }),
                ..Default::default()
            }),
            signatures: vec![],
        }
    }

    #[test]
    fn unsigned_tx_has_the_sdk_shape_and_round_trips() {
        let tx = sample();
        let v = tx_to_json(&tx).unwrap();
        let msg = &v["body"]["messages"][0];
        assert_eq!(msg["@type"], "/cosmos.bank.v1beta1.MsgSend", "{v}");
        assert_eq!(msg["from_address"], "stoa1a", "{v}");
        assert_eq!(msg["amount"][0]["amount"], "5", "{v}");
        assert_eq!(v["body"]["timeout_height"], "9", "64-bit as strings: {v}");
        assert_eq!(v["body"]["extension_options"], serde_json::json!([]), "{v}");
        assert_eq!(v["auth_info"]["fee"]["gas_limit"], "200000", "{v}");
        assert_eq!(v["auth_info"]["signer_infos"], serde_json::json!([]), "{v}");
        assert_eq!(v["signatures"], serde_json::json!([]), "{v}");
        let back = tx_from_json(&v.to_string()).unwrap();
        assert_eq!(back, tx);
        assert_eq!(tx_raw_bytes(&back), tx_raw_bytes(&tx));
        // A TxRaw decodes as the same Tx.
        assert_eq!(tx_from_bytes(&tx_raw_bytes(&tx)).unwrap(), tx);
    }

    #[test]
    fn multisig_pubkeys_and_signatures_round_trip() {
        use crate::multisig::legacy_amino_pubkey_any;
        let pk = |b: u8| crate::tx::pubkey_any(crate::keyring::Algo::Secp256k1, vec![b; 33]);
        let multi = legacy_amino_pubkey_any(2, vec![pk(2), pk(3)]);
        let sigs = SignatureDescriptors {
            signatures: vec![SignatureDescriptor {
                public_key: Some(multi),
                data: Some(Data {
                    sum: Some(data::Sum::Single(data::Single {
                        mode: SignMode::LegacyAminoJson as i32,
                        signature: vec![7; 64],
                    })),
                }),
                sequence: 3,
            }],
        };
        let v = signatures_to_json(&sigs).unwrap();
        let d = &v["signatures"][0];
        assert_eq!(
            d["public_key"]["@type"], "/cosmos.crypto.multisig.LegacyAminoPubKey",
            "{v}"
        );
        assert_eq!(d["public_key"]["threshold"], 2, "{v}");
        assert_eq!(
            d["data"]["single"]["mode"], "SIGN_MODE_LEGACY_AMINO_JSON",
            "{v}"
        );
        assert_eq!(d["sequence"], "3", "{v}");
        assert_eq!(signatures_from_json(&v.to_string()).unwrap(), sigs);
    }

    #[test]
    fn unknown_fields_and_types_are_refused() {
        let mut v = tx_to_json(&sample()).unwrap();
        v["body"]["surprise"] = serde_json::json!(1);
        assert!(tx_from_json(&v.to_string()).is_err());
        let mut v = tx_to_json(&sample()).unwrap();
        v["body"]["messages"][0]["@type"] = serde_json::json!("/no.such.Msg");
        assert!(tx_from_json(&v.to_string()).is_err());
    }
}

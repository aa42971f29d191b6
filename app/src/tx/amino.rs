//! `SIGN_MODE_LEGACY_AMINO_JSON`: the sign bytes the Cosmos SDK (`StdSignBytes`, x/tx's
//! aminojson handler), cosmjs (`serializeSignDoc`) and a Ledger build, for every message the
//! chain accepts. [`sign_bytes`] is the one public builder: the ante verifies with it and the
//! CLI signs with it.
//!
//! The document is the `StdSignDoc`: `account_number`, `chain_id`, `fee` (`amount`, `gas`,
//! `payer`/`granter` when set), `memo`, `msgs` (each `{"type": <amino name>, "value": ...}`),
//! `sequence`, and `timeout_height` when set; keys sorted at every level, no whitespace, 64-bit
//! integers as decimal strings, and strings escaped as Go's `encoding/json` escapes them
//! (HTML-safe: `<`, `>`, `&`, U+2028 and U+2029 as `\uXXXX`).
//!
//! A message's value is its proto fields by proto name, unset ones left out (a scalar at its
//! default, an empty list), as x/tx's encoder writes them: 32-bit integers and enums as
//! numbers, 64-bit integers as strings, bytes as standard base64, nested messages as objects.
//! In Cosmos SDK packages, a `repeated cosmos.base.v1beta1.Coin` is written even when empty
//! (`[]`, their `legacy_coins` + `dont_omitempty` fields: `MsgSend.amount`, the fee). Maps,
//! floats, `Any`, `Timestamp` and `Duration` fields have no Stoa message yet and are refused
//! (a test encodes every registered message type, so a new one that needs them fails it).

use std::collections::BTreeMap;

use base64::Engine as _;
use cosmos_sdk_proto::cosmos::tx::v1beta1::Fee;
use prost_reflect::{DynamicMessage, Kind, MessageDescriptor, ReflectMessage, Value};
use stoa_framework::{sdk, Any, StoaResult};

use crate::modules::Router;

/// The most characters an amino name may have: a Ledger refuses longer ones.
pub const MAX_AMINO_NAME: usize = 39;

/// Everything the `StdSignDoc` holds besides the messages' encoding.
#[derive(Clone, Debug)]
pub struct AminoSignDoc<'a> {
    pub chain_id: &'a str,
    pub account_number: u64,
    pub sequence: u64,
    /// The tx's fee as its `AuthInfo` carries it (amount, gas limit, payer, granter).
    pub fee: &'a Fee,
    pub memo: &'a str,
    /// 0: left out of the document.
    pub timeout_height: u64,
    /// The tx body's messages, in order.
    pub msgs: &'a [Any],
}

/// The SIGN_MODE_LEGACY_AMINO_JSON sign bytes of a tx for one signer (its account number and
/// sequence): the sorted, compact JSON `StdSignDoc`, byte for byte what the Cosmos SDK and
/// cosmjs sign. `router` knows each message's amino name (the chain's: `Router::standard()`).
/// A message type the router does not know, or whose fields amino JSON cannot express, is an
/// error (`TX_DECODE` / `NOT_SUPPORTED`).
pub fn sign_bytes(router: &Router, doc: &AminoSignDoc<'_>) -> StoaResult<Vec<u8>> {
    let msgs = msgs_json(router, doc.msgs)?;
    let fee = fee_json(doc.fee);
    Ok(assemble(
        doc.chain_id,
        doc.account_number,
        doc.sequence,
        &fee,
        doc.memo,
        doc.timeout_height,
        &msgs,
    ))
}

/// The parts of the document that are the same for every signer of a tx, encoded once when
/// the tx is decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AminoParts {
    /// `{"amount":[...],"gas":"..."}`.
    pub fee: String,
    /// `[{"type":...,"value":...},...]`.
    pub msgs: String,
    pub memo: String,
    pub timeout_height: u64,
}

impl AminoParts {
    pub fn new(
        router: &Router,
        fee: &Fee,
        memo: &str,
        timeout_height: u64,
        msgs: &[Any],
    ) -> StoaResult<Self> {
        Ok(AminoParts {
            fee: fee_json(fee),
            msgs: msgs_json(router, msgs)?,
            memo: memo.to_string(),
            timeout_height,
        })
    }

    /// The sign bytes for one signer.
    pub fn sign_bytes(&self, chain_id: &str, account_number: u64, sequence: u64) -> Vec<u8> {
        assemble(
            chain_id,
            account_number,
            sequence,
            &self.fee,
            &self.memo,
            self.timeout_height,
            &self.msgs,
        )
    }
}

/// The document with its keys in sorted order (they are fixed, so written in that order).
fn assemble(
    chain_id: &str,
    account_number: u64,
    sequence: u64,
    fee: &str,
    memo: &str,
    timeout_height: u64,
    msgs: &str,
) -> Vec<u8> {
    let mut out = String::with_capacity(fee.len() + msgs.len() + memo.len() + 128);
    out.push_str("{\"account_number\":\"");
    out.push_str(&account_number.to_string());
    out.push_str("\",\"chain_id\":");
    write_str(chain_id, &mut out);
    out.push_str(",\"fee\":");
    out.push_str(fee);
    out.push_str(",\"memo\":");
    write_str(memo, &mut out);
    out.push_str(",\"msgs\":");
    out.push_str(msgs);
    out.push_str(",\"sequence\":\"");
    out.push_str(&sequence.to_string());
    out.push('"');
    if timeout_height != 0 {
        out.push_str(",\"timeout_height\":\"");
        out.push_str(&timeout_height.to_string());
        out.push('"');
    }
    out.push('}');
    out.into_bytes()
}

/// The `StdFee`: `amount` always (`[]` when empty), `gas` as a string, `payer` and `granter`
/// only when set.
fn fee_json(fee: &Fee) -> String {
    let mut obj = BTreeMap::new();
    obj.insert(
        "amount".to_string(),
        Json::Arr(
            fee.amount
                .iter()
                .map(|c| {
                    let mut coin = BTreeMap::new();
                    coin.insert("amount".to_string(), Json::Str(c.amount.clone()));
                    coin.insert("denom".to_string(), Json::Str(c.denom.clone()));
                    Json::Obj(coin)
                })
                .collect(),
        ),
    );
    obj.insert("gas".to_string(), Json::Str(fee.gas_limit.to_string()));
    if !fee.payer.is_empty() {
        obj.insert("payer".to_string(), Json::Str(fee.payer.clone()));
    }
    if !fee.granter.is_empty() {
        obj.insert("granter".to_string(), Json::Str(fee.granter.clone()));
    }
    Json::Obj(obj).to_string()
}

/// The `msgs` array.
pub fn msgs_json(router: &Router, msgs: &[Any]) -> StoaResult<String> {
    let items = msgs
        .iter()
        .map(|m| msg_json(router, m))
        .collect::<StoaResult<Vec<_>>>()?;
    Ok(Json::Arr(items).to_string())
}

/// One message as `{"type": <amino name>, "value": <its fields>}`.
pub fn msg_json(router: &Router, msg: &Any) -> StoaResult<Json> {
    let route = router.for_msg(&msg.type_url)?;
    let name = msg.type_url.trim_start_matches('/');
    let desc = stoa_proto::descriptor_pool()
        .get_message_by_name(name)
        .ok_or_else(|| sdk::TX_DECODE.with(format!("no descriptor for {name}")))?;
    let value = DynamicMessage::decode(desc, msg.value.as_slice())
        .map_err(|e| sdk::TX_DECODE.with(format!("{name}: {e}")))?;
    let mut obj = BTreeMap::new();
    obj.insert(
        "type".to_string(),
        Json::Str(route.handler.amino_name().to_string()),
    );
    obj.insert("value".to_string(), message_value(&value)?);
    Ok(Json::Obj(obj))
}

/// Whether a field is one of the Cosmos SDK's `legacy_coins` lists, written even when empty.
fn always_written(desc: &MessageDescriptor, field: &prost_reflect::FieldDescriptor) -> bool {
    desc.package_name().starts_with("cosmos.")
        && field.is_list()
        && matches!(field.kind(), Kind::Message(m) if m.full_name() == "cosmos.base.v1beta1.Coin")
}

fn message_value(msg: &DynamicMessage) -> StoaResult<Json> {
    let desc = msg.descriptor();
    match desc.full_name() {
        "google.protobuf.Any" | "google.protobuf.Timestamp" | "google.protobuf.Duration" => {
            return Err(sdk::NOT_SUPPORTED.with(format!(
                "amino JSON of a {} field is not supported",
                desc.full_name()
            )));
        }
        _ => {}
    }
    let mut obj = BTreeMap::new();
    for field in desc.fields() {
        if field.containing_oneof().is_some() {
            return Err(sdk::NOT_SUPPORTED.with(format!(
                "amino JSON of oneof field {} is not supported",
                field.full_name()
            )));
        }
        if !msg.has_field(&field) && !always_written(&desc, &field) {
            continue;
        }
        let value = msg.get_field(&field);
        obj.insert(field.name().to_string(), value_json(&value)?);
    }
    Ok(Json::Obj(obj))
}

fn value_json(v: &Value) -> StoaResult<Json> {
    Ok(match v {
        Value::Bool(b) => Json::Bool(*b),
        Value::I32(n) => Json::Num(n.to_string()),
        Value::U32(n) => Json::Num(n.to_string()),
        Value::EnumNumber(n) => Json::Num(n.to_string()),
        Value::I64(n) => Json::Str(n.to_string()),
        Value::U64(n) => Json::Str(n.to_string()),
        Value::String(s) => Json::Str(s.clone()),
        Value::Bytes(b) => Json::Str(base64::engine::general_purpose::STANDARD.encode(b)),
        Value::Message(m) => message_value(m)?,
        Value::List(items) => Json::Arr(items.iter().map(value_json).collect::<StoaResult<_>>()?),
        Value::F32(_) | Value::F64(_) | Value::Map(_) => {
            return Err(
                sdk::NOT_SUPPORTED.with("amino JSON of float and map fields is not supported")
            )
        }
    })
}

/// A JSON value whose objects keep their keys sorted (as the Cosmos SDK's `MustSortJSON`
/// leaves them); numbers are kept as their decimal text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Json {
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(BTreeMap<String, Json>),
}

impl Json {
    fn write(&self, out: &mut String) {
        match self {
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Num(n) => out.push_str(n),
            Json::Str(s) => write_str(s, out),
            Json::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Obj(fields) => {
                out.push('{');
                // BTreeMap orders by bytes, as Go sorts a map's string keys.
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(k, out);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }
}

impl std::fmt::Display for Json {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        self.write(&mut s);
        f.write_str(&s)
    }
}

/// A JSON string as Go's `json.Marshal` writes it (HTML-safe, the escapes of Go 1.22+).
pub fn write_str(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => {
                let b = c as u8;
                out.push_str("\\u00");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xf) as usize] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_go_does() {
        let mut s = String::new();
        write_str(
            "a<b>&\"\\\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}é\u{2028}\u{2029}",
            &mut s,
        );
        assert_eq!(
            s,
            "\"a\\u003cb\\u003e\\u0026\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u001f\u{7f}é\\u2028\\u2029\""
        );
    }
}

//! Strict protobuf checks on a tx's raw bytes, run before prost reads them: ADR-027's canonical
//! `TxRaw` (one spelling per signature, so one hash), ADR-020's refusal of unknown fields, and
//! `Coins.Validate` on every repeated `cosmos.base.v1beta1.Coin` field of every message.
//!
//! Each check is one pass over bytes already in memory: no allocation, no decoding into
//! structs, field lookups in tables of a few entries, so the decoder stays about as cheap as
//! prost's own pass over the same bytes (a MsgSend tx is ~300 bytes).

use stoa_framework::coins::parse_amount_bytes;
use stoa_framework::{sdk, validate_denom, StoaError};

/// What a known field holds, as far as the wire is concerned.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// Wire type 0 (integers, bools, enums).
    Varint,
    /// Wire type 2 holding a string or bytes.
    Bytes,
    /// Wire type 2 holding an embedded message, checked against its schema.
    Msg(&'static Schema),
    /// A `repeated cosmos.base.v1beta1.Coin`: each checked, together `Coins.Validate`.
    Coins,
    /// A single `cosmos.base.v1beta1.Coin`: valid denom, canonical amount (zero allowed).
    Coin,
    /// A repeated integer field: wire type 0, or 2 when packed.
    PackedVarint,
    /// Wire type 5 (fixed32, sfixed32, float), or 2 when repeated and packed.
    Fixed32 { repeated: bool },
    /// Wire type 1 (fixed64, sfixed64, double), or 2 when repeated and packed.
    Fixed64 { repeated: bool },
}

/// The fields a message may carry. Any other field number is refused.
#[derive(Debug)]
pub struct Schema {
    pub name: &'static str,
    pub fields: &'static [(u32, Kind)],
}

impl Schema {
    fn field(&self, number: u32) -> Option<Kind> {
        self.fields
            .iter()
            .find(|(n, _)| *n == number)
            .map(|(_, k)| *k)
    }
}

/// ADR-020: an unknown field of the tx body whose number has this bit set is non-critical
/// (the body's extension range, 1024-2047 and every higher number with the bit set) and is
/// ignored; any other unknown field is refused.
pub const NON_CRITICAL_BIT: u32 = 1 << 10;

/// The most `Coins` fields a schema may have (their sort order is tracked on the stack).
const MAX_COINS_FIELDS: usize = 4;

/// Nesting deeper than this is refused (only `ModeInfo.Multi` recurses in the tx types).
const MAX_DEPTH: u32 = 16;

pub static ANY: Schema = Schema {
    name: "google.protobuf.Any",
    fields: &[(1, Kind::Bytes), (2, Kind::Bytes)],
};

pub static TX_BODY: Schema = Schema {
    name: "cosmos.tx.v1beta1.TxBody",
    fields: &[
        (1, Kind::Msg(&ANY)),    // messages (each value checked by its own schema)
        (2, Kind::Bytes),        // memo
        (3, Kind::Varint),       // timeout_height
        (1023, Kind::Msg(&ANY)), // extension_options (refused after decoding)
        (2047, Kind::Msg(&ANY)), // non_critical_extension_options (ignored)
    ],
};

pub static AUTH_INFO: Schema = Schema {
    name: "cosmos.tx.v1beta1.AuthInfo",
    fields: &[
        (1, Kind::Msg(&SIGNER_INFO)),
        (2, Kind::Msg(&FEE)),
        (3, Kind::Msg(&TIP)), // refused after decoding
    ],
};

static SIGNER_INFO: Schema = Schema {
    name: "cosmos.tx.v1beta1.SignerInfo",
    fields: &[
        (1, Kind::Msg(&ANY)), // public_key (its value checked by `pub_key_schema`)
        (2, Kind::Msg(&MODE_INFO)),
        (3, Kind::Varint), // sequence
    ],
};

static MODE_INFO: Schema = Schema {
    name: "cosmos.tx.v1beta1.ModeInfo",
    fields: &[
        (1, Kind::Msg(&MODE_INFO_SINGLE)),
        (2, Kind::Msg(&MODE_INFO_MULTI)),
    ],
};

static MODE_INFO_SINGLE: Schema = Schema {
    name: "cosmos.tx.v1beta1.ModeInfo.Single",
    fields: &[(1, Kind::Varint)],
};

static MODE_INFO_MULTI: Schema = Schema {
    name: "cosmos.tx.v1beta1.ModeInfo.Multi",
    fields: &[
        (1, Kind::Msg(&COMPACT_BIT_ARRAY)),
        (2, Kind::Msg(&MODE_INFO)),
    ],
};

static COMPACT_BIT_ARRAY: Schema = Schema {
    name: "cosmos.crypto.multisig.v1beta1.CompactBitArray",
    fields: &[(1, Kind::Varint), (2, Kind::Bytes)],
};

static FEE: Schema = Schema {
    name: "cosmos.tx.v1beta1.Fee",
    fields: &[
        (1, Kind::Coins),  // amount
        (2, Kind::Varint), // gas_limit
        (3, Kind::Bytes),  // payer
        (4, Kind::Bytes),  // granter
    ],
};

static TIP: Schema = Schema {
    name: "cosmos.tx.v1beta1.Tip",
    fields: &[(1, Kind::Coins), (2, Kind::Bytes)],
};

static COIN: Schema = Schema {
    name: "cosmos.base.v1beta1.Coin",
    fields: &[(1, Kind::Bytes), (2, Kind::Bytes)],
};

static PUB_KEY: Schema = Schema {
    name: "cosmos.crypto.PubKey",
    fields: &[(1, Kind::Bytes)],
};

pub static MSG_SEND: Schema = Schema {
    name: "cosmos.bank.v1beta1.MsgSend",
    fields: &[(1, Kind::Bytes), (2, Kind::Bytes), (3, Kind::Coins)],
};

/// The wire schema of a message type: written out for `MsgSend` (the hot path), derived once
/// from its proto descriptor (`stoa_proto::descriptor_pool`, which holds every proto file Stoa
/// serves) for any other. The router refuses at start-up a message type without one, so every
/// module's messages get the unknown-field and coin rules without a line here.
pub fn msg_schema(type_url: &str) -> Option<&'static Schema> {
    match type_url {
        "/cosmos.bank.v1beta1.MsgSend" => Some(&MSG_SEND),
        other => derived_schema(other.strip_prefix('/')?),
    }
}

/// Schemas derived from descriptors, built once per message type for the process.
fn derived_schema(full_name: &str) -> Option<&'static Schema> {
    use std::collections::BTreeMap;
    use std::sync::{OnceLock, RwLock};
    static DERIVED: OnceLock<RwLock<BTreeMap<String, &'static Schema>>> = OnceLock::new();
    let cache = DERIVED.get_or_init(Default::default);
    if let Some(s) = cache
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(full_name)
    {
        return Some(s);
    }
    let pool = stoa_proto::descriptor_pool();
    let descriptor = pool.get_message_by_name(full_name)?;
    let mut building = Vec::new();
    let schema = schema_of(&descriptor, &mut building);
    cache
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .insert(full_name.to_string(), schema);
    Some(schema)
}

/// The schema of a message and of every message it embeds. A message that embeds itself
/// (directly or not) is checked down to its first repetition; deeper levels are prost's.
fn schema_of(
    descriptor: &prost_reflect::MessageDescriptor,
    building: &mut Vec<String>,
) -> &'static Schema {
    use prost_reflect::{Cardinality, Kind as K};
    let name = descriptor.full_name().to_string();
    building.push(name.clone());
    let mut fields = Vec::new();
    for f in descriptor.fields() {
        let repeated = f.cardinality() == Cardinality::Repeated && !f.is_map();
        let kind = match f.kind() {
            K::Message(m) if m.full_name() == "cosmos.base.v1beta1.Coin" => {
                if repeated {
                    Kind::Coins
                } else {
                    Kind::Coin
                }
            }
            K::Message(m) if m.full_name() == "google.protobuf.Any" => Kind::Msg(&ANY),
            K::Message(m) if building.iter().any(|b| b == m.full_name()) => Kind::Bytes,
            K::Message(m) => Kind::Msg(schema_of(&m, building)),
            K::String | K::Bytes => Kind::Bytes,
            K::Fixed32 | K::Sfixed32 | K::Float => Kind::Fixed32 { repeated },
            K::Fixed64 | K::Sfixed64 | K::Double => Kind::Fixed64 { repeated },
            _ if repeated => Kind::PackedVarint,
            _ => Kind::Varint,
        };
        fields.push((f.number(), kind));
    }
    building.pop();
    Box::leak(Box::new(Schema {
        name: Box::leak(name.into_boxed_str()),
        fields: Box::leak(fields.into_boxed_slice()),
    }))
}

/// The schema of a public key `Any`'s value (both key types are `{ bytes key = 1; }`).
pub fn pub_key_schema(type_url: &str) -> Option<&'static Schema> {
    match type_url {
        "/cosmos.crypto.secp256k1.PubKey" | "/cosmos.crypto.ed25519.PubKey" => Some(&PUB_KEY),
        _ => None,
    }
}

fn decode_err(why: String) -> StoaError {
    sdk::TX_DECODE.with(why)
}

/// A varint at `buf[*pos..]`: its value and whether it was written in the fewest bytes.
/// `None` when truncated or longer than 64 bits (as prost refuses).
fn varint(buf: &[u8], pos: &mut usize) -> Option<(u64, bool)> {
    let mut value = 0u64;
    for i in 0..10 {
        let b = *buf.get(*pos + i)?;
        if i == 9 && b > 1 {
            return None;
        }
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            *pos += i + 1;
            // A last byte of zero after the first means a padded encoding.
            return Some((value, i == 0 || b != 0));
        }
    }
    None
}

/// The `len` bytes of a length-delimited value at `buf[*pos..]`.
fn delimited<'a>(buf: &'a [u8], pos: &mut usize) -> Option<(&'a [u8], bool)> {
    let (len, minimal) = varint(buf, pos)?;
    let len = usize::try_from(len).ok()?;
    let end = pos.checked_add(len)?;
    let value = buf.get(*pos..end)?;
    *pos = end;
    Some((value, minimal))
}

/// ADR-027: the `TxRaw` envelope is not signed, so it must have exactly one spelling: fields
/// 1 (`body_bytes`), 2 (`auth_info_bytes`), 3 (`signatures`, repeated and consecutive) in that
/// order, 1 and 2 at most once, each length-delimited, tags and lengths as minimal varints,
/// nothing else.
pub fn check_tx_raw(raw: &[u8]) -> Result<(), StoaError> {
    let bad = |why: &str| decode_err(format!("TxRaw not in canonical form: {why}"));
    let mut pos = 0;
    let mut prev = 0u64;
    while pos < raw.len() {
        let (tag, minimal) = varint(raw, &mut pos).ok_or_else(|| bad("truncated tag"))?;
        if !minimal {
            return Err(bad("tag not a minimal varint"));
        }
        let field = tag >> 3;
        if !(1..=3).contains(&field) {
            return Err(bad(&format!("unknown field {field}")));
        }
        if tag & 7 != 2 {
            return Err(bad(&format!("field {field} must be length-delimited")));
        }
        if field < prev {
            return Err(bad("fields out of order"));
        }
        if field == prev && field != 3 {
            return Err(bad(&format!("field {field} repeated")));
        }
        prev = field;
        let (_, minimal) = delimited(raw, &mut pos).ok_or_else(|| bad("truncated field"))?;
        if !minimal {
            return Err(bad("length prefix not a minimal varint"));
        }
    }
    Ok(())
}

/// ADR-020 on one message: every field known to `schema` (bar, if `non_critical`, unknown
/// fields with [`NON_CRITICAL_BIT`] set) with the wire type its kind needs, embedded messages
/// checked the same way, and every `Coins` field valid.
pub fn check_message(bytes: &[u8], schema: &Schema, non_critical: bool) -> Result<(), StoaError> {
    check_at(bytes, schema, non_critical, 0)
}

fn check_at(
    bytes: &[u8],
    schema: &Schema,
    non_critical: bool,
    depth: u32,
) -> Result<(), StoaError> {
    if depth > MAX_DEPTH {
        return Err(decode_err(format!("{} nested too deep", schema.name)));
    }
    let truncated = || decode_err(format!("{}: truncated or invalid field", schema.name));
    // The last denom of each `Coins` field so far (a repeated field's entries may be spread
    // over the message; prost appends them in order of appearance). On the stack: no message
    // has more than a few coin lists.
    let mut last_denoms: [(u32, &[u8]); MAX_COINS_FIELDS] = [(0, &[]); MAX_COINS_FIELDS];
    let mut coins_fields = 0usize;
    let mut pos = 0;
    while pos < bytes.len() {
        let (tag, _) = varint(bytes, &mut pos).ok_or_else(truncated)?;
        let number = u32::try_from(tag >> 3).map_err(|_| truncated())?;
        let wire = (tag & 7) as u8;
        if number == 0 {
            return Err(truncated());
        }
        let Some(kind) = schema.field(number) else {
            if non_critical && number & NON_CRITICAL_BIT != 0 {
                skip(bytes, &mut pos, wire).ok_or_else(truncated)?;
                continue;
            }
            return Err(decode_err(format!(
                "{}: unknown field {number} (wire type {wire})",
                schema.name
            )));
        };
        let expected = match kind {
            Kind::Varint => 0,
            Kind::PackedVarint if wire == 0 => 0,
            Kind::Fixed32 { repeated } if wire == 5 || !repeated => 5,
            Kind::Fixed64 { repeated } if wire == 1 || !repeated => 1,
            _ => 2,
        };
        if wire != expected {
            return Err(decode_err(format!(
                "{}: field {number} has wire type {wire}, expected {expected}",
                schema.name
            )));
        }
        match kind {
            Kind::Varint | Kind::PackedVarint | Kind::Fixed32 { .. } | Kind::Fixed64 { .. } => {
                skip(bytes, &mut pos, wire).ok_or_else(truncated)?;
            }
            Kind::Bytes => {
                delimited(bytes, &mut pos).ok_or_else(truncated)?;
            }
            Kind::Msg(inner) => {
                let (value, _) = delimited(bytes, &mut pos).ok_or_else(truncated)?;
                check_at(value, inner, false, depth + 1)?;
            }
            Kind::Coin => {
                let (value, _) = delimited(bytes, &mut pos).ok_or_else(truncated)?;
                check_coin(value)?;
            }
            Kind::Coins => {
                let (value, _) = delimited(bytes, &mut pos).ok_or_else(truncated)?;
                let (denom, amount) = check_coin(value)?;
                if amount == 0 {
                    return Err(sdk::INVALID_COINS.with(format!(
                        "{}: coin 0{} amount is not positive",
                        schema.name,
                        String::from_utf8_lossy(denom)
                    )));
                }
                match last_denoms[..coins_fields]
                    .iter_mut()
                    .find(|(n, _)| *n == number)
                {
                    Some((_, last)) => {
                        if denom <= *last {
                            let why = if denom == *last {
                                "duplicate denomination"
                            } else {
                                "denomination not sorted"
                            };
                            return Err(sdk::INVALID_COINS.with(format!(
                                "{}: {why} {}",
                                schema.name,
                                String::from_utf8_lossy(denom)
                            )));
                        }
                        *last = denom;
                    }
                    None => {
                        let slot = last_denoms.get_mut(coins_fields).ok_or_else(|| {
                            decode_err(format!("{}: too many coin lists", schema.name))
                        })?;
                        *slot = (number, denom);
                        coins_fields += 1;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Skips an unknown field's value (groups, wire types 3 and 4, are refused: proto3 has none).
fn skip(bytes: &[u8], pos: &mut usize, wire: u8) -> Option<()> {
    match wire {
        0 => varint(bytes, pos).map(|_| ()),
        1 | 5 => {
            let n = if wire == 1 { 8 } else { 4 };
            let end = pos.checked_add(n)?;
            bytes.get(*pos..end)?;
            *pos = end;
            Some(())
        }
        2 => delimited(bytes, pos).map(|_| ()),
        _ => None,
    }
}

/// One `Coin`: only fields 1 and 2, a valid denom and a canonical amount (the last occurrence
/// of each field counts, as when prost reads it). Returns the denom and amount.
fn check_coin(bytes: &[u8]) -> Result<(&[u8], u128), StoaError> {
    let truncated = || decode_err(format!("{}: truncated or invalid field", COIN.name));
    let mut denom: &[u8] = &[];
    let mut amount: &[u8] = &[];
    let mut pos = 0;
    while pos < bytes.len() {
        let (tag, _) = varint(bytes, &mut pos).ok_or_else(truncated)?;
        let slot = match tag {
            0x0a => &mut denom,
            0x12 => &mut amount,
            _ => {
                return Err(decode_err(format!(
                    "{}: unknown field {} (wire type {})",
                    COIN.name,
                    tag >> 3,
                    tag & 7
                )))
            }
        };
        *slot = delimited(bytes, &mut pos).ok_or_else(truncated)?.0;
    }
    let denom_str =
        std::str::from_utf8(denom).map_err(|_| sdk::INVALID_COINS.with("denom is not UTF-8"))?;
    validate_denom(denom_str)?;
    let value = parse_amount_bytes(amount).ok_or_else(|| {
        sdk::INVALID_COINS.with(format!(
            "invalid amount {:?} of {denom_str}",
            String::from_utf8_lossy(&amount[..amount.len().min(64)])
        ))
    })?;
    Ok((denom, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;
    use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as PCoin;
    use prost::Message;

    fn coin(d: &str, a: &str) -> PCoin {
        PCoin {
            denom: d.into(),
            amount: a.into(),
        }
    }

    fn send(amount: Vec<PCoin>) -> Vec<u8> {
        MsgSend {
            from_address: "a".into(),
            to_address: "b".into(),
            amount,
        }
        .encode_to_vec()
    }

    #[test]
    fn varints_know_their_padding() {
        let mut pos = 0;
        assert_eq!(varint(&[0x05], &mut pos), Some((5, true)));
        pos = 0;
        assert_eq!(varint(&[0x85, 0x00], &mut pos), Some((5, false)));
        pos = 0;
        assert_eq!(varint(&[0x80, 0x01], &mut pos), Some((128, true)));
        pos = 0;
        assert_eq!(varint(&[0x80], &mut pos), None);
        pos = 0;
        assert_eq!(varint(&[0xff; 10], &mut pos), None);
    }

    #[test]
    fn tx_raw_has_one_spelling() {
        let good = [0x0a, 1, 0xaa, 0x12, 1, 0xbb, 0x1a, 1, 0xcc, 0x1a, 0];
        check_tx_raw(&good).unwrap();
        check_tx_raw(&[]).unwrap();
        for bad in [
            &[0x12, 1, 0xbb, 0x0a, 1, 0xaa][..], // reordered
            &[0x0a, 1, 0xaa, 0x0a, 1, 0xaa],     // body twice
            &[0x0a, 0x81, 0x00, 0xaa],           // padded length
            &[0x8a, 0x00, 1, 0xaa],              // padded tag
            &[0x0a, 1, 0xaa, 0x22, 0],           // unknown field 4
            &[0x0a, 1, 0xaa, 0x20, 1],           // unknown varint field
            &[0x08, 1],                          // field 1 as a varint
            &[0x0a, 5, 0xaa],                    // truncated
        ] {
            assert!(check_tx_raw(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn unknown_fields_refused_bar_the_bodys_non_critical_range() {
        let msg = send(vec![coin("ustor", "1")]);
        check_message(&msg, &MSG_SEND, false).unwrap();
        let mut extra = msg.clone();
        extra.extend_from_slice(&[0x22, 1, b'x']); // field 4
        assert!(check_message(&extra, &MSG_SEND, false).is_err());
        // A non-critical number is still refused in a message...
        let mut nc = msg.clone();
        nc.extend_from_slice(&[0x8a, 0x40, 1, b'x']); // field 1025, bytes
        assert!(check_message(&nc, &MSG_SEND, false).is_err());
        // ...and ignored in the body; a critical one in the body is refused.
        check_message(&[0x8a, 0x40, 1, b'x'], &TX_BODY, true).unwrap();
        check_message(&[0xc8, 0x40, 7], &TX_BODY, true).unwrap(); // 1033, varint
        assert!(check_message(&[0xa2, 0x06, 1, b'x'], &TX_BODY, true).is_err()); // 100
        assert!(check_message(&[0x82, 0x80, 0x01, 1, b'x'], &TX_BODY, true).is_err()); // 2048
                                                                                       // A known field with the wrong wire type.
        assert!(check_message(&[0x10, 1], &MSG_SEND, false).is_err());
        // An unknown field inside a nested message (Fee inside AuthInfo).
        let fee_with_extra = [0x12, 3, 0x2a, 1, b'x'];
        assert!(check_message(&fee_with_extra, &AUTH_INFO, false).is_err());
    }

    #[test]
    fn coins_fields_follow_coins_validate() {
        let ok = send(vec![coin("ucomp", "2"), coin("ustor", "10")]);
        check_message(&ok, &MSG_SEND, false).unwrap();
        for (amount, code) in [
            (
                vec![coin("ustor", "1"), coin("ucomp", "2")],
                sdk::INVALID_COINS,
            ),
            (
                vec![coin("ustor", "1"), coin("ustor", "2")],
                sdk::INVALID_COINS,
            ),
            (vec![coin("ustor", "0")], sdk::INVALID_COINS),
            (vec![coin("ustor", "+5")], sdk::INVALID_COINS),
            (vec![coin("ustor", "00005")], sdk::INVALID_COINS),
            (vec![coin("ustor", "")], sdk::INVALID_COINS),
            (vec![coin("u", "5")], sdk::INVALID_COINS),
        ] {
            let err = check_message(&send(amount.clone()), &MSG_SEND, false).unwrap_err();
            assert_eq!(err.code, code.code, "{amount:?}: {}", err.log);
        }
        // An unknown field inside a coin.
        let mut c = coin("ustor", "5").encode_to_vec();
        c.extend_from_slice(&[0x18, 1]);
        let mut m = Vec::new();
        prost::encoding::bytes::encode(3, &c, &mut m);
        assert!(check_message(&m, &MSG_SEND, false).is_err());
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        // ModeInfo { multi { mode_infos { multi { ... } } } } far past the limit.
        let mut inner: Vec<u8> = Vec::new();
        // `ModeInfo.multi` and `Multi.mode_infos` are both field 2.
        for _ in 0..200 {
            let mut wrapped = Vec::new();
            prost::encoding::bytes::encode(2, &inner, &mut wrapped);
            inner = wrapped;
        }
        assert!(check_message(&inner, &MODE_INFO, false).is_err());
    }
}

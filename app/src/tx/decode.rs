//! Decoding a Cosmos SDK `TxRaw` into what the ante and the messages need, with every stateless
//! check Cosmos SDK does in its decoder and `ValidateBasic`. The raw `body_bytes` and
//! `auth_info_bytes` are kept: the sign doc is rebuilt from them, never from a re-encoding.
//! Before prost reads anything, [`wire`] checks the bytes strictly (ADR-027's canonical
//! `TxRaw`, ADR-020's unknown fields, `Coins.Validate`): every module's messages pass here.

pub mod wire;

use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{mode_info, AuthInfo, TxBody, TxRaw};
use prost::Message;
use sha2::{Digest, Sha256};
use stoa_bank::PubKey;
use stoa_framework::address::echo_input;
use stoa_framework::{sdk, Address, Any, CheckedMsg, Coins, StoaResult};

use super::amino::AminoParts;
use crate::modules::Router;

/// How a signer signed. Decoding accepts every mode a `ModeInfo` can name, because a
/// simulation skips signature checks whatever the mode (cosmjs and the Cosmos SDK simulate with
/// `SIGN_MODE_UNSPECIFIED` and an empty signature); the ante refuses the unsupported ones
/// everywhere else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignerMode {
    /// `SIGN_MODE_DIRECT`: the signature covers the encoded `SignDoc`.
    Direct,
    /// `SIGN_MODE_LEGACY_AMINO_JSON`: the signature covers the sorted JSON `StdSignDoc`
    /// ([`super::amino::sign_bytes`]).
    AminoJson,
    /// A multisig account's signature (`ModeInfo.Multi`): which keys signed and how.
    Multi(MultiMode),
    /// Any other mode (the raw `SignMode` number): accepted in simulation only.
    Unsupported(i32),
}

/// `ModeInfo.Multi`: the compact bit array of the keys that signed (bit i = the multisig's key
/// i, most significant bit first in each byte) and the mode of each signature, in key order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultiMode {
    /// The bit array's length: must equal the number of keys.
    pub size: usize,
    /// The indexes of the keys that signed, ascending.
    pub signed: Vec<usize>,
    /// One single mode per signed key (nested multisigs are refused).
    pub modes: Vec<SignerMode>,
}

impl MultiMode {
    fn from_proto(m: &mode_info::Multi, i: usize) -> StoaResult<Self> {
        let bad =
            |why: &str| sdk::INVALID_REQUEST.with(format!("signer {i}: multisig mode info: {why}"));
        let bits = m
            .bitarray
            .as_ref()
            .ok_or_else(|| bad("missing bit array"))?;
        let max_bytes = stoa_framework::crypto::MAX_MULTISIG_KEYS.div_ceil(8);
        if bits.extra_bits_stored >= 8 || bits.elems.len() > max_bytes {
            return Err(bad("malformed bit array"));
        }
        // As the Cosmos SDK's `CompactBitArray.Count`.
        let size = match bits.extra_bits_stored {
            0 => bits.elems.len() * 8,
            extra => {
                if bits.elems.is_empty() {
                    return Err(bad("malformed bit array"));
                }
                (bits.elems.len() - 1) * 8 + extra as usize
            }
        };
        let signed: Vec<usize> = (0..size)
            .filter(|k| bits.elems[k / 8] & (1 << (7 - k % 8)) != 0)
            .collect();
        if m.mode_infos.len() != signed.len() {
            return Err(bad("one mode per signature in the bit array is required"));
        }
        let modes = m
            .mode_infos
            .iter()
            .map(|mi| match &mi.sum {
                Some(mode_info::Sum::Single(s)) => Ok(SignerMode::from_single(s.mode)),
                Some(mode_info::Sum::Multi(_)) => Err(bad("nested multisigs are not supported")),
                None => Err(bad("missing mode")),
            })
            .collect::<StoaResult<Vec<_>>>()?;
        Ok(MultiMode {
            size,
            signed,
            modes,
        })
    }
}

impl SignerMode {
    /// Whether checking this signature needs the amino JSON sign doc.
    pub fn uses_amino(&self) -> bool {
        match self {
            SignerMode::AminoJson => true,
            SignerMode::Multi(m) => m.modes.iter().any(SignerMode::uses_amino),
            _ => false,
        }
    }

    fn from_single(mode: i32) -> Self {
        match SignMode::try_from(mode) {
            Ok(SignMode::Direct) => SignerMode::Direct,
            Ok(SignMode::LegacyAminoJson) => SignerMode::AminoJson,
            _ => SignerMode::Unsupported(mode),
        }
    }
}

/// The name of a `SignMode` number, for errors.
pub fn sign_mode_name(mode: i32) -> String {
    SignMode::try_from(mode)
        .map(|m| m.as_str_name().to_string())
        .unwrap_or_else(|_| format!("unknown sign mode {mode}"))
}

/// One signer of a tx: the key it carries (only needed on an account's first tx), the
/// sequence it signed and how.
#[derive(Clone, Debug)]
pub struct SignerData {
    pub address: Address,
    pub pub_key: Option<PubKey>,
    pub sequence: u64,
    pub mode: SignerMode,
    pub signature: Vec<u8>,
}

#[derive(Clone, Debug)]
pub struct DecodedTx {
    /// sha256 of the raw bytes: CometBFT's tx hash.
    pub hash: [u8; 32],
    pub size: usize,
    pub body_bytes: Vec<u8>,
    pub auth_info_bytes: Vec<u8>,
    pub msgs: Vec<Any>,
    /// Each message as its module checked it: its signers (the first is the `sender` of its
    /// `message` event) and its decoded form.
    pub checked: Vec<CheckedMsg>,
    pub memo: String,
    pub timeout_height: u64,
    /// The distinct signers of all messages, in order of first appearance; the first pays.
    pub signers: Vec<SignerData>,
    pub fee: Coins,
    pub gas_limit: u64,
    /// The signer-independent parts of the amino JSON sign doc, when a signer signed in
    /// `SIGN_MODE_LEGACY_AMINO_JSON`.
    pub amino: Option<AminoParts>,
}

impl DecodedTx {
    pub fn fee_payer(&self) -> Address {
        // `decode_tx` guarantees at least one signer.
        self.signers
            .first()
            .map(|s| s.address)
            .unwrap_or(Address([0; 20]))
    }

    /// The SIGN_MODE_DIRECT bytes for a signer with this account number: the encoded
    /// `SignDoc`, written straight from the raw parts (as prost would, defaults left out).
    pub fn sign_bytes(&self, chain_id: &str, account_number: u64) -> Vec<u8> {
        use prost::encoding::{encode_key, encode_varint, WireType};
        let mut out = Vec::with_capacity(
            self.body_bytes.len() + self.auth_info_bytes.len() + chain_id.len() + 32,
        );
        for (tag, field) in [
            (1, self.body_bytes.as_slice()),
            (2, self.auth_info_bytes.as_slice()),
            (3, chain_id.as_bytes()),
        ] {
            if !field.is_empty() {
                encode_key(tag, WireType::LengthDelimited, &mut out);
                encode_varint(field.len() as u64, &mut out);
                out.extend_from_slice(field);
            }
        }
        if account_number != 0 {
            encode_key(4, WireType::Varint, &mut out);
            encode_varint(account_number, &mut out);
        }
        out
    }
}

impl DecodedTx {
    /// The bytes signer `i` signed, in its mode, for this account number; `None` when its
    /// mode is not a single verifiable one (a multisig: see [`DecodedTx::mode_sign_bytes`]; an
    /// unsupported mode: refused by the ante outside simulation).
    pub fn signer_sign_bytes(
        &self,
        i: usize,
        chain_id: &str,
        account_number: u64,
    ) -> Option<Vec<u8>> {
        let signer = self.signers.get(i)?;
        self.mode_sign_bytes(&signer.mode, chain_id, account_number, signer.sequence)
    }

    /// The bytes a signature in single `mode` covers, for a signer with this account number
    /// and sequence (the sequence of its signer info).
    pub fn mode_sign_bytes(
        &self,
        mode: &SignerMode,
        chain_id: &str,
        account_number: u64,
        sequence: u64,
    ) -> Option<Vec<u8>> {
        match mode {
            SignerMode::Direct => Some(self.sign_bytes(chain_id, account_number)),
            SignerMode::AminoJson => {
                let parts = self.amino.as_ref()?;
                Some(parts.sign_bytes(chain_id, account_number, sequence))
            }
            SignerMode::Multi(_) | SignerMode::Unsupported(_) => None,
        }
    }
}

pub fn tx_hash(raw: &[u8]) -> [u8; 32] {
    Sha256::digest(raw).into()
}

/// Decodes and checks a tx without state. Never panics, whatever the bytes.
pub fn decode_tx(raw: &[u8], router: &Router) -> StoaResult<DecodedTx> {
    // The envelope is not signed: only its one canonical spelling is accepted, so a tx has
    // one hash. The signed parts may be spelled any way, but hold no field we do not read.
    let tx_raw =
        TxRaw::decode(raw).map_err(|e| sdk::TX_DECODE.with(format!("decoding TxRaw: {e}")))?;
    wire::check_tx_raw(raw)?;
    wire::check_message(&tx_raw.body_bytes, &wire::TX_BODY, true)?;
    wire::check_message(&tx_raw.auth_info_bytes, &wire::AUTH_INFO, false)?;
    let body = TxBody::decode(tx_raw.body_bytes.as_slice())
        .map_err(|e| sdk::TX_DECODE.with(format!("decoding TxBody: {e}")))?;
    let auth_info = AuthInfo::decode(tx_raw.auth_info_bytes.as_slice())
        .map_err(|e| sdk::TX_DECODE.with(format!("decoding AuthInfo: {e}")))?;

    if !body.extension_options.is_empty() {
        return Err(sdk::UNKNOWN_EXTENSION_OPTIONS.with("this chain accepts no extension options"));
    }
    if body.messages.is_empty() {
        return Err(sdk::INVALID_REQUEST.with("must contain at least one message"));
    }
    #[allow(deprecated)]
    if auth_info.tip.is_some() {
        return Err(sdk::NOT_SUPPORTED.with("tips are not supported"));
    }

    // Messages: a known type, stateless checks by the module, and their signers.
    let msgs: Vec<Any> = body.messages;
    let mut signers: Vec<Address> = Vec::new();
    let mut checked = Vec::with_capacity(msgs.len());
    for msg in &msgs {
        let unknown = || {
            sdk::TX_DECODE.with(format!(
                "unrecognized message type: {}",
                echo_input(&msg.type_url)
            ))
        };
        let route = router.for_msg(&msg.type_url).map_err(|_| unknown())?;
        wire::check_message(&msg.value, route.schema, false)?;
        // The handler refuses a message without a signer.
        let msg_checked = route.handler.check(msg)?;
        for s in &msg_checked.signers {
            if !signers.contains(s) {
                signers.push(*s);
            }
        }
        checked.push(msg_checked);
    }

    // Signers: one signer info and one signature per distinct signer, SIGN_MODE_DIRECT only.
    if auth_info.signer_infos.len() != signers.len() {
        return Err(sdk::UNAUTHORIZED.with(format!(
            "wrong number of signers; expected {}, got {}",
            signers.len(),
            auth_info.signer_infos.len()
        )));
    }
    if tx_raw.signatures.len() != signers.len() {
        return Err(sdk::UNAUTHORIZED.with(format!(
            "invalid number of signatures; expected: {}, got {}",
            signers.len(),
            tx_raw.signatures.len()
        )));
    }
    let mut signer_data = Vec::with_capacity(signers.len());
    for (i, ((address, info), signature)) in signers
        .iter()
        .zip(&auth_info.signer_infos)
        .zip(tx_raw.signatures)
        .enumerate()
    {
        let mode = match info.mode_info.as_ref().and_then(|m| m.sum.as_ref()) {
            Some(mode_info::Sum::Single(s)) => SignerMode::from_single(s.mode),
            Some(mode_info::Sum::Multi(m)) => SignerMode::Multi(MultiMode::from_proto(m, i)?),
            None => return Err(sdk::INVALID_REQUEST.with(format!("signer {i}: missing mode_info"))),
        };
        let pub_key = match &info.public_key {
            Some(pk) => {
                if let Some(schema) = wire::pub_key_schema(&pk.type_url) {
                    wire::check_message(&pk.value, schema, false)?;
                }
                Some(PubKey::from_parts(&pk.type_url, &pk.value)?)
            }
            None => None,
        };
        signer_data.push(SignerData {
            address: *address,
            pub_key,
            sequence: info.sequence,
            mode,
            signature,
        });
    }

    // Fee: valid coins, paid by the first signer; no fee grants.
    let fee = auth_info.fee.unwrap_or_default();
    let amino = if signer_data.iter().any(|s| s.mode.uses_amino()) {
        Some(AminoParts::new(
            router,
            &fee,
            &body.memo,
            body.timeout_height,
            &msgs,
        )?)
    } else {
        None
    };
    if !fee.granter.is_empty() {
        return Err(sdk::NOT_SUPPORTED.with("fee grants are not supported"));
    }
    if !fee.payer.is_empty() {
        let payer = Address::parse(&fee.payer)?;
        if Some(&payer) != signers.first() {
            return Err(sdk::NOT_SUPPORTED.with("the fee payer must be the first signer"));
        }
    }
    let fee_coins = Coins::from_proto_list(
        fee.amount
            .iter()
            .map(|c| (c.denom.as_str(), c.amount.as_str())),
    )?;

    Ok(DecodedTx {
        hash: tx_hash(raw),
        size: raw.len(),
        body_bytes: tx_raw.body_bytes,
        auth_info_bytes: tx_raw.auth_info_bytes,
        msgs,
        checked,
        memo: body.memo,
        timeout_height: body.timeout_height,
        signers: signer_data,
        fee: fee_coins,
        gas_limit: fee.gas_limit,
        amino,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmos_sdk_proto::cosmos::tx::v1beta1::SignDoc;

    #[test]
    fn sign_bytes_are_the_encoded_sign_doc() {
        let tx = |body: &[u8], auth: &[u8]| DecodedTx {
            hash: [0; 32],
            size: 0,
            body_bytes: body.to_vec(),
            auth_info_bytes: auth.to_vec(),
            msgs: vec![],
            checked: vec![],
            memo: String::new(),
            timeout_height: 0,
            signers: vec![],
            fee: Coins::new(),
            gas_limit: 0,
            amino: None,
        };
        let long = vec![7u8; 300];
        for (body, auth) in [
            (&b""[..], &b""[..]),
            (b"ab", b""),
            (b"", b"cd"),
            (&long, b"xyz"),
        ] {
            for chain_id in ["", "stoa-1"] {
                for number in [0, 1, 127, 128, u64::MAX] {
                    let want = SignDoc {
                        body_bytes: body.to_vec(),
                        auth_info_bytes: auth.to_vec(),
                        chain_id: chain_id.into(),
                        account_number: number,
                    }
                    .encode_to_vec();
                    assert_eq!(tx(body, auth).sign_bytes(chain_id, number), want);
                }
            }
        }
    }
}

//! Building and signing Cosmos SDK transactions (SIGN_MODE_DIRECT or LEGACY_AMINO_JSON): TxBody,
//! AuthInfo, SignDoc, TxRaw, exactly as any Cosmos client builds them, so the chain sees the same bytes
//! from `stoad`, cosmjs or Keplr.

use crate::keyring::{Algo, PrivKey};
use anyhow::{anyhow, bail, Result};
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{
    mode_info, AuthInfo, Fee, ModeInfo, SignDoc, SignerInfo, Tx, TxBody,
};
use cosmos_sdk_proto::Any;
use prost::Message;
use sha2::{Digest, Sha256};
use stoa_framework::Coins;

/// Who signs, and the replay-protection numbers the chain expects.
#[derive(Clone, Debug)]
pub struct SignerData {
    pub chain_id: String,
    pub account_number: u64,
    pub sequence: u64,
}

/// Everything about a tx except its messages and signer.
#[derive(Clone, Debug, Default)]
pub struct TxOptions {
    pub memo: String,
    pub timeout_height: u64,
    pub fee: Coins,
    pub gas_limit: u64,
}

/// The `Any` of a public key as it goes into `SignerInfo.public_key`.
pub fn pubkey_any(algo: Algo, public_key: Vec<u8>) -> Any {
    let value = match algo {
        Algo::Secp256k1 => {
            cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey { key: public_key }.encode_to_vec()
        }
        Algo::Ed25519 => {
            cosmos_sdk_proto::cosmos::crypto::ed25519::PubKey { key: public_key }.encode_to_vec()
        }
        // A multisig key's bytes are already its LegacyAminoPubKey encoding.
        Algo::Multisig => public_key,
    };
    Any {
        type_url: algo.pubkey_type_url().to_string(),
        value,
    }
}

pub fn to_proto_coins(coins: &Coins) -> Vec<ProtoCoin> {
    coins
        .iter()
        .map(|c| ProtoCoin {
            denom: c.denom,
            amount: c.amount.to_string(),
        })
        .collect()
}

/// How a signer signs: over the protobuf `SignDoc` (direct) or the Amino JSON `StdSignDoc`
/// (Ledger, Amino signers, multisig members).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum SignModeArg {
    #[default]
    Direct,
    AminoJson,
}

impl SignModeArg {
    pub fn proto(self) -> SignMode {
        match self {
            SignModeArg::Direct => SignMode::Direct,
            SignModeArg::AminoJson => SignMode::LegacyAminoJson,
        }
    }
}

/// A tx without signatures or signer infos, as `--generate-only` writes it.
pub fn unsigned_tx(messages: Vec<Any>, opts: &TxOptions) -> Tx {
    Tx {
        body: Some(TxBody {
            messages,
            memo: opts.memo.clone(),
            timeout_height: opts.timeout_height,
            ..Default::default()
        }),
        auth_info: Some(AuthInfo {
            signer_infos: vec![],
            fee: Some(Fee {
                amount: to_proto_coins(&opts.fee),
                gas_limit: opts.gas_limit,
                payer: String::new(),
                granter: String::new(),
            }),
            ..Default::default()
        }),
        signatures: vec![],
    }
}

/// The `SignerInfo` of a single-key signer.
pub fn signer_info(public_key: Option<Any>, mode: SignMode, sequence: u64) -> SignerInfo {
    SignerInfo {
        public_key,
        mode_info: Some(ModeInfo {
            sum: Some(mode_info::Sum::Single(mode_info::Single {
                mode: mode as i32,
            })),
        }),
        sequence,
    }
}

/// The bytes a signer signs in `mode` for `tx` (whose auth info must already hold the signer
/// infos for the direct mode, which signs them too).
pub fn sign_bytes(tx: &Tx, mode: SignMode, signer: &SignerData) -> Result<Vec<u8>> {
    match mode {
        SignMode::Direct => Ok(SignDoc {
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
            chain_id: signer.chain_id.clone(),
            account_number: signer.account_number,
        }
        .encode_to_vec()),
        SignMode::LegacyAminoJson => crate::amino::sign_bytes(tx, signer),
        other => bail!("sign mode {} is not supported", other.as_str_name()),
    }
}

/// Makes `key` the tx's only signer: sets its signer info (public key, `mode`, sequence) and
/// its signature, replacing any earlier ones.
pub fn sign_single(tx: &mut Tx, key: &PrivKey, mode: SignMode, signer: &SignerData) -> Result<()> {
    let auth = tx.auth_info.get_or_insert_with(AuthInfo::default);
    auth.signer_infos = vec![signer_info(
        Some(pubkey_any(key.algo(), key.public_key())),
        mode,
        signer.sequence,
    )];
    tx.signatures = vec![];
    let bytes = sign_bytes(tx, mode, signer)?;
    tx.signatures = vec![key.sign(&bytes)?];
    Ok(())
}

/// Signs and encodes a TxRaw. `corrupt_signature` flips a byte of the signature after signing,
/// for tests that must see the chain reject a bad signature.
pub fn build_signed_tx(
    key: &PrivKey,
    messages: Vec<Any>,
    opts: &TxOptions,
    signer: &SignerData,
    corrupt_signature: bool,
) -> Result<Vec<u8>> {
    let mut tx = unsigned_tx(messages, opts);
    sign_single(&mut tx, key, SignMode::Direct, signer)?;
    if corrupt_signature {
        corrupt(&mut tx);
    }
    Ok(crate::txjson::tx_raw_bytes(&tx))
}

/// Flips bits in the middle of the first signature: it stays well-formed (right length,
/// decodable) but no longer verifies.
pub fn corrupt(tx: &mut Tx) {
    if let Some(sig) = tx.signatures.first_mut() {
        let mid = sig.len() / 2;
        if let Some(b) = sig.get_mut(mid) {
            *b ^= 0x5a;
        }
    }
}

/// The CometBFT tx hash: upper-case hex of sha256(tx bytes).
pub fn tx_hash(tx_bytes: &[u8]) -> String {
    hex::encode_upper(Sha256::digest(tx_bytes))
}

/// `fees = ceil(gas_limit x price)` for every price in `0.001ustor,0.0001uusdc`.
pub fn fees_from_gas_prices(gas_prices: &str, gas_limit: u64) -> Result<Coins> {
    let prices = crate::app_glue::parse_gas_prices(gas_prices)
        .map_err(|e| anyhow!("--gas-prices {gas_prices:?}: {e}"))?;
    if prices.is_empty() {
        bail!("--gas-prices {gas_prices:?} lists no price");
    }
    let mut list = Vec::with_capacity(prices.len());
    for (denom, price) in prices {
        let amount = price
            .mul_ceil(u128::from(gas_limit))
            .ok_or_else(|| anyhow!("fee for gas price \"{price}{denom}\" overflows"))?;
        list.push(stoa_framework::Coin::new(amount, denom));
    }
    Coins::from_list(list).map_err(|e| anyhow!("--gas-prices {gas_prices:?}: {e}"))
}

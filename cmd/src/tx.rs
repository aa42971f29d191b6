//! Building and signing Cosmos SDK transactions (SIGN_MODE_DIRECT): TxBody, AuthInfo,
//! SignDoc, TxRaw, exactly as any Cosmos client builds them, so the chain sees the same bytes
//! from `stoad`, cosmjs or Keplr.

use crate::keyring::{Algo, PrivKey};
use anyhow::{anyhow, bail, Result};
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{
    mode_info, AuthInfo, Fee, ModeInfo, SignDoc, SignerInfo, TxBody, TxRaw,
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

/// Signs and encodes a TxRaw. `corrupt_signature` flips a byte of the signature after signing,
/// for tests that must see the chain reject a bad signature.
pub fn build_signed_tx(
    key: &PrivKey,
    messages: Vec<Any>,
    opts: &TxOptions,
    signer: &SignerData,
    corrupt_signature: bool,
) -> Result<Vec<u8>> {
    let body = TxBody {
        messages,
        memo: opts.memo.clone(),
        timeout_height: opts.timeout_height,
        ..Default::default()
    };
    let signer_info = SignerInfo {
        public_key: Some(pubkey_any(key.algo(), key.public_key())),
        mode_info: Some(ModeInfo {
            sum: Some(mode_info::Sum::Single(mode_info::Single {
                mode: SignMode::Direct as i32,
            })),
        }),
        sequence: signer.sequence,
    };
    let auth_info = AuthInfo {
        signer_infos: vec![signer_info],
        fee: Some(Fee {
            amount: to_proto_coins(&opts.fee),
            gas_limit: opts.gas_limit,
            payer: String::new(),
            granter: String::new(),
        }),
        ..Default::default()
    };
    let body_bytes = body.encode_to_vec();
    let auth_info_bytes = auth_info.encode_to_vec();
    let sign_doc = SignDoc {
        body_bytes: body_bytes.clone(),
        auth_info_bytes: auth_info_bytes.clone(),
        chain_id: signer.chain_id.clone(),
        account_number: signer.account_number,
    };
    let mut signature = key.sign(&sign_doc.encode_to_vec())?;
    if corrupt_signature {
        // Flip bits in the middle of the signature: it stays well-formed (right length,
        // decodable) but no longer verifies.
        let mid = signature.len() / 2;
        signature[mid] ^= 0x5a;
    }
    let raw = TxRaw {
        body_bytes,
        auth_info_bytes,
        signatures: vec![signature],
    };
    Ok(raw.encode_to_vec())
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

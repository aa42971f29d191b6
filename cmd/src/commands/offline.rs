//! The offline flow, as the Cosmos SDK's CLI has it: `tx sign` (a file from `--generate-only`,
//! optionally without any node: `--offline --account-number --sequence`; `--multisig ADDR` to
//! sign as one member of a multisig account), `tx multi-sign` (combines members' signatures into
//! the multisig's), `tx broadcast`, `tx encode`/`tx decode` and `tx simulate`. Files are the
//! SDK's JSON (see `crate::txjson`).

use super::tx::{broadcast, broadcast_mode, sim_signer, simulate, warn_if_other_chain, Signer};
use super::Ctx;
use crate::cli::{BroadcastMode, NodeArgs};
use crate::client;
use crate::keyring::Algo;
use crate::multisig;
use crate::output::print_json;
use crate::tx::{sign_bytes, sign_single, SignModeArg, SignerData};
use crate::txjson::{
    read_text, read_tx_file, signatures_from_json, signatures_to_json, tx_from_bytes, tx_raw_bytes,
    tx_to_json,
};
use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use clap::{Args, Subcommand};
use cosmos_sdk_proto::cosmos::crypto::multisig::LegacyAminoPubKey;
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::{
    signature_descriptor::{data, Data},
    SignMode, SignatureDescriptor, SignatureDescriptors,
};
use cosmos_sdk_proto::cosmos::tx::v1beta1::SignerInfo;
use cosmos_sdk_proto::Any;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Subcommand, Debug)]
pub enum OfflineTx {
    /// Sign a tx file (from --generate-only) and print the signed tx as JSON.
    Sign(SignArgs),
    /// Combine multisig members' signatures (from `tx sign --multisig`) into the signed tx:
    /// stoad tx multi-sign TX.json MULTISIG_KEY SIG1.json SIG2.json
    MultiSign(MultiSignArgs),
    /// Broadcast a signed tx file.
    Broadcast {
        /// The signed tx as JSON (`-` reads stdin).
        file: PathBuf,
        /// sync (CheckTx, then wait for the block unless --no-wait) or async (hash only).
        #[arg(long, value_enum)]
        broadcast_mode: Option<BroadcastMode>,
        /// Return after CheckTx accepted the tx instead of waiting for inclusion.
        #[arg(long)]
        no_wait: bool,
        /// Seconds to wait for inclusion.
        #[arg(long, default_value_t = 30)]
        wait_timeout: u64,
    },
    /// Print a tx file as base64 protobuf bytes (what a node holds and `tx decode` reads).
    Encode {
        /// The tx as JSON (`-` reads stdin).
        file: PathBuf,
    },
    /// Print base64 protobuf tx bytes as JSON.
    Decode {
        /// The tx bytes in base64.
        tx_bytes: String,
    },
    /// Simulate a tx file and print the gas it would use. An unsigned file needs --from (the
    /// signer, whose sequence and public key the simulation needs).
    Simulate {
        /// The tx as JSON (`-` reads stdin).
        file: PathBuf,
        /// The signer of an unsigned file: key name or address.
        #[arg(long)]
        from: Option<String>,
    },
}

#[derive(Args, Debug)]
pub struct SignArgs {
    /// The unsigned tx as JSON (`-` reads stdin).
    pub file: PathBuf,
    /// The signing key: a key name or the address of a keyring key.
    #[arg(long)]
    pub from: String,
    /// Sign without any node: needs --account-number and --sequence.
    #[arg(long, requires_all = ["account_number", "sequence"])]
    pub offline: bool,
    /// The signing account's number (default: queried from the chain).
    #[arg(long)]
    pub account_number: Option<u64>,
    /// The signing account's sequence (default: queried from the chain).
    #[arg(long)]
    pub sequence: Option<u64>,
    /// direct or amino-json (default: direct; amino-json with --multisig).
    #[arg(long, value_enum)]
    pub sign_mode: Option<SignModeArg>,
    /// Sign as a member of this multisig account (address or key name): prints only the
    /// signature, for `tx multi-sign`. Account number and sequence are the multisig's.
    #[arg(long)]
    pub multisig: Option<String>,
    /// Print only the signature (SignatureDescriptors JSON), not the signed tx.
    #[arg(long)]
    pub signature_only: bool,
    /// Write the output to this file instead of stdout.
    #[arg(long)]
    pub output_document: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct MultiSignArgs {
    /// The unsigned tx as JSON (the file the members signed).
    pub file: PathBuf,
    /// The multisig key in the keyring (name or address), made by `keys add --multisig`.
    pub multisig_key: String,
    /// The members' signature files (`tx sign --multisig` output), at least the threshold.
    #[arg(required = true)]
    pub signatures: Vec<PathBuf>,
    /// Without any node: needs --account-number and --sequence.
    #[arg(long, requires_all = ["account_number", "sequence"])]
    pub offline: bool,
    /// The multisig account's number (default: queried from the chain).
    #[arg(long)]
    pub account_number: Option<u64>,
    /// The multisig account's sequence (default: queried from the chain).
    #[arg(long)]
    pub sequence: Option<u64>,
    /// Write the signed tx to this file instead of stdout.
    #[arg(long)]
    pub output_document: Option<PathBuf>,
}

pub async fn run(ctx: &Ctx, node: &NodeArgs, cmd: OfflineTx) -> Result<i32> {
    match cmd {
        OfflineTx::Sign(args) => sign(ctx, node, args).await.map(|_| 0),
        OfflineTx::MultiSign(args) => multi_sign(ctx, node, args).await.map(|_| 0),
        OfflineTx::Broadcast {
            file,
            broadcast_mode: mode,
            no_wait,
            wait_timeout,
        } => {
            let tx = read_tx_file(&file)?;
            if tx.signatures.is_empty() {
                bail!(
                    "{} is not signed: sign it first with `stoad tx sign`",
                    file.display()
                );
            }
            let mode = broadcast_mode(ctx, mode)?;
            broadcast(
                ctx,
                node,
                tx_raw_bytes(&tx),
                mode,
                no_wait,
                Duration::from_secs(wait_timeout),
            )
            .await
        }
        OfflineTx::Encode { file } => {
            let tx = read_tx_file(&file)?;
            let b64 = base64::engine::general_purpose::STANDARD.encode(tx_raw_bytes(&tx));
            if ctx.json() {
                print_json(&serde_json::json!({ "tx": b64 }))?;
            } else {
                crate::outln!("{b64}");
            }
            Ok(0)
        }
        OfflineTx::Decode { tx_bytes } => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(tx_bytes.trim())
                .map_err(|e| anyhow!("the tx bytes are not base64: {e}"))?;
            print_json(&tx_to_json(&tx_from_bytes(&bytes)?)?)?;
            Ok(0)
        }
        OfflineTx::Simulate { file, from } => {
            let mut tx = read_tx_file(&file)?;
            let channel = client::grpc(&node.grpc).await?;
            let has_signers = tx
                .auth_info
                .as_ref()
                .is_some_and(|a| !a.signer_infos.is_empty());
            if !has_signers {
                let from = from.ok_or_else(|| {
                    anyhow!(
                        "{} has no signer: pass --from KEY_OR_ADDRESS",
                        file.display()
                    )
                })?;
                let signer = ctx.signer(&from)?;
                let address = signer.address()?.to_string();
                let acct = client::query_account(channel.clone(), &address).await?;
                let public_key = match signer.public_key()? {
                    Some(pk) => Some(pk),
                    None => acct.as_ref().and_then(|a| a.pub_key.clone()),
                };
                let sequence = acct.map(|a| a.sequence).unwrap_or(0);
                let (info, empty) = sim_signer(public_key, SignMode::Direct, sequence);
                let auth = tx.auth_info.get_or_insert_with(Default::default);
                auth.signer_infos = vec![info];
                tx.signatures = vec![empty];
            }
            // Unsigned signers simulate with empty signatures, as Cosmos clients do.
            let signers = tx.auth_info.as_ref().map_or(0, |a| a.signer_infos.len());
            tx.signatures.resize(signers, Vec::new());
            let used = simulate(channel, tx_raw_bytes(&tx)).await?;
            if ctx.json() {
                print_json(&serde_json::json!({ "gas_estimate": used }))?;
            } else {
                crate::outln!("gas estimate: {used}");
            }
            Ok(0)
        }
    }
}

/// Account number and sequence: both flags, or the chain's (flags override either).
async fn signer_data(
    ctx: &Ctx,
    node: &NodeArgs,
    address: &str,
    offline: bool,
    account_number: Option<u64>,
    sequence: Option<u64>,
) -> Result<SignerData> {
    let chain_id = crate::home::chain_id(&ctx.home, node.chain_id.as_deref())?;
    if let (Some(account_number), Some(sequence)) = (account_number, sequence) {
        return Ok(SignerData {
            chain_id,
            account_number,
            sequence,
        });
    }
    if offline {
        bail!("--offline needs --account-number and --sequence");
    }
    let acct = client::query_account(client::grpc(&node.grpc).await?, address)
        .await?
        .ok_or_else(|| {
            anyhow!("account {address} does not exist on chain (pass --account-number and --sequence, or fund it first)")
        })?;
    warn_if_other_chain(&node.node, &chain_id).await;
    Ok(SignerData {
        chain_id,
        account_number: account_number.unwrap_or(acct.account_number),
        sequence: sequence.unwrap_or(acct.sequence),
    })
}

/// Prints `value` as JSON, or writes it to `path`.
fn emit(value: &serde_json::Value, path: Option<&Path>) -> Result<()> {
    match path {
        None => print_json(value),
        Some(p) => {
            let mut text = serde_json::to_string_pretty(value)?;
            text.push('\n');
            std::fs::write(p, text).with_context(|| format!("writing {}", p.display()))
        }
    }
}

async fn sign(ctx: &Ctx, node: &NodeArgs, args: SignArgs) -> Result<()> {
    let mut tx = read_tx_file(&args.file)?;
    let signer = ctx.signer(&args.from)?;
    let multisig_addr = match &args.multisig {
        Some(m) => Some(ctx.resolve_address(m)?),
        None => None,
    };
    let mode = args.sign_mode.unwrap_or(if multisig_addr.is_some() {
        SignModeArg::AminoJson
    } else {
        SignModeArg::Direct
    });
    if multisig_addr.is_some() && mode != SignModeArg::AminoJson {
        // A member's direct signature would cover the multisig's final signer info, which
        // does not exist until `multi-sign`: the SDK signs multisig txs in Amino JSON only.
        bail!("multisig members sign with --sign-mode amino-json");
    }
    let account = match multisig_addr {
        Some(a) => a,
        None => signer.address()?,
    };
    let data = signer_data(
        ctx,
        node,
        &account.to_string(),
        args.offline,
        args.account_number,
        args.sequence,
    )
    .await?;
    let key = signer.unlock(ctx)?;
    if multisig_addr.is_some() || args.signature_only {
        let signature = if multisig_addr.is_some() {
            key.sign(&sign_bytes(&tx, mode.proto(), &data)?)?
        } else {
            sign_single(&mut tx, &key, mode.proto(), &data)?;
            tx.signatures.first().cloned().unwrap_or_default()
        };
        let sigs = SignatureDescriptors {
            signatures: vec![SignatureDescriptor {
                public_key: Some(crate::tx::pubkey_any(key.algo(), key.public_key())),
                data: Some(Data {
                    sum: Some(data::Sum::Single(data::Single {
                        mode: mode.proto() as i32,
                        signature,
                    })),
                }),
                sequence: data.sequence,
            }],
        };
        return emit(&signatures_to_json(&sigs)?, args.output_document.as_deref());
    }
    if !tx.signatures.is_empty() {
        eprintln!(
            "warning: replacing the tx's existing signatures with {}'s",
            key.address()
        );
    }
    sign_single(&mut tx, &key, mode.proto(), &data)?;
    emit(&tx_to_json(&tx)?, args.output_document.as_deref())
}

/// The multisig key named (or addressed) by `name_or_address` in the keyring.
fn multisig_key(ctx: &Ctx, name_or_address: &str) -> Result<(Any, LegacyAminoPubKey)> {
    let info = match ctx.signer(name_or_address)? {
        Signer::Keyring(info) => info,
        _ => bail!(
            "no multisig key {name_or_address:?} in the keyring (create it with `stoad keys add NAME --multisig K1,K2,K3 --multisig-threshold 2`)"
        ),
    };
    if info.algo != Algo::Multisig {
        bail!("key {:?} is not a multisig key", info.name);
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&info.pubkey)
        .map_err(|e| anyhow!("key {:?} has a bad pubkey: {e}", info.name))?;
    let any = crate::tx::pubkey_any(Algo::Multisig, bytes);
    let key = multisig::decode_legacy_amino_pubkey(&any)?;
    Ok((any, key))
}

/// Checks one member's signature over `msg`.
fn verify(pk: &Any, msg: &[u8], sig: &[u8]) -> Result<bool> {
    let (algo, key) = multisig::single_pubkey(pk)?;
    Ok(match algo {
        Algo::Secp256k1 => {
            use k256::ecdsa::signature::Verifier;
            let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(&key)
                .map_err(|e| anyhow!("bad secp256k1 key: {e}"))?;
            match k256::ecdsa::Signature::from_slice(sig) {
                Ok(s) => vk.verify(msg, &s).is_ok(),
                Err(_) => false,
            }
        }
        Algo::Ed25519 => {
            let key: [u8; 32] = key
                .as_slice()
                .try_into()
                .map_err(|_| anyhow!("bad ed25519 key length"))?;
            let vk = ed25519_dalek::VerifyingKey::from_bytes(&key)
                .map_err(|e| anyhow!("bad ed25519 key: {e}"))?;
            match ed25519_dalek::Signature::from_slice(sig) {
                Ok(s) => vk.verify_strict(msg, &s).is_ok(),
                Err(_) => false,
            }
        }
        Algo::Multisig => bail!("a multisig key cannot be a member of a multisig key"),
    })
}

async fn multi_sign(ctx: &Ctx, node: &NodeArgs, args: MultiSignArgs) -> Result<()> {
    let mut tx = read_tx_file(&args.file)?;
    let (any, key) = multisig_key(ctx, &args.multisig_key)?;
    let address = multisig::address(&key)?;
    let data = signer_data(
        ctx,
        node,
        &address.to_string(),
        args.offline,
        args.account_number,
        args.sequence,
    )
    .await?;
    let msg = sign_bytes(&tx, SignMode::LegacyAminoJson, &data)?;
    let mut sigs: Vec<Option<Vec<u8>>> = vec![None; key.public_keys.len()];
    for path in &args.signatures {
        let descriptors = signatures_from_json(&read_text(path)?)
            .with_context(|| format!("in {}", path.display()))?;
        for d in descriptors.signatures {
            let pk = d
                .public_key
                .ok_or_else(|| anyhow!("{}: a signature without public key", path.display()))?;
            let index = key
                .public_keys
                .iter()
                .position(|k| *k == pk)
                .ok_or_else(|| {
                    anyhow!(
                        "{}: signed by {}, which is not a member of the multisig {address}",
                        path.display(),
                        multisig::address_of_any(&pk)
                            .map(|a| a.to_string())
                            .unwrap_or_default()
                    )
                })?;
            let single = match d.data.and_then(|x| x.sum) {
                Some(data::Sum::Single(s)) => s,
                _ => bail!("{}: not a single signature", path.display()),
            };
            if single.mode != SignMode::LegacyAminoJson as i32 {
                bail!(
                    "{}: signed in mode {}; multisig members sign with amino-json",
                    path.display(),
                    single.mode
                );
            }
            if d.sequence != data.sequence {
                bail!(
                    "{}: signed for sequence {}, the multisig account is at {}",
                    path.display(),
                    d.sequence,
                    data.sequence
                );
            }
            if !verify(&pk, &msg, &single.signature)? {
                bail!(
                    "{}: the signature does not verify for this tx, chain id {:?}, account number {} and sequence {}",
                    path.display(),
                    data.chain_id,
                    data.account_number,
                    data.sequence
                );
            }
            sigs[index] = Some(single.signature);
        }
    }
    let signed = sigs.iter().filter(|s| s.is_some()).count();
    if signed < key.threshold as usize {
        bail!(
            "{signed} member signature(s) given, the multisig needs {}",
            key.threshold
        );
    }
    let (mode_info, signature) = multisig::multi_signature(&sigs, SignMode::LegacyAminoJson);
    let auth = tx.auth_info.get_or_insert_with(Default::default);
    auth.signer_infos = vec![SignerInfo {
        public_key: Some(any),
        mode_info: Some(mode_info),
        sequence: data.sequence,
    }];
    tx.signatures = vec![signature];
    emit(&tx_to_json(&tx)?, args.output_document.as_deref())
}

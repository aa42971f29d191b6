//! `stoad keys add|list|show|delete|import|export`: the file keyring from the command line.

use super::Ctx;
use crate::cli::KeysCmd;
use crate::hd;
use crate::keyring::{Algo, Backend, KeyInfo, KeyRecord, PrivKey};
use crate::multisig;
use crate::output::{kv_table, print_json, table};
use anyhow::{bail, Context, Result};
use base64::Engine;
use serde_json::json;

pub fn run(ctx: &Ctx, cmd: KeysCmd) -> Result<()> {
    match cmd {
        KeysCmd::Add {
            name,
            algo,
            recover,
            mnemonic,
            multisig,
            multisig_threshold,
            nosort,
        } => {
            ensure_new_name(ctx, &name)?;
            if !multisig.is_empty() {
                let info = multisig_info(ctx, &name, &multisig, multisig_threshold, nosort)?;
                ctx.keyring.add_offline(&info)?;
                if ctx.json() {
                    return print_json(&public_json(&info));
                }
                crate::outln!("{}", public_table(&info));
                crate::outln!(
                    "(an offline multisig key: {} of {}; its members sign with `stoad tx sign --multisig {}`)",
                    multisig_threshold.unwrap_or(0),
                    multisig.len(),
                    info.address
                );
                return Ok(());
            }
            let (phrase, recovered) = match mnemonic {
                Some(m) => (m, true),
                None if recover => (read_mnemonic_from_stdin()?, true),
                None => (hd::generate_mnemonic()?, false),
            };
            let record = KeyRecord::from_mnemonic(&name, algo, &phrase)?;
            ctx.keyring.add(&record)?;
            print_new_key(ctx, &record, !recovered)
        }
        KeysCmd::List => {
            let keys = ctx.keyring.list()?;
            if ctx.json() {
                let list: Vec<_> = keys.iter().map(public_json).collect();
                return print_json(&list);
            }
            if keys.is_empty() {
                crate::outln!(
                    "no keys in {} (create one with `stoad keys add NAME`)",
                    ctx.keyring.dir().display()
                );
                return Ok(());
            }
            let mut t = table(&["Name", "Algo", "Address"]);
            for k in &keys {
                t.add_row(vec![k.name.clone(), k.algo.to_string(), k.address.clone()]);
            }
            crate::outln!("{t}");
            Ok(())
        }
        KeysCmd::Show { name, address } => {
            let k = ctx.keyring.get(&name)?;
            match (address, ctx.json()) {
                (true, true) => print_json(&json!({ "address": k.address })),
                (true, false) => {
                    crate::outln!("{}", k.address);
                    Ok(())
                }
                (false, true) => print_json(&public_json(&k)),
                (false, false) => {
                    crate::outln!("{}", public_table(&k));
                    Ok(())
                }
            }
        }
        KeysCmd::Delete { name } => {
            ctx.keyring.delete(&name)?;
            if ctx.json() {
                print_json(&json!({ "name": name, "deleted": true }))
            } else {
                crate::outln!("deleted key {name:?}");
                Ok(())
            }
        }
        KeysCmd::Import {
            name,
            mnemonic,
            private_key,
            algo,
        } => {
            ensure_new_name(ctx, &name)?;
            let record = match (mnemonic, private_key) {
                (Some(m), None) => KeyRecord::from_mnemonic(&name, algo, &m)?,
                (None, Some(hex_key)) => {
                    let key = PrivKey::from_hex(algo, &hex_key)?;
                    KeyRecord::new(&name, &key, None)
                }
                _ => bail!("give exactly one of --mnemonic \"...\" or --private-key HEX"),
            };
            ctx.keyring.add(&record)?;
            if ctx.json() {
                print_json(&public_json(&record.info))
            } else {
                crate::outln!("imported key {name:?}");
                crate::outln!("{}", public_table(&record.info));
                Ok(())
            }
        }
        KeysCmd::Export { name } => {
            let KeyRecord { info: k, secrets } = ctx.keyring.unlock(&name)?;
            if ctx.json() {
                return print_json(&json!({
                    "name": k.name,
                    "algo": k.algo,
                    "address": k.address,
                    "pubkey": k.pubkey,
                    "private_key": secrets.private_key,
                    "mnemonic": secrets.mnemonic,
                }));
            }
            eprintln!(
                "WARNING: anyone who sees the following controls the account {}",
                k.address
            );
            let mut rows = vec![
                ("name", k.name.clone()),
                ("algo", k.algo.to_string()),
                ("address", k.address.clone()),
                ("private key", secrets.private_key.clone()),
            ];
            if let Some(m) = &secrets.mnemonic {
                rows.push(("mnemonic", m.clone()));
            }
            crate::outln!("{}", kv_table(&rows));
            Ok(())
        }
    }
}

/// The key info of a multisig key made of the keyring keys `members` (names or addresses),
/// as `keys add --multisig` stores it: its public key is the LegacyAminoPubKey (base64 of its
/// protobuf bytes), its address the one the Cosmos SDK derives.
fn multisig_info(
    ctx: &Ctx,
    name: &str,
    members: &[String],
    threshold: Option<u32>,
    nosort: bool,
) -> Result<KeyInfo> {
    let threshold = threshold.context("--multisig needs --multisig-threshold")?;
    let mut keys = Vec::with_capacity(members.len());
    for m in members {
        let signer = ctx.signer(m.trim())?;
        let pk = match signer {
            super::Signer::Keyring(info) if info.algo == Algo::Multisig => {
                bail!("{m:?} is a multisig key: a multisig cannot hold one")
            }
            other => other.public_key()?.with_context(|| {
                format!("{m:?} is not a key in the keyring: its public key is unknown")
            })?,
        };
        keys.push(pk);
    }
    let key = multisig::new_multisig(threshold, keys, nosort)?;
    let address = multisig::address(&key)?;
    let any = multisig::legacy_amino_pubkey_any(key.threshold, key.public_keys);
    Ok(KeyInfo {
        name: name.to_string(),
        algo: Algo::Multisig,
        address: address.to_string(),
        pubkey: base64::engine::general_purpose::STANDARD.encode(any.value),
    })
}

/// A valid name no key has yet: `keys add` and `keys import` never overwrite.
fn ensure_new_name(ctx: &Ctx, name: &str) -> Result<()> {
    crate::keyring::validate_name(name)?;
    if ctx.keyring.exists(name)? {
        bail!(
            "a key named {name:?} already exists (delete it first with `stoad keys delete {name}`)"
        );
    }
    Ok(())
}

/// The public part of a key, as `keys show/list --output json` print it.
fn public_json(k: &KeyInfo) -> serde_json::Value {
    json!({ "name": k.name, "address": k.address, "pubkey": k.pubkey, "algo": k.algo })
}

fn public_table(k: &KeyInfo) -> comfy_table::Table {
    kv_table(&[
        ("name", k.name.clone()),
        ("algo", k.algo.to_string()),
        ("address", k.address.clone()),
        ("pubkey", k.pubkey.clone()),
    ])
}

fn print_new_key(ctx: &Ctx, record: &KeyRecord, generated: bool) -> Result<()> {
    let k = &record.info;
    if ctx.json() {
        return print_json(&json!({
            "name": k.name,
            "address": k.address,
            "pubkey": k.pubkey,
            "algo": k.algo,
            "mnemonic": record.secrets.mnemonic,
        }));
    }
    crate::outln!("{}", public_table(k));
    if generated {
        if let Some(m) = &record.secrets.mnemonic {
            crate::outln!();
            crate::outln!(
                "Write this mnemonic down and keep it safe; it is the only way to recover the key:"
            );
            crate::outln!();
            crate::outln!("{m}");
        }
    }
    crate::outln!();
    match ctx.keyring.backend() {
        Backend::File => crate::outln!(
            "(sealed with the keyring passphrase in {})",
            ctx.keyring.dir().display()
        ),
        Backend::Test => crate::outln!(
            "(stored unencrypted in {}: the test keyring)",
            ctx.keyring.dir().display()
        ),
    }
    Ok(())
}

/// The first line of stdin (a passphrase may follow on the next lines).
fn read_mnemonic_from_stdin() -> Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_line(&mut s)
        .context("reading the mnemonic from stdin")?;
    let s = s.trim();
    if s.is_empty() {
        bail!(
            "--recover needs a mnemonic: pass --mnemonic \"word1 word2 ...\" or pipe it on stdin"
        );
    }
    Ok(s.to_string())
}

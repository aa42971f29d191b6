//! `stoad config [KEY [VALUE]]`: lists, reads or sets one key of HOME/config/client.toml.

use super::Ctx;
use crate::client_config::{self, ClientConfig, KEYS};
use crate::home;
use crate::output::{print_json, table};
use anyhow::Result;
use clap::Args;
use serde_json::{json, Map, Value};

#[derive(Args, Debug)]
pub struct ConfigArgs {
    /// One of chain-id, node, grpc, keyring-backend, output, broadcast-mode.
    pub key: Option<String>,
    /// The new value ("" unsets the key).
    pub value: Option<String>,
}

pub fn run(ctx: &Ctx, args: ConfigArgs) -> Result<()> {
    let path = home::client_toml_path(&ctx.home);
    match (args.key, args.value) {
        (None, _) => {
            let c = ClientConfig::load(&ctx.home)?;
            if ctx.json() {
                let mut m = Map::new();
                for (k, _) in KEYS {
                    m.insert(k.to_string(), c.get(k)?.map_or(Value::Null, Value::from));
                }
                return print_json(&Value::Object(m));
            }
            crate::outln!("{}", path.display());
            let mut t = table(&["Key", "Value", "Meaning"]);
            for (k, meaning) in KEYS {
                t.add_row(vec![
                    k.to_string(),
                    c.get(k)?.unwrap_or("(unset)").to_string(),
                    meaning.to_string(),
                ]);
            }
            crate::outln!("{t}");
            Ok(())
        }
        (Some(key), None) => {
            let c = ClientConfig::load(&ctx.home)?;
            let v = c.get(&key)?;
            if ctx.json() {
                return print_json(&json!({ key: v }));
            }
            crate::outln!("{}", v.unwrap_or(""));
            Ok(())
        }
        (Some(key), Some(value)) => {
            client_config::set(&ctx.home, &key, &value)?;
            let c = ClientConfig::load(&ctx.home)?;
            let v = c.get(&key)?;
            if ctx.json() {
                return print_json(&json!({ key: v }));
            }
            crate::outln!("{key} = {:?} in {}", v.unwrap_or(""), path.display());
            Ok(())
        }
    }
}

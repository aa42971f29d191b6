//! Shared helpers for the app's integration tests: keys of both schemes, a funded genesis,
//! signed Cosmos SDK txs, and driving `StoaApp` through its ABCI methods.
#![allow(dead_code)]

use cosmos_sdk_proto::cosmos::bank::v1beta1::{MsgSend, QueryBalanceRequest, QueryBalanceResponse};
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{
    mode_info, AuthInfo, Fee, ModeInfo, SignDoc, SignerInfo, TxBody, TxRaw,
};
use prost::Message;
use stoa_app::{AppOptions, StoaApp};
use stoa_bank::PubKey;
use stoa_framework::{Address, Store};
use tendermint_abci::Application;
use tendermint_proto::google::protobuf::{Any, Timestamp};
use tendermint_proto::v0_38::abci::{
    ExecTxResult, RequestCheckTx, RequestFinalizeBlock, RequestInitChain, RequestQuery,
    ResponseFinalizeBlock,
};

pub const CHAIN_ID: &str = "stoa-test-1";
pub const FUNDS: u128 = 1_000_000_000;

#[derive(Clone)]
pub enum Key {
    Secp(k256::ecdsa::SigningKey),
    Ed(ed25519_dalek::SigningKey),
}

impl Key {
    pub fn secp(seed: u64) -> Key {
        let mut b = [0u8; 32];
        b[..8].copy_from_slice(&seed.to_be_bytes());
        b[31] = 1;
        Key::Secp(k256::ecdsa::SigningKey::from_slice(&b).expect("valid scalar"))
    }

    pub fn ed(seed: u64) -> Key {
        let mut b = [0u8; 32];
        b[..8].copy_from_slice(&seed.to_be_bytes());
        b[31] = 2;
        Key::Ed(ed25519_dalek::SigningKey::from_bytes(&b))
    }

    pub fn pub_key(&self) -> PubKey {
        match self {
            Key::Secp(k) => {
                let p = k.verifying_key().to_encoded_point(true);
                PubKey::Secp256k1(p.as_bytes().try_into().expect("33 bytes"))
            }
            Key::Ed(k) => PubKey::Ed25519(k.verifying_key().to_bytes()),
        }
    }

    pub fn address(&self) -> Address {
        self.pub_key().address()
    }

    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        match self {
            Key::Secp(k) => {
                use k256::ecdsa::signature::Signer;
                let sig: k256::ecdsa::Signature = k.sign(msg);
                sig.normalize_s().unwrap_or(sig).to_bytes().to_vec()
            }
            Key::Ed(k) => {
                use ed25519_dalek::Signer;
                k.sign(msg).to_bytes().to_vec()
            }
        }
    }
}

fn to_tm_any(a: stoa_framework::Any) -> Any {
    Any {
        type_url: a.type_url,
        value: a.value,
    }
}

/// Everything a test may vary in a tx.
#[derive(Clone)]
pub struct TxSpec {
    pub chain_id: String,
    pub account_number: u64,
    pub sequence: u64,
    pub msgs: Vec<Any>,
    pub fee: Vec<(u128, &'static str)>,
    pub gas_limit: u64,
    pub memo: String,
    pub timeout_height: u64,
    pub include_pub_key: bool,
}

impl TxSpec {
    pub fn new(account_number: u64, sequence: u64, msgs: Vec<Any>) -> Self {
        TxSpec {
            chain_id: CHAIN_ID.into(),
            account_number,
            sequence,
            msgs,
            fee: vec![(200, "ustor")],
            gas_limit: 200_000,
            memo: String::new(),
            timeout_height: 0,
            include_pub_key: true,
        }
    }
}

pub fn msg_send(from: &Address, to: &Address, amount: &[(u128, &str)]) -> Any {
    let m = MsgSend {
        from_address: from.to_string(),
        to_address: to.to_string(),
        amount: amount
            .iter()
            .map(|(a, d)| ProtoCoin {
                denom: d.to_string(),
                amount: a.to_string(),
            })
            .collect(),
    };
    Any {
        type_url: "/cosmos.bank.v1beta1.MsgSend".into(),
        value: m.encode_to_vec(),
    }
}

pub fn build_tx(key: &Key, spec: &TxSpec) -> Vec<u8> {
    let body = TxBody {
        messages: spec.msgs.clone(),
        memo: spec.memo.clone(),
        timeout_height: spec.timeout_height,
        extension_options: vec![],
        non_critical_extension_options: vec![],
    };
    #[allow(deprecated)]
    let auth_info = AuthInfo {
        signer_infos: vec![SignerInfo {
            public_key: spec
                .include_pub_key
                .then(|| to_tm_any(key.pub_key().to_any())),
            mode_info: Some(ModeInfo {
                sum: Some(mode_info::Sum::Single(mode_info::Single {
                    mode: SignMode::Direct as i32,
                })),
            }),
            sequence: spec.sequence,
        }],
        fee: Some(Fee {
            amount: spec
                .fee
                .iter()
                .map(|(a, d)| ProtoCoin {
                    denom: d.to_string(),
                    amount: a.to_string(),
                })
                .collect(),
            gas_limit: spec.gas_limit,
            payer: String::new(),
            granter: String::new(),
        }),
        tip: None,
    };
    let body_bytes = body.encode_to_vec();
    let auth_info_bytes = auth_info.encode_to_vec();
    let doc = SignDoc {
        body_bytes: body_bytes.clone(),
        auth_info_bytes: auth_info_bytes.clone(),
        chain_id: spec.chain_id.clone(),
        account_number: spec.account_number,
    };
    let sig = key.sign(&doc.encode_to_vec());
    TxRaw {
        body_bytes,
        auth_info_bytes,
        signatures: vec![sig],
    }
    .encode_to_vec()
}

/// The default genesis with `FUNDS` of ustor, ucomp and uusdc for each address.
pub fn genesis_with(funded: &[Address]) -> serde_json::Value {
    let mut state = stoa_app::default_app_state();
    let balances = state["bank"]["balances"]
        .as_array_mut()
        .expect("balances list");
    for a in funded {
        balances.push(serde_json::json!({
            "address": a.to_string(),
            "coins": [
                {"denom": "ucomp", "amount": FUNDS.to_string()},
                {"denom": "ustor", "amount": FUNDS.to_string()},
                {"denom": "uusdc", "amount": FUNDS.to_string()},
            ]
        }));
    }
    state
}

/// `genesis` without the sections of modules `app`'s router does not hold (a test router with
/// fewer modules than the chain's): InitChain refuses a section no module owns.
pub fn sections_of(app: &StoaApp, mut genesis: serde_json::Value) -> serde_json::Value {
    if let Some(obj) = genesis.as_object_mut() {
        obj.retain(|k, _| matches!(k.as_str(), "tx" | "fw") || app.router().by_name(k).is_some());
    }
    genesis
}

pub fn new_app(store: Store, check_invariants: bool) -> StoaApp {
    let opts = AppOptions {
        min_gas_prices: stoa_app::config::parse_gas_prices("0.001ustor,0.001ucomp,0.0001uusdc")
            .unwrap(),
        check_invariants,
    };
    StoaApp::new(store, opts)
}

pub fn init(app: &StoaApp, genesis: &serde_json::Value) -> Vec<u8> {
    let r = app.init_chain(RequestInitChain {
        time: Some(Timestamp {
            seconds: 1_700_000_000,
            nanos: 0,
        }),
        chain_id: CHAIN_ID.into(),
        consensus_params: None,
        validators: vec![],
        app_state_bytes: serde_json::to_vec(genesis).unwrap().into(),
        initial_height: 1,
    });
    r.app_hash.to_vec()
}

pub fn block_request(height: u64, txs: &[Vec<u8>]) -> RequestFinalizeBlock {
    let mut hash = [0u8; 32];
    hash[..8].copy_from_slice(&height.to_be_bytes());
    RequestFinalizeBlock {
        txs: txs.iter().map(|t| t.clone().into()).collect(),
        decided_last_commit: None,
        misbehavior: vec![],
        hash: hash.to_vec().into(),
        height: height as i64,
        time: Some(Timestamp {
            seconds: 1_700_000_000 + 5 * height as i64,
            nanos: 0,
        }),
        next_validators_hash: Default::default(),
        proposer_address: vec![1u8; 20].into(),
    }
}

/// FinalizeBlock + Commit of the next height; the response.
pub fn run_block(app: &StoaApp, txs: &[Vec<u8>]) -> ResponseFinalizeBlock {
    let height = app.last_commit().0 + 1;
    let r = app.finalize_block(block_request(height, txs));
    assert_eq!(r.tx_results.len(), txs.len(), "a result for every tx");
    Application::commit(app);
    r
}

pub fn check(app: &StoaApp, tx: &[u8]) -> tendermint_proto::v0_38::abci::ResponseCheckTx {
    app.check_tx(RequestCheckTx {
        tx: tx.to_vec().into(),
        r#type: 0,
    })
}

pub fn balance(app: &StoaApp, addr: &Address, denom: &str) -> u128 {
    let req = QueryBalanceRequest {
        address: addr.to_string(),
        denom: denom.into(),
    };
    let r = app.query(RequestQuery {
        data: req.encode_to_vec().into(),
        path: "/cosmos.bank.v1beta1.Query/Balance".into(),
        height: 0,
        prove: false,
    });
    assert_eq!(r.code, 0, "balance query failed: {}", r.log);
    let resp = QueryBalanceResponse::decode(r.value.as_ref()).unwrap();
    resp.balance.map(|c| c.amount.parse().unwrap()).unwrap_or(0)
}

/// (account_number, sequence) via `cosmos.auth.v1beta1.Query/Account`.
pub fn account(app: &StoaApp, addr: &Address) -> Option<(u64, u64)> {
    use cosmos_sdk_proto::cosmos::auth::v1beta1::{
        BaseAccount, QueryAccountRequest, QueryAccountResponse,
    };
    let req = QueryAccountRequest {
        address: addr.to_string(),
    };
    let r = app.query(RequestQuery {
        data: req.encode_to_vec().into(),
        path: "/cosmos.auth.v1beta1.Query/Account".into(),
        height: 0,
        prove: false,
    });
    if r.code != 0 {
        return None;
    }
    let resp = QueryAccountResponse::decode(r.value.as_ref()).unwrap();
    let acc = BaseAccount::decode(resp.account.unwrap().value.as_slice()).unwrap();
    Some((acc.account_number, acc.sequence))
}

pub fn assert_code(r: &ExecTxResult, codespace: &str, code: u32, log_part: &str) {
    assert_eq!(
        (r.codespace.as_str(), r.code),
        (codespace, code),
        "log: {}",
        r.log
    );
    assert!(
        r.log.contains(log_part),
        "log {:?} should mention {:?}",
        r.log,
        log_part
    );
}

pub fn event_attr<'a>(r: &'a ExecTxResult, kind: &str, key: &str) -> Vec<&'a str> {
    r.events
        .iter()
        .filter(|e| e.r#type == kind)
        .flat_map(|e| {
            e.attributes
                .iter()
                .filter(|a| a.key == key)
                .map(|a| a.value.as_str())
        })
        .collect()
}

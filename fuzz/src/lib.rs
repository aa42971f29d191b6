//! Shared pieces of the fuzz targets: one funded chain kept across inputs, a fixed signing key,
//! and a builder of signed Cosmos SDK txs (the seed corpus is built with it too, so the seeds
//! are real txs this chain executes).

use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{
    mode_info, AuthInfo, Fee, ModeInfo, SignDoc, SignerInfo, TxBody, TxRaw,
};
use prost::Message;
use std::sync::{Mutex, OnceLock};
use stoa_app::modules::Router;
use stoa_app::{AppOptions, StoaApp};
use stoa_bank::PubKey;
use stoa_framework::{Address, Store};
use tendermint_proto::google::protobuf::{Any, Timestamp};
use tendermint_proto::v0_38::abci::{RequestFinalizeBlock, RequestInitChain};

pub use tendermint_abci::Application;

pub const CHAIN_ID: &str = "stoa-fuzz-1";
pub const FUNDS: u128 = 1_000_000_000_000;

/// The router every target decodes with.
pub fn router() -> &'static Router {
    static R: OnceLock<Router> = OnceLock::new();
    R.get_or_init(Router::standard)
}

/// The sender's key (secp256k1, fixed).
pub fn alice_key() -> k256::ecdsa::SigningKey {
    let mut b = [0u8; 32];
    b[0] = 0xa1;
    b[31] = 1;
    k256::ecdsa::SigningKey::from_slice(&b).expect("a valid scalar")
}

pub fn alice_pub() -> PubKey {
    let p = alice_key().verifying_key().to_encoded_point(true);
    PubKey::Secp256k1(p.as_bytes().try_into().expect("33 bytes"))
}

pub fn alice() -> Address {
    alice_pub().address()
}

/// A second account, funded too.
pub fn bob() -> Address {
    Address([0xb0; 20])
}

/// What a fuzz input may vary in a signed tx.
#[derive(Clone, Debug, Default)]
pub struct Spec {
    pub msgs: Vec<Any>,
    pub fee: Vec<(String, String)>,
    pub gas_limit: u64,
    pub memo: String,
    pub timeout_height: u64,
    pub account_number: u64,
    pub sequence: u64,
}

pub fn msg_send(to: &str, amount: &[(String, String)]) -> Any {
    Any {
        type_url: "/cosmos.bank.v1beta1.MsgSend".into(),
        value: MsgSend {
            from_address: alice().to_string(),
            to_address: to.into(),
            amount: amount
                .iter()
                .map(|(d, a)| ProtoCoin {
                    denom: d.clone(),
                    amount: a.clone(),
                })
                .collect(),
        }
        .encode_to_vec(),
    }
}

/// A tx signed by alice (SIGN_MODE_DIRECT, her key included).
pub fn signed_tx(spec: &Spec) -> Vec<u8> {
    let body = TxBody {
        messages: spec.msgs.clone(),
        memo: spec.memo.clone(),
        timeout_height: spec.timeout_height,
        extension_options: vec![],
        non_critical_extension_options: vec![],
    };
    let pk = alice_pub().to_any();
    #[allow(deprecated)]
    let auth = AuthInfo {
        signer_infos: vec![SignerInfo {
            public_key: Some(Any {
                type_url: pk.type_url,
                value: pk.value,
            }),
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
                .map(|(d, a)| ProtoCoin {
                    denom: d.clone(),
                    amount: a.clone(),
                })
                .collect(),
            gas_limit: spec.gas_limit,
            payer: String::new(),
            granter: String::new(),
        }),
        tip: None,
    };
    let body_bytes = body.encode_to_vec();
    let auth_info_bytes = auth.encode_to_vec();
    let doc = SignDoc {
        body_bytes: body_bytes.clone(),
        auth_info_bytes: auth_info_bytes.clone(),
        chain_id: CHAIN_ID.into(),
        account_number: spec.account_number,
    }
    .encode_to_vec();
    use k256::ecdsa::signature::Signer;
    let sig: k256::ecdsa::Signature = alice_key().sign(&doc);
    let sig = sig.normalize_s().unwrap_or(sig);
    TxRaw {
        body_bytes,
        auth_info_bytes,
        signatures: vec![sig.to_bytes().to_vec()],
    }
    .encode_to_vec()
}

/// A plain valid send of `amount` ustor to bob at `sequence`.
pub fn plain_send(sequence: u64, amount: u128) -> Vec<u8> {
    signed_tx(&Spec {
        msgs: vec![msg_send(
            &bob().to_string(),
            &[("ustor".into(), amount.to_string())],
        )],
        fee: vec![("ustor".into(), "200".into())],
        gas_limit: 200_000,
        sequence,
        ..Default::default()
    })
}

/// The genesis: the default app state with alice and bob funded.
pub fn genesis() -> serde_json::Value {
    let mut state = stoa_app::default_app_state();
    let balances = state["bank"]["balances"]
        .as_array_mut()
        .expect("balances list");
    for a in [alice(), bob()] {
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

/// A chain at height 1 (invariants checked after every block: a broken one halts, which the
/// fuzzer reports as a crash).
pub fn new_chain() -> StoaApp {
    let app = StoaApp::new(
        Store::open_temporary().expect("a temporary store"),
        AppOptions {
            min_gas_prices: stoa_app::config::parse_gas_prices("0.001ustor").expect("prices"),
            check_invariants: true,
        },
    );
    app.init_chain(RequestInitChain {
        time: Some(Timestamp {
            seconds: 1_700_000_000,
            nanos: 0,
        }),
        chain_id: CHAIN_ID.into(),
        consensus_params: None,
        validators: vec![],
        app_state_bytes: serde_json::to_vec(&genesis()).expect("json").into(),
        initial_height: 1,
    });
    run_block(&app, &[]);
    app
}

/// The chain the targets share, behind a lock (libFuzzer runs inputs one at a time).
pub fn chain() -> &'static Mutex<StoaApp> {
    static C: OnceLock<Mutex<StoaApp>> = OnceLock::new();
    C.get_or_init(|| Mutex::new(new_chain()))
}

/// FinalizeBlock + Commit of the next height.
pub fn run_block(
    app: &StoaApp,
    txs: &[Vec<u8>],
) -> tendermint_proto::v0_38::abci::ResponseFinalizeBlock {
    let height = app.last_commit().0 + 1;
    let mut hash = [0u8; 32];
    hash[..8].copy_from_slice(&height.to_be_bytes());
    let r = app.finalize_block(RequestFinalizeBlock {
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
    });
    app.commit();
    r
}

/// alice's (account number, sequence).
pub fn account(app: &StoaApp, who: &Address) -> (u64, u64) {
    use cosmos_sdk_proto::cosmos::auth::v1beta1::{
        BaseAccount, QueryAccountRequest, QueryAccountResponse,
    };
    let req = QueryAccountRequest {
        address: who.to_string(),
    };
    let (bytes, _) = stoa_app::query::grpc_query(
        app.store(),
        app.router(),
        "/cosmos.auth.v1beta1.Query/Account",
        &req.encode_to_vec(),
        0,
    )
    .expect("account query");
    let resp = QueryAccountResponse::decode(bytes.as_slice()).expect("response");
    let acc = BaseAccount::decode(resp.account.expect("account").value.as_slice()).expect("acc");
    (acc.account_number, acc.sequence)
}

pub fn balance(app: &StoaApp, who: &Address, denom: &str) -> u128 {
    use cosmos_sdk_proto::cosmos::bank::v1beta1::{QueryBalanceRequest, QueryBalanceResponse};
    let req = QueryBalanceRequest {
        address: who.to_string(),
        denom: denom.into(),
    };
    let (bytes, _) = stoa_app::query::grpc_query(
        app.store(),
        app.router(),
        "/cosmos.bank.v1beta1.Query/Balance",
        &req.encode_to_vec(),
        0,
    )
    .expect("balance query");
    QueryBalanceResponse::decode(bytes.as_slice())
        .expect("response")
        .balance
        .map(|c| c.amount.parse().expect("amount"))
        .unwrap_or(0)
}

/// One tx through CheckTx and ProcessProposal and, if `finalize`, a block of its own, with the
/// checks every target shares: nothing panics (the app halts on a broken supply invariant);
/// a tx that fails in the block moves nothing to bob; a tx CheckTx calls undecodable never
/// passes in a block.
pub fn run_tx(raw: &[u8], finalize: bool) {
    use tendermint_proto::v0_38::abci::{RequestCheckTx, RequestProcessProposal};
    let app = chain().lock().unwrap_or_else(|p| p.into_inner());
    let c = app.check_tx(RequestCheckTx {
        tx: raw.to_vec().into(),
        r#type: 0,
    });
    let _ = app.process_proposal(RequestProcessProposal {
        txs: vec![raw.to_vec().into()],
        height: app.last_commit().0 as i64 + 1,
        ..Default::default()
    });
    if !finalize {
        return;
    }
    let bob_before = balance(&app, &bob(), "ustor");
    let r = run_block(&app, &[raw.to_vec()]);
    let res = &r.tx_results[0];
    if res.code != 0 {
        assert_eq!(
            balance(&app, &bob(), "ustor"),
            bob_before,
            "a failed tx moved coins"
        );
    }
    if res.code == 0 {
        assert!(
            !(c.codespace == "sdk" && c.code == 2),
            "CheckTx said undecodable, the block ran it: {}",
            c.log
        );
    }
}

//! The module list, in the fixed order the block lifecycle runs them, and the router that finds
//! a module by name and a handler by message type URL or query path. Adding a module is one
//! crate plus one line in `modules()`.

use crate::tx::decode::wire::{msg_schema, Schema};
use std::collections::BTreeMap;
use std::sync::Arc;
use stoa_framework::{
    sdk, CheckedMsg, Ctx, ErasedMsgHandler, Module, ModuleAccountSpec, QueryFn, Registrar,
    StoaError, StoaResult,
};

/// Every module of the chain, in execution order.
pub fn modules() -> Vec<Box<dyn Module>> {
    vec![
        Box::new(stoa_bank::BankModule::new()), // accounts, balances, supply, fee collector
        Box::new(stoa_storage::StorageModule::new(stoa_bank::BankKeeper)), // storage market
        Box::new(stoa_compute::ComputeModule::new(stoa_bank::BankKeeper)), // compute market
        Box::new(stoa_intelligence::IntelligenceModule::new(
            stoa_bank::BankKeeper,
        )), // intelligence market
    ]
}

/// A message type's handler and the module that registered it.
#[derive(Clone)]
pub struct MsgRoute {
    pub module: &'static str,
    pub handler: Arc<dyn ErasedMsgHandler>,
    /// The wire schema strict decoding checks the message's bytes against.
    pub schema: &'static Schema,
}

impl MsgRoute {
    /// Runs the handler in its module's write scope.
    pub fn execute(&self, ctx: &mut Ctx<'_>, checked: &CheckedMsg) -> StoaResult<Vec<u8>> {
        ctx.in_module(self.module, |ctx| self.handler.execute(ctx, checked))
    }
}

/// A query method and the module that registered it.
#[derive(Clone)]
pub struct QueryRoute {
    pub module: &'static str,
    pub run: Arc<QueryFn>,
}

impl QueryRoute {
    pub fn query(&self, ctx: &mut Ctx<'_>, request: &[u8]) -> StoaResult<Vec<u8>> {
        ctx.in_module(self.module, |ctx| (self.run)(ctx, request))
    }
}

/// The modules with lookup tables built once. Maps are only looked up, never iterated for
/// consensus work (module order comes from the `Vec`).
pub struct Router {
    modules: Vec<Box<dyn Module>>,
    by_msg: BTreeMap<String, MsgRoute>,
    by_query: BTreeMap<String, QueryRoute>,
    by_name: BTreeMap<&'static str, usize>,
}

impl Router {
    /// Collects every module's handlers. A module name, message type URL or query path
    /// registered twice is an error: the node must not start with an ambiguous route.
    pub fn new(modules: Vec<Box<dyn Module>>) -> StoaResult<Self> {
        let mut by_msg = BTreeMap::new();
        let mut by_query = BTreeMap::new();
        let mut by_name = BTreeMap::new();
        let mut amino_names: BTreeMap<&'static str, String> = BTreeMap::new();
        let dup = |what: &str, name: &str, a: &str, b: &str| -> StoaError {
            sdk::INVALID_REQUEST.with(format!("{what} {name} is registered by {a} and by {b}"))
        };
        for (i, m) in modules.iter().enumerate() {
            let name = m.name();
            if let Some(j) = by_name.insert(name, i) {
                return Err(dup("module", name, modules[j].name(), name));
            }
            let mut r = Registrar::new(name);
            m.register(&mut r);
            let (msgs, queries) = r.into_parts();
            for (url, handler) in msgs {
                // Strict decoding checks a message's bytes against its proto descriptor.
                let Some(schema) = msg_schema(&url) else {
                    return Err(sdk::INVALID_REQUEST.with(format!(
                        "message type {url} of module {name} has no proto descriptor (add its \
                         file to proto/build.rs)"
                    )));
                };
                let amino = handler.amino_name();
                if amino.is_empty() || amino.chars().count() > crate::tx::amino::MAX_AMINO_NAME {
                    return Err(sdk::INVALID_REQUEST.with(format!(
                        "message type {url} has amino name {amino:?}: it must have 1 to {} \
                         characters (a Ledger refuses longer ones)",
                        crate::tx::amino::MAX_AMINO_NAME
                    )));
                }
                if let Some(other) = amino_names.insert(amino, url.clone()) {
                    return Err(dup("amino name", amino, &other, &url));
                }
                let route = MsgRoute {
                    module: name,
                    handler,
                    schema,
                };
                if let Some(old) = by_msg.insert(url.clone(), route) {
                    return Err(dup("message type", &url, old.module, name));
                }
            }
            for (path, run) in queries {
                let route = QueryRoute { module: name, run };
                if let Some(old) = by_query.insert(path.clone(), route) {
                    return Err(dup("query path", &path, old.module, name));
                }
            }
        }
        Ok(Router {
            modules,
            by_msg,
            by_query,
            by_name,
        })
    }

    pub fn standard() -> Self {
        // The standard modules are fixed at compile time; a test checks they build a router.
        Self::new(modules()).unwrap_or_else(|e| panic!("the standard module list: {e}"))
    }

    pub fn modules(&self) -> &[Box<dyn Module>] {
        &self.modules
    }

    pub fn by_name(&self, name: &str) -> Option<&dyn Module> {
        self.by_name.get(name).map(|i| self.modules[*i].as_ref())
    }

    pub fn for_msg(&self, type_url: &str) -> StoaResult<&MsgRoute> {
        self.by_msg.get(type_url).ok_or_else(|| {
            sdk::UNKNOWN_REQUEST.with(format!("unrecognized message type: {type_url}"))
        })
    }

    pub fn for_query(&self, path: &str) -> Option<&QueryRoute> {
        self.by_query.get(path)
    }

    /// Every query path a module answers, sorted.
    pub fn query_paths(&self) -> impl Iterator<Item = &str> {
        self.by_query.keys().map(String::as_str)
    }

    /// Every message type URL a module handles, sorted.
    pub fn msg_type_urls(&self) -> impl Iterator<Item = &str> {
        self.by_msg.keys().map(String::as_str)
    }

    /// Every module account of every module, for the bank at genesis.
    pub fn module_accounts(&self) -> Vec<ModuleAccountSpec> {
        self.modules
            .iter()
            .flat_map(|m| m.module_accounts())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_modules_build_a_router_and_a_duplicate_is_refused() {
        let router = Router::new(modules()).unwrap();
        assert!(router.for_msg("/cosmos.bank.v1beta1.MsgSend").is_ok());
        let twice: Vec<Box<dyn Module>> = vec![
            Box::new(stoa_bank::BankModule::new()),
            Box::new(stoa_bank::BankModule::new()),
        ];
        let err = Router::new(twice).err().unwrap();
        assert!(err.log.contains("module bank is registered"), "{}", err.log);
    }
}

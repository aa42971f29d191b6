//! The module list, in the fixed order the block lifecycle runs them, and the router that finds
//! a module by name, message type URL or query path. Adding a module is one crate plus one line
//! in `modules()`.

use std::collections::BTreeMap;
use stoa_framework::{sdk, Module, ModuleAccountSpec, StoaResult};

/// Every module of the chain, in execution order.
pub fn modules() -> Vec<Box<dyn Module>> {
    vec![
        Box::new(stoa_bank::BankModule::new()), // accounts, balances, supply, fee collector
    ]
}

/// The modules with lookup tables built once. Maps are only looked up, never iterated for
/// consensus work (module order comes from the `Vec`).
pub struct Router {
    modules: Vec<Box<dyn Module>>,
    by_msg: BTreeMap<&'static str, usize>,
    by_query: BTreeMap<&'static str, usize>,
    by_name: BTreeMap<&'static str, usize>,
}

impl Router {
    pub fn new(modules: Vec<Box<dyn Module>>) -> Self {
        let mut by_msg = BTreeMap::new();
        let mut by_query = BTreeMap::new();
        let mut by_name = BTreeMap::new();
        for (i, m) in modules.iter().enumerate() {
            by_name.insert(m.name(), i);
            for url in m.msg_type_urls() {
                by_msg.insert(*url, i);
            }
            for path in m.query_paths() {
                by_query.insert(*path, i);
            }
        }
        Router {
            modules,
            by_msg,
            by_query,
            by_name,
        }
    }

    pub fn standard() -> Self {
        Self::new(modules())
    }

    pub fn modules(&self) -> &[Box<dyn Module>] {
        &self.modules
    }

    pub fn by_name(&self, name: &str) -> Option<&dyn Module> {
        self.by_name.get(name).map(|i| self.modules[*i].as_ref())
    }

    pub fn for_msg(&self, type_url: &str) -> StoaResult<&dyn Module> {
        self.by_msg
            .get(type_url)
            .map(|i| self.modules[*i].as_ref())
            .ok_or_else(|| {
                sdk::UNKNOWN_REQUEST.with(format!("unrecognized message type: {type_url}"))
            })
    }

    pub fn for_query(&self, path: &str) -> Option<&dyn Module> {
        self.by_query.get(path).map(|i| self.modules[*i].as_ref())
    }

    /// Every query path some module answers, in byte order (for listings and checks; the
    /// generic gRPC route looks paths up with `for_query`).
    pub fn query_paths(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.by_query.keys().copied()
    }

    /// Every module account of every module, for the bank at genesis.
    pub fn module_accounts(&self) -> Vec<ModuleAccountSpec> {
        self.modules
            .iter()
            .flat_map(|m| m.module_accounts())
            .collect()
    }
}

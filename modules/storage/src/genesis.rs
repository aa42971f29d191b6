//! The storage module's genesis section: its params (market state does not survive an export
//! yet: a chain starts with no providers).

use crate::params::StorageParams;
use serde::{Deserialize, Serialize};
use stoa_framework::{params, sdk, Ctx, Params, StoaError};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageGenesis {
    pub params: StorageParams,
}

impl StorageGenesis {
    pub fn from_json(v: &serde_json::Value) -> Result<Self, StoaError> {
        serde_json::from_value(v.clone())
            .map_err(|e| sdk::JSON_UNMARSHAL.with(format!("storage genesis: {e}")))
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    pub fn validate(&self) -> Result<(), StoaError> {
        self.params.validate()
    }
}

pub fn init(ctx: &mut Ctx<'_>, g: &StorageGenesis) -> Result<(), StoaError> {
    params::store(ctx, &g.params)
}

pub fn export(ctx: &mut Ctx<'_>) -> Result<StorageGenesis, StoaError> {
    Ok(StorageGenesis {
        params: (*params::load::<StorageParams>(ctx)?).clone(),
    })
}

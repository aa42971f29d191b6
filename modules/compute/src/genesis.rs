//! The compute module's genesis section: its params. (Devices, stakes and leases are not yet
//! exported: an export of a running chain keeps only the params.)

use crate::params::ComputeParams;
use serde::{Deserialize, Serialize};
use stoa_framework::{params, sdk, Ctx, Params, StoaError};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComputeGenesis {
    pub params: ComputeParams,
}

impl ComputeGenesis {
    pub fn from_json(v: &serde_json::Value) -> Result<Self, StoaError> {
        serde_json::from_value(v.clone())
            .map_err(|e| sdk::JSON_UNMARSHAL.with(format!("compute genesis: {e}")))
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    pub fn validate(&self) -> Result<(), StoaError> {
        self.params.validate()
    }
}

pub fn init(ctx: &mut Ctx<'_>, g: &ComputeGenesis) -> Result<(), StoaError> {
    params::store(ctx, &g.params)
}

pub fn export(ctx: &mut Ctx<'_>) -> Result<ComputeGenesis, StoaError> {
    Ok(ComputeGenesis {
        params: (*crate::params::load(ctx)?).clone(),
    })
}

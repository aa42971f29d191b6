//! The module's genesis section: its params; the root subnet (netuid 0) is created at init.
//! (Subnets and neurons are not exported yet: an export restarts the market empty.)

use crate::handler::new_subnet;
use crate::params::IntelligenceParams;
use crate::state::SUBNETS;
use serde::{Deserialize, Serialize};
use stoa_framework::{params, sdk, Ctx, Params, StoaError};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntelligenceGenesis {
    pub params: IntelligenceParams,
}

impl IntelligenceGenesis {
    pub fn from_json(v: &serde_json::Value) -> Result<Self, StoaError> {
        serde_json::from_value(v.clone())
            .map_err(|e| sdk::JSON_UNMARSHAL.with(format!("intelligence genesis: {e}")))
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    pub fn validate(&self) -> Result<(), StoaError> {
        self.params.validate()
    }
}

pub fn init(ctx: &mut Ctx<'_>, g: &IntelligenceGenesis) -> Result<(), StoaError> {
    params::store(ctx, &g.params)?;
    if !SUBNETS.has(ctx, &0)? {
        let root = new_subnet(0, String::new(), 0, &g.params, ctx.height());
        SUBNETS.save(ctx, &0, &root)?;
    }
    Ok(())
}

pub fn export(ctx: &mut Ctx<'_>) -> Result<IntelligenceGenesis, StoaError> {
    Ok(IntelligenceGenesis {
        params: (*params::load::<IntelligenceParams>(ctx)?).clone(),
    })
}

//! The template module's genesis section: its params (notes do not survive an export; a real
//! market would export its state too).

use crate::params::TemplateParams;
use serde::{Deserialize, Serialize};
use stoa_framework::{params, sdk, Ctx, Params, StoaError};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateGenesis {
    pub params: TemplateParams,
}

impl TemplateGenesis {
    pub fn from_json(v: &serde_json::Value) -> Result<Self, StoaError> {
        serde_json::from_value(v.clone())
            .map_err(|e| sdk::JSON_UNMARSHAL.with(format!("template genesis: {e}")))
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    pub fn validate(&self) -> Result<(), StoaError> {
        self.params.validate()
    }
}

pub fn init(ctx: &mut Ctx<'_>, g: &TemplateGenesis) -> Result<(), StoaError> {
    params::store(ctx, &g.params)
}

pub fn export(ctx: &mut Ctx<'_>) -> Result<TemplateGenesis, StoaError> {
    Ok(TemplateGenesis {
        params: (*params::load::<TemplateParams>(ctx)?).clone(),
    })
}

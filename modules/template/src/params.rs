//! The template module's params: the deposit a note holds and the longest lifetime it may ask.

use serde::{Deserialize, Serialize};
use stoa_framework::{sdk, Params, StoaError};
use stoa_proto::template::v1 as pb;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateParams {
    /// Base units of `deposit_denom`, as a decimal string in JSON.
    #[serde(with = "stoa_framework::coins::amount_string")]
    pub deposit: u128,
    pub deposit_denom: String,
    pub max_lifetime_seconds: u64,
}

impl Default for TemplateParams {
    fn default() -> Self {
        TemplateParams {
            deposit: 1_000,
            deposit_denom: "ustor".into(),
            max_lifetime_seconds: 3_600,
        }
    }
}

impl Params for TemplateParams {
    const KEY: &'static [u8] = b"template/params";

    fn validate(&self) -> Result<(), StoaError> {
        stoa_framework::validate_denom(&self.deposit_denom)?;
        if self.max_lifetime_seconds == 0 {
            return Err(sdk::INVALID_REQUEST.with("max_lifetime_seconds must be positive"));
        }
        Ok(())
    }
}

impl TemplateParams {
    pub fn to_proto(&self) -> pb::Params {
        pb::Params {
            deposit_amount: self.deposit.to_string(),
            deposit_denom: self.deposit_denom.clone(),
            max_lifetime_seconds: self.max_lifetime_seconds,
        }
    }
}

//! The compute module's typed events (the `Event...` messages of compute.proto, one attribute
//! per field).

use stoa_framework::{Ctx, Event, StoaError};

/// Emits any of compute.proto's event messages.
pub fn emit(ctx: &mut Ctx<'_>, ev: &impl prost_reflect::ReflectMessage) -> Result<(), StoaError> {
    ctx.emit(Event::typed(ev)?);
    Ok(())
}

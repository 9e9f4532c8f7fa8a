#![doc = include_str!("../README.md")]

mod body;
mod keyed;
mod layer;
mod limits;
mod reject;
mod serve;

pub use keyed::{ClientKey, KeyedLimiter, KeyedPermit, LimitReached};
pub use layer::{Limits, LimitsLayer, body_rejection};
pub use limits::ServerLimits;
pub use reject::{
    JsonRejections, Rejection, RejectionBody, RejectionFormat, SharedRejectionFormat,
    rejection_response,
};
pub use serve::{Serve, serve};

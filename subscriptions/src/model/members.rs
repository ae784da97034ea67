//! Readers of single JSON members, shared by the Subscription and NotificationParams
//! readers (those of `ngsi_types::json_member`).

pub(super) use ngsi_types::json_member::{
    bad, flag, is_null, names, non_empty_array, opt_string, positive, string,
};
use ngsi_types::NgsiError;

pub(super) type Result<T> = std::result::Result<T, NgsiError>;

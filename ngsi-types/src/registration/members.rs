//! Readers of single JSON members of a registration (the shared [`crate::json_member`]).

pub(super) use crate::json_member::{
    bad, is_null, non_empty_array, non_empty_string, object, one_or_many, positive, string,
};

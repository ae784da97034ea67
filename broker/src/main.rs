//! The Oxion broker binary (see issue: HTTP API).

fn main() {}

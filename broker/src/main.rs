//! The `oxion` binary: see the `broker` library for what it serves.

fn main() {}

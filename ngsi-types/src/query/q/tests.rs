//! Unit tests of the q language.

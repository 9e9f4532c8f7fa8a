//! Cross-crate and end-to-end tests of kagent-rs. The root README is compiled here, so its
//! embedding example is a doctest.
#![doc = include_str!("../../README.md")]

//! Integration tests of vigil-balance: hand-made cases, property tests, and NSL-KDD.

mod nsl;
mod nsl_kdd;
mod props;
mod small;
mod support;

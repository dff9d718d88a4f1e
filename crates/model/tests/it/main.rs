//! Integration tests of vigil-model: the public API on synthetic data and on NSL-KDD.

mod artifact;
mod linear;
mod models;
mod nsl_kdd;
mod synthetic;

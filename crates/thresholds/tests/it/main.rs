//! Integration tests of vigil-thresholds: synthetic multi-class data, properties, serde.

mod properties;
mod serde_forms;
mod synthetic;

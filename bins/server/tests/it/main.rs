//! The vigil-server binary end to end (the router itself is tested in vigil-http).

mod e2e;

//! Integration tests of vigil-server: the router without a socket, model swaps, Redis
//! failure, and the binary end to end.

mod e2e;
mod redis;
mod router;
mod support;
mod swap;

//! Integration tests of vigil-http: the router without a socket, model swaps, Redis
//! failure.

mod fuzz;
mod hostile;
mod redis;
mod router;
mod support;
mod swap;
mod webhook;

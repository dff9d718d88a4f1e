//! Integration tests of vigil-store: the cache suite against both backends (Redis on a
//! `redis-server` of its own), Redis failure modes, the sample store on real SQLite files,
//! and a SIGKILL crash test of sample durability.

#[macro_use]
mod cache_suite;
mod crash;
mod memory;
mod redis;
mod redis_server;
mod reviews;
mod samples;

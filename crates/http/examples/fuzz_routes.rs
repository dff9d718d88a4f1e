//! Long runs of the routes' fuzz harness (`vigil_http::fuzz`): a router over temporary
//! stores with a small model, and N mutated requests. Prints the tally.
//!
//! ```sh
//! cargo run --release -p vigil-http --example fuzz_routes -- 1000000 1
//! ```

#![allow(clippy::print_stdout, reason = "a harness prints its tally")]

use std::process::ExitCode;
use std::time::Instant;

use vigil_engine::{Config, Engine, LoadedModel};
use vigil_http::{AppState, app};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let iterations: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let seed: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut config = Config::rooted_at(dir.path());
    config.learning.bootstrap.enabled = false;
    config.server.auth.ingest_tokens = vec!["fuzz-ingest-token-0123456789".into()];
    config.server.auth.feedback_tokens = vec!["fuzz-feedback-token-012345678".into()];
    let engine = Engine::open(config).await.expect("an engine");
    let artifact = vigil_retrain::synthetic::tiny_artifact(1);
    engine.set_model(LoadedModel::new("fuzz", serde_json::json!({}), artifact).expect("a model"));
    let router = app(AppState::new(engine));
    let clock = Instant::now();
    let report = vigil_http::fuzz::fuzz_routes(
        &router,
        "fuzz-ingest-token-0123456789",
        "fuzz-feedback-token-012345678",
        iterations,
        seed,
    )
    .await;
    let seconds = clock.elapsed().as_secs_f64();
    println!(
        "{} requests in {seconds:.1} s ({:.0}/s); statuses {:?}; {} answered 5xx",
        report.requests,
        report.requests as f64 / seconds,
        report.statuses,
        report.failures.len()
    );
    for failure in &report.failures {
        println!("  {failure}");
    }
    if report.failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

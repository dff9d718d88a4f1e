//! The group-commit writer: one thread owns the write connection, drains the queue of write
//! jobs into one transaction, commits (one WAL fsync for the lot), then answers each caller.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::{Result, StoreError};

/// A write queued for the writer thread.
trait Job: Send {
    /// Runs the job inside the open transaction; true if it succeeded (and its changes are
    /// to be kept).
    fn run(&mut self, conn: &Connection) -> bool;
    /// Whether the job needs a savepoint to be undone on failure: a job of one modifying
    /// statement does not, since SQLite backs out a failed statement by itself.
    fn needs_savepoint(&self) -> bool;
    /// Answers the caller once the transaction's fate is known: `Err` carries the message of
    /// a failed BEGIN or COMMIT, in which case nothing of the batch was stored.
    fn finish(self: Box<Self>, commit: std::result::Result<(), String>);
}

enum Reply<R> {
    Blocking(mpsc::SyncSender<Result<R>>),
    Async(oneshot::Sender<Result<R>>),
}

struct Typed<R, F> {
    work: Option<F>,
    result: Option<Result<R>>,
    reply: Reply<R>,
    savepoint: bool,
}

impl<R, F> Job for Typed<R, F>
where
    R: Send,
    F: FnOnce(&Connection) -> Result<R> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let result = match self.work.take() {
            Some(work) => work(conn),
            None => Err(StoreError::WriterGone),
        };
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn needs_savepoint(&self) -> bool {
        self.savepoint
    }

    fn finish(self: Box<Self>, commit: std::result::Result<(), String>) {
        let answer = match commit {
            Err(message) => Err(StoreError::Commit { message }),
            Ok(()) => self.result.unwrap_or(Err(StoreError::WriterGone)),
        };
        // A caller that stopped waiting (a dropped future) does not need the answer.
        let _ = match self.reply {
            Reply::Blocking(tx) => tx.send(answer).ok(),
            Reply::Async(tx) => tx.send(answer).ok(),
        };
    }
}

/// The handle to the writer thread; dropping it lets the thread finish the queue and exit.
pub(crate) struct Writer {
    queue: Option<Sender<Box<dyn Job>>>,
    thread: Option<JoinHandle<()>>,
    counts: Arc<Counts>,
}

/// Transactions committed and jobs they carried.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    pub(crate) commits: AtomicU64,
    pub(crate) jobs: AtomicU64,
}

impl Writer {
    /// Starts the writer thread on `conn` (configured and migrated), committing at most
    /// `max_batch` jobs per transaction.
    pub(crate) fn spawn(conn: Connection, max_batch: usize) -> std::io::Result<Self> {
        let (queue, jobs) = mpsc::channel();
        let counts = Arc::new(Counts::default());
        let thread_counts = Arc::clone(&counts);
        let thread = std::thread::Builder::new()
            .name("vigil-sample-writer".into())
            .spawn(move || write_loop(&conn, &jobs, max_batch.max(1), &thread_counts))?;
        Ok(Self { queue: Some(queue), thread: Some(thread), counts })
    }

    /// Transactions committed and jobs they carried, so far.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (self.counts.commits.load(Relaxed), self.counts.jobs.load(Relaxed))
    }

    /// Runs `work` in the next group commit, inside a savepoint (so that a failure undoes all
    /// its statements), and returns its result once committed.
    pub(crate) fn run<R, F>(&self, work: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        self.run_blocking(work, true)
    }

    /// [`Writer::run`] for `work` that runs at most one modifying statement (which SQLite
    /// backs out by itself if it fails): no savepoint, two statements fewer per job.
    pub(crate) fn run_statement<R, F>(&self, work: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        self.run_blocking(work, false)
    }

    fn run_blocking<R, F>(&self, work: F, savepoint: bool) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        let (tx, rx) = mpsc::sync_channel(1);
        let reply = Reply::Blocking(tx);
        self.submit(Box::new(Typed { work: Some(work), result: None, reply, savepoint }))?;
        rx.recv().map_err(|_| StoreError::WriterGone)?
    }

    /// [`Writer::run_statement`] for async callers: waits without blocking the runtime's
    /// thread.
    pub(crate) async fn run_statement_async<R, F>(&self, work: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        self.run_async_with(work, false).await
    }

    /// [`Writer::run`] for async callers: resolves once committed, without blocking.
    pub(crate) async fn run_async<R, F>(&self, work: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        self.run_async_with(work, true).await
    }

    async fn run_async_with<R, F>(&self, work: F, savepoint: bool) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let reply = Reply::Async(tx);
        self.submit(Box::new(Typed { work: Some(work), result: None, reply, savepoint }))?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    fn submit(&self, job: Box<dyn Job>) -> Result<()> {
        let queue = self.queue.as_ref().ok_or(StoreError::WriterGone)?;
        queue.send(job).map_err(|_| StoreError::WriterGone)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn write_loop(conn: &Connection, jobs: &Receiver<Box<dyn Job>>, max_batch: usize, counts: &Counts) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let outcome = run_batch(conn, &mut batch);
        if outcome.is_ok() {
            counts.commits.fetch_add(1, Relaxed);
            counts.jobs.fetch_add(batch.len() as u64, Relaxed);
        } else {
            // Leave no transaction open for the next batch (a no-op if none is).
            let _ = conn.execute_batch("ROLLBACK");
        }
        for job in batch {
            job.finish(outcome.clone());
        }
    }
}

/// Runs every job of `batch` in one IMMEDIATE transaction, so that a failing job rolls back
/// alone (by its savepoint, or by SQLite for a one-statement job), and commits.
fn run_batch(conn: &Connection, batch: &mut [Box<dyn Job>]) -> std::result::Result<(), String> {
    let sql = |sql: &str| conn.execute_batch(sql).map_err(|e| e.to_string());
    sql("BEGIN IMMEDIATE")?;
    for job in batch.iter_mut() {
        let savepoint = job.needs_savepoint();
        if savepoint {
            sql("SAVEPOINT job")?;
        }
        let ok = job.run(conn);
        // Some errors (disk full, I/O) make SQLite roll back the whole transaction: then the
        // batch has failed, and no later job may run outside a transaction.
        if conn.is_autocommit() {
            return Err("the transaction was rolled back by SQLite after an error".into());
        }
        match (savepoint, ok) {
            (false, _) => {}
            (true, true) => sql("RELEASE job")?,
            (true, false) => sql("ROLLBACK TO job; RELEASE job")?,
        }
    }
    sql("COMMIT")
}

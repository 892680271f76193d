//! Who runs the network side: one process-wide background thread, or the host's own thread.
//!
//! **One thread per process.** Every background-mode client of the process shares one thread named
//! `hogflags-driver`, running a tokio current-thread runtime; each client is one task on it. The thread
//! starts with the first client and stops when the last one shuts down or is dropped. (DNS lookups run on
//! tokio's blocking pool, at most two short-lived threads that exit after 5 s idle.)
//!
//! **Fork safety.** Threads do not survive `fork`, and the runtime's epoll instance and sockets are
//! *shared* with the parent after it. So nothing is done before a fork, and a forked child never touches
//! what it inherited: a client notices on its next use that the process id changed, forgets (leaks,
//! without dropping) its inherited worker — runtime handle, HTTP pool, task handles — and starts fresh ones
//! in the child, which starts its own driver thread. The definitions already loaded are kept, so the child
//! evaluates at once. One caveat, as with any library holding locks: a fork that happens while another
//! thread of the parent is inside a client's bookkeeping (a few microseconds, never during I/O) can leave
//! that lock held in the child.

use std::future::Future;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{JoinHandle, ThreadId};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::config::{Config, DriverMode, InterruptCheck, INTERRUPT_CHECK_EVERY};
use super::error::ClientError;

/// Locks a mutex, ignoring poisoning (every state here stays consistent across a panic in a callback).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The process-wide driver: a thread running a current-thread runtime until told to stop.
pub(crate) struct Driver {
    pid: u32,
    handle: tokio::runtime::Handle,
    thread_id: ThreadId,
    stop: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    join: Mutex<Option<JoinHandle<()>>>,
}

struct Slot {
    driver: Arc<Driver>,
    users: usize,
}

static GLOBAL: Mutex<Option<Slot>> = Mutex::new(None);
static THREADS: AtomicUsize = AtomicUsize::new(0);
static THREADS_PID: AtomicU32 = AtomicU32::new(0);

/// Number of live `hogflags-driver` threads of this process (0 or 1, briefly 2 while one stops).
pub fn driver_threads() -> usize {
    if THREADS_PID.load(Ordering::SeqCst) != std::process::id() {
        return 0;
    }
    THREADS.load(Ordering::SeqCst)
}

impl Driver {
    fn start(pid: u32) -> Result<Arc<Driver>, ClientError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .max_blocking_threads(2)
            .thread_keep_alive(Duration::from_secs(5))
            .thread_name("hogflags-blocking")
            .build()
            .map_err(|e| ClientError::Runtime(e.to_string()))?;
        let handle = rt.handle().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        if THREADS_PID.swap(pid, Ordering::SeqCst) != pid {
            THREADS.store(0, Ordering::SeqCst);
        }
        THREADS.fetch_add(1, Ordering::SeqCst);
        let thread = std::thread::Builder::new()
            .name("hogflags-driver".into())
            .spawn(move || {
                rt.block_on(async move {
                    let _ = rx.await;
                });
                // Tasks still running are cancelled; blocking DNS lookups get one second.
                rt.shutdown_timeout(Duration::from_secs(1));
                THREADS.fetch_sub(1, Ordering::SeqCst);
                log::debug!(target: "hogflags", "driver thread stopped");
            })
            .map_err(|e| {
                THREADS.fetch_sub(1, Ordering::SeqCst);
                ClientError::Runtime(e.to_string())
            })?;
        log::debug!(target: "hogflags", "driver thread started");
        Ok(Arc::new(Driver {
            pid,
            handle,
            thread_id: thread.thread().id(),
            stop: Mutex::new(Some(tx)),
            join: Mutex::new(Some(thread)),
        }))
    }

    fn stop_and_maybe_join(&self, join: bool) {
        if let Some(tx) = lock(&self.stop).take() {
            let _ = tx.send(());
        }
        if join && std::thread::current().id() != self.thread_id {
            if let Some(t) = lock(&self.join).take() {
                let _ = t.join();
            }
        }
    }
}

/// Takes a use of this process's driver, starting it if needed (also after a fork).
fn acquire() -> Result<Arc<Driver>, ClientError> {
    let pid = std::process::id();
    let mut g = lock(&GLOBAL);
    if let Some(slot) = g.as_mut() {
        if slot.driver.pid == pid {
            slot.users += 1;
            return Ok(slot.driver.clone());
        }
    }
    if let Some(inherited) = g.take() {
        // Forked child: the parent's thread does not exist here; touch nothing of it.
        std::mem::forget(inherited);
    }
    let driver = Driver::start(pid)?;
    *g = Some(Slot { driver: driver.clone(), users: 1 });
    Ok(driver)
}

/// Gives a use back; the last one stops the thread (and joins it if `join`).
fn release(driver: &Arc<Driver>, join: bool) {
    let last = {
        let mut g = lock(&GLOBAL);
        match g.as_mut() {
            Some(slot) if Arc::ptr_eq(&slot.driver, driver) => {
                slot.users = slot.users.saturating_sub(1);
                if slot.users == 0 {
                    g.take().map(|s| s.driver)
                } else {
                    None
                }
            }
            _ => None,
        }
    };
    if let Some(d) = last {
        d.stop_and_maybe_join(join);
    }
}

/// A current-thread runtime owned by one manual-mode client, driven by whichever thread calls it.
pub(crate) struct ManualRuntime(Option<tokio::runtime::Runtime>);

impl Drop for ManualRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// Runs futures for a client.
#[derive(Clone)]
pub(crate) enum Exec {
    Background(Arc<Driver>),
    Manual(Arc<ManualRuntime>),
}

/// Why a blocking call could not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunError {
    OnDriverThread,
    InsideAsyncRuntime,
    Timeout,
    ShutDown,
    /// The host's interrupt check said stop.
    Interrupted,
}

impl RunError {
    /// What a remote call that could not run reports.
    pub(crate) fn into_remote(self) -> super::error::RemoteError {
        use super::error::RemoteError;
        match self {
            RunError::Timeout => RemoteError::Timeout,
            RunError::OnDriverThread => RemoteError::OnDriverThread,
            RunError::InsideAsyncRuntime => RemoteError::Connection("called inside an async runtime in manual mode".into()),
            RunError::ShutDown => RemoteError::ShutDown,
            RunError::Interrupted => RemoteError::Interrupted,
        }
    }
}

impl Exec {
    /// Runs `fut` to completion and returns its output, blocking the calling thread for at most
    /// `timeout` (background mode), asking `interrupt` every [`INTERRUPT_CHECK_EVERY`] whether to stop.
    pub(crate) fn run<F>(&self, fut: F, timeout: Duration, interrupt: Option<&InterruptCheck>) -> Result<F::Output, RunError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Exec::Background(d) => {
                if std::thread::current().id() == d.thread_id {
                    return Err(RunError::OnDriverThread);
                }
                let (tx, rx) = std::sync::mpsc::sync_channel(1);
                // Giving up early leaves the task to finish on its own (its answer is dropped), as the
                // remote-mode refresh keeps its bookkeeping consistent only when it runs to the end.
                d.handle.spawn(async move {
                    let _ = tx.send(fut.await);
                });
                let deadline = Instant::now().checked_add(timeout);
                loop {
                    let left = deadline.map_or(Duration::MAX, |d| d.saturating_duration_since(Instant::now()));
                    let slice = if interrupt.is_some() { left.min(INTERRUPT_CHECK_EVERY) } else { left };
                    match rx.recv_timeout(slice) {
                        Ok(out) => return Ok(out),
                        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return Err(RunError::ShutDown),
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    }
                    if left <= slice {
                        return Err(RunError::Timeout);
                    }
                    if interrupt.is_some_and(|f| f()) {
                        return Err(RunError::Interrupted);
                    }
                }
            }
            Exec::Manual(rt) => {
                if tokio::runtime::Handle::try_current().is_ok() {
                    return Err(RunError::InsideAsyncRuntime);
                }
                let rt = rt.0.as_ref().ok_or(RunError::ShutDown)?;
                let Some(check) = interrupt else { return Ok(rt.block_on(fut)) };
                rt.block_on(async move {
                    let watch = async {
                        loop {
                            tokio::time::sleep(INTERRUPT_CHECK_EVERY).await;
                            if check() {
                                return;
                            }
                        }
                    };
                    tokio::select! {
                        out = fut => Ok(out),
                        _ = watch => Err(RunError::Interrupted),
                    }
                })
            }
        }
    }

    fn spawn<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        if let Exec::Background(d) = self {
            d.handle.spawn(fut);
        }
    }
}

/// Signals between a client and its task.
pub(crate) struct Signals {
    /// Something to do now (reload, new context).
    pub wake: Notify,
    /// Stop the task (a stored permit, so it is never missed).
    pub stop: Notify,
    done: Mutex<bool>,
    done_cv: Condvar,
}

impl Signals {
    fn new() -> Signals {
        Signals { wake: Notify::new(), stop: Notify::new(), done: Mutex::new(false), done_cv: Condvar::new() }
    }

    fn mark_done(&self) {
        *lock(&self.done) = true;
        self.done_cv.notify_all();
    }

    fn wait_done(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut done = lock(&self.done);
        while !*done {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            done = self.done_cv.wait_timeout(done, deadline - now).map(|r| r.0).unwrap_or_else(|p| p.into_inner().0);
        }
        true
    }
}

/// Marks the task done when dropped: at its end, or when the runtime cancels it.
pub(crate) struct DoneGuard(pub Arc<Signals>);

impl Drop for DoneGuard {
    fn drop(&mut self) {
        self.0.mark_done();
    }
}

/// What a client needs from its worker for one operation.
#[derive(Clone)]
pub(crate) struct Parts {
    pub exec: Exec,
    pub http: reqwest::Client,
    pub signals: Arc<Signals>,
}

struct Worker {
    pid: u32,
    parts: Parts,
}

/// A client's process-bound worker, (re)started lazily: at creation and in a forked child.
pub(crate) struct WorkerSlot {
    worker: Mutex<Option<Worker>>,
    pid: AtomicU32,
    stopped: std::sync::atomic::AtomicBool,
}

impl WorkerSlot {
    pub(crate) fn new() -> WorkerSlot {
        WorkerSlot { worker: Mutex::new(None), pid: AtomicU32::new(0), stopped: Default::default() }
    }

    /// `true` when the worker belongs to another process (we are a forked child) or was never started.
    pub(crate) fn needs_start(&self) -> bool {
        self.pid.load(Ordering::Acquire) != std::process::id()
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// The worker of this process, started if needed: `after_fork(true)` runs first when an inherited
    /// worker is replaced (before any task exists, so it can reset state the parent left in flight), then
    /// `spawn_loop` makes the background task.
    pub(crate) fn get<F, Fut>(&self, config: &Config, after_fork: impl FnOnce(), spawn_loop: F) -> Result<Parts, ClientError>
    where
        F: FnOnce(&Parts) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let pid = std::process::id();
        let mut w = lock(&self.worker);
        if self.is_stopped() {
            return Err(ClientError::ShutDown);
        }
        if let Some(existing) = w.as_ref() {
            if existing.pid == pid {
                return Ok(existing.parts.clone());
            }
        }
        if let Some(inherited) = w.take() {
            log::info!(target: "hogflags", "process id changed (fork): restarting the client's worker in this process");
            std::mem::forget(inherited);
            after_fork();
        }
        let http = super::transport::build_http(config).map_err(ClientError::Runtime)?;
        let exec = match config.driver {
            DriverMode::Background => Exec::Background(acquire()?),
            DriverMode::Manual => Exec::Manual(Arc::new(ManualRuntime(Some(
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .max_blocking_threads(1)
                    .build()
                    .map_err(|e| ClientError::Runtime(e.to_string()))?,
            )))),
        };
        let parts = Parts { exec, http, signals: Arc::new(Signals::new()) };
        if config.driver == DriverMode::Background {
            let fut = spawn_loop(&parts);
            parts.exec.spawn(fut);
        }
        *w = Some(Worker { pid, parts: parts.clone() });
        self.pid.store(pid, Ordering::Release);
        Ok(parts)
    }

    /// Stops the worker. With `join`, waits (bounded) for the task to end and, if this was the process's
    /// last client, for the driver thread to exit. Without, returns at once (for `Drop`).
    pub(crate) fn stop(&self, join: bool) {
        self.stopped.store(true, Ordering::Release);
        let worker = lock(&self.worker).take();
        let Some(worker) = worker else { return };
        if worker.pid != std::process::id() {
            std::mem::forget(worker);
            return;
        }
        let Worker { parts, .. } = worker;
        parts.signals.stop.notify_one();
        parts.signals.wake.notify_one();
        match &parts.exec {
            Exec::Background(d) => {
                let on_driver = std::thread::current().id() == d.thread_id;
                if join && !on_driver && !parts.signals.wait_done(Duration::from_secs(5)) {
                    log::warn!(target: "hogflags", "client task did not stop within 5 s");
                }
                release(d, join && !on_driver);
            }
            Exec::Manual(_) => {}
        }
    }
}

//! Receivers served on 127.0.0.1 for the duration of a test: a reference router or a raw TCP
//! server on a thread and runtime of its own (the live shell runs its own runtime, so they must
//! not share one), or a Python receiver in a child process. Each stops when dropped.

use hooksim::receiver::{ReceiverKind, ServeOptions, app, base_url, serve};
use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// A server on a thread of its own; stopped (and its thread joined) when dropped.
pub struct Served {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// A reference receiver of `kind`.
pub fn serve_kind(kind: ReceiverKind) -> Served {
    serve_with(kind, ServeOptions::default())
}

/// A reference receiver of `kind` with `options` (an answer delay, signature checks).
pub fn serve_with(kind: ReceiverKind, options: ServeOptions) -> Served {
    serve_router(app(kind, options).0)
}

pub fn serve_router(router: axum::Router) -> Served {
    on_loopback(move |listener, stopped| async move {
        serve(listener, router, async move {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    })
}

/// A raw TCP server, each accepted connection handed to `conn` on a task. For receivers too
/// broken for a router.
pub fn serve_tcp<F, Fut>(conn: F) -> Served
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    on_loopback(move |listener, mut stopped| async move {
        loop {
            tokio::select! {
                _ = &mut stopped => return,
                accepted = listener.accept() => {
                    let (stream, _) = accepted.unwrap();
                    tokio::spawn(conn(stream));
                }
            }
        }
    })
}

/// Binds 127.0.0.1:0 on a new thread and runtime and runs `server` there until it returns
/// (told to by the receiver it gets, when the [`Served`] is dropped).
fn on_loopback<S, Fut>(server: S) -> Served
where
    S: FnOnce(tokio::net::TcpListener, oneshot::Receiver<()>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        runtime().block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(base_url(listener.local_addr().unwrap())).unwrap();
            server(listener, stopped).await;
        });
    });
    Served { base: rx.recv().unwrap(), stop: Some(stop), thread: Some(thread) }
}

/// A receiver in Python: `python3 -c code args...`, which prints its port on its first line;
/// killed when dropped.
pub struct Python {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    child: Child,
}

impl Drop for Python {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn python(code: &str, args: &[&str]) -> Python {
    let mut child = Command::new("python3")
        .args(["-c", code])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is installed");
    let mut port = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut port).unwrap();
    Python { base: format!("http://127.0.0.1:{}", port.trim()), child }
}

/// `examples/receivers/contract_receiver.py` with `args` (`--defect D`, `--tls CERT KEY`, ...),
/// which prints its base URL (`http://` or `https://`) on its first line; killed when dropped.
pub fn contract_receiver(args: &[&str]) -> Python {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/receivers/contract_receiver.py");
    let mut child =
        Command::new("python3").arg(script).args(args).stdout(Stdio::piped()).spawn().expect("python3 is installed");
    let mut base = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut base).unwrap();
    Python { base: base.trim().to_string(), child }
}

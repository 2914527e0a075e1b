//! A TCP proxy on loopback for the stores' outage tests (included by path
//! from `stores/*/tests`): it forwards to a real server until told to
//! fail, and closes everything, listener and connections, when dropped.
//!
//! - [`FaultProxy::silence`]: every connection, open or new, has its bytes
//!   read and dropped and gets no answer (the server is stalled, or the
//!   network drops packets).
//! - [`FaultProxy::heal_new`]: new connections work again; those open
//!   while it was silent stay silent (a flow the network still
//!   black-holes), so only a client that opens a new connection recovers.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// At most this many connections are accepted: the stores make a handful.
const MAX_CONNECTIONS: usize = 64;

#[derive(Default)]
struct Faults {
    silent: AtomicBool,
    /// Connections numbered below this stay silent.
    silent_below: AtomicU64,
    next: AtomicU64,
}

impl Faults {
    fn silent(&self, connection: u64) -> bool {
        self.silent.load(Ordering::SeqCst) || connection < self.silent_below.load(Ordering::SeqCst)
    }
}

/// See the module docs.
pub struct FaultProxy {
    addr: SocketAddr,
    faults: Arc<Faults>,
    tasks: JoinSet<()>,
}

impl FaultProxy {
    /// A proxy to `upstream` (`host:port`) on a free loopback port.
    pub async fn start(upstream: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let faults = Arc::new(Faults::default());
        let mut tasks = JoinSet::new();
        let (shared, upstream) = (Arc::clone(&faults), upstream.to_owned());
        tasks.spawn(async move {
            let mut connections = JoinSet::new();
            for _ in 0..MAX_CONNECTIONS {
                let Ok((client, _)) = listener.accept().await else {
                    break;
                };
                let number = shared.next.fetch_add(1, Ordering::SeqCst);
                connections.spawn(forward(
                    client,
                    upstream.clone(),
                    Arc::clone(&shared),
                    number,
                ));
            }
            // Dropping the set (when this task is aborted) closes them all.
            std::future::pending::<()>().await;
            drop(connections);
        });
        FaultProxy {
            addr,
            faults,
            tasks,
        }
    }

    /// The proxy's `127.0.0.1:port`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// From now on nothing is answered, on any connection.
    pub fn silence(&self) {
        self.faults.silent.store(true, Ordering::SeqCst);
    }

    /// New connections are forwarded again; the ones opened before stay
    /// silent.
    pub fn heal_new(&self) {
        let next = self.faults.next.load(Ordering::SeqCst);
        self.faults.silent_below.store(next, Ordering::SeqCst);
        self.faults.silent.store(false, Ordering::SeqCst);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.tasks.abort_all();
    }
}

/// Copies `client` to `upstream` and back while connection `number` is
/// not silent.
async fn forward(mut client: TcpStream, upstream: String, faults: Arc<Faults>, number: u64) {
    let Ok(server) = TcpStream::connect(&upstream).await else {
        return;
    };
    let (mut from_server, mut to_server) = server.into_split();
    let (mut from_client, mut to_client) = client.split();
    let up = async {
        let mut buf = vec![0; 16 * 1024];
        loop {
            let n = match from_client.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if !faults.silent(number) && to_server.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    let down = async {
        let mut buf = vec![0; 16 * 1024];
        loop {
            let n = match from_server.read(&mut buf).await {
                Ok(0) | Err(_) => return std::future::pending().await,
                Ok(n) => n,
            };
            if !faults.silent(number) && to_client.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    tokio::select! { () = up => {}, () = down => {} }
}

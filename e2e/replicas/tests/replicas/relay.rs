//! A TCP relay on loopback between the replicas and the store's server,
//! which the test can cut: while cut, live connections are closed and new
//! ones are closed as soon as they are accepted, so to every replica the
//! store is gone, as when its server stops; restored, connections pass
//! again on the same address.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct Relay {
    pub addr: SocketAddr,
    up: watch::Sender<bool>,
    pipes: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    pub async fn start(server: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (up, watching) = watch::channel(true);
        let pipes: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let live = pipes.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if !*watching.borrow() {
                    drop(inbound);
                    continue;
                }
                let pipe = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(server).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                let mut live = live.lock().unwrap();
                live.retain(|p| !p.is_finished());
                live.push(pipe);
            }
        });
        Self {
            addr,
            up,
            pipes,
            task,
        }
    }

    /// The store is gone: every connection through the relay is closed,
    /// and new ones are closed at once.
    pub fn cut(&self) {
        self.up.send_replace(false);
        for pipe in self.pipes.lock().unwrap().drain(..) {
            pipe.abort();
        }
    }

    /// The store is back.
    pub fn restore(&self) {
        self.up.send_replace(true);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.cut();
        self.task.abort();
    }
}

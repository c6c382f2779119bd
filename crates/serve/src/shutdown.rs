//! Graceful shutdown, threaded through the daemon as in tokio-rs/mini-redis.
//!
//! The server owns a `watch::Sender<bool>`; every connection handler and every event stream
//! holds a [`Shutdown`] built from a receiver. Setting it to `true` tells them all at once:
//! handlers stop reading new requests and finish the ones in flight, streams end. A watch
//! (rather than a broadcast) also tells a stream that subscribes after the signal. A second
//! channel (an `mpsc::Sender` each handler holds and drops when done) tells the server when
//! the last of them has finished.

use tokio::sync::watch;

/// Listens for the shutdown signal; `recv` returns once it has been given (at once if it
/// already was).
#[derive(Debug)]
pub struct Shutdown {
    is_shutdown: bool,
    notify: watch::Receiver<bool>,
}

impl Shutdown {
    pub fn new(notify: watch::Receiver<bool>) -> Shutdown {
        Shutdown {
            is_shutdown: false,
            notify,
        }
    }

    pub async fn recv(&mut self) {
        if self.is_shutdown {
            return;
        }
        // An error means the sender is gone, which is a shutdown too.
        let _ = self.notify.wait_for(|down| *down).await;
        self.is_shutdown = true;
    }
}

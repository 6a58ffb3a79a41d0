//! Uses the packaged crate's public API as a dependent would: the builders
//! always, the hello exchange when its feature is on.

use std::error::Error;

use sockwright::{ConnectorBuilder, ListenerBuilder};

fn main() -> Result<(), Box<dyn Error>> {
    let listener = ListenerBuilder::new()
        .reuse_address(true)
        .listen("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let mut client = ConnectorBuilder::new().connect(addr)?;
    let (mut server, _) = listener.accept()?;

    #[cfg(feature = "hello")]
    {
        use sockwright::hello::Exchange;
        let peer = std::thread::spawn(move || Exchange::server().run(&mut server));
        let reply = Exchange::client().run(&mut client)?;
        peer.join().map_err(|_| "the server thread panicked")??;
        println!("hello exchange with {addr}: {}", String::from_utf8_lossy(&reply));
    }
    #[cfg(not(feature = "hello"))]
    {
        use std::io::{Read, Write};
        client.write_all(b"ping")?;
        let mut buf = [0; 4];
        server.read_exact(&mut buf)?;
        assert_eq!(&buf, b"ping");
        println!("builders only: connected to {addr} and traded a message");
    }
    Ok(())
}

//! Load generator for the server benchmarks in `bench/`: talks TCP to an
//! echo-style server and prints one `key=value` line the scripts parse.
//!
//! - `pingpong ADDR CONNS SIZE SECS`: CONNS connections each send SIZE
//!   bytes and wait for them to come back, in a loop; requests/s and
//!   latency percentiles.
//! - `idle ADDR CONNS SECS`: open CONNS connections, say `ready`, hold them
//!   for SECS seconds (the script reads the server's RSS meanwhile).
//! - `churn ADDR CONNS SECS`: CONNS loops of connect, 1 byte there and back,
//!   FIN, close; new connections/s.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize| -> u64 {
        args.get(i)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| usage())
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    match args.first().map(String::as_str) {
        Some("pingpong") => rt.block_on(pingpong(&args[1], num(2), num(3) as usize, num(4))),
        Some("idle") => rt.block_on(idle(&args[1], num(2), num(3))),
        Some("churn") => rt.block_on(churn(&args[1], num(2), num(3))),
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!("usage: loadgen pingpong ADDR CONNS SIZE SECS | idle ADDR CONNS SECS | churn ADDR CONNS SECS");
    std::process::exit(2)
}

async fn pingpong(addr: &str, conns: u64, size: usize, secs: u64) {
    let until = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.set_nodelay(true).ok();
        tasks.push(tokio::spawn(async move {
            let msg = vec![b'x'; size];
            let mut back = vec![0u8; size];
            let mut lat = Vec::new();
            while Instant::now() < until {
                let t = Instant::now();
                s.write_all(&msg).await.expect("write");
                s.read_exact(&mut back).await.expect("read");
                lat.push(t.elapsed().as_micros() as u32);
            }
            lat
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1))).copied().unwrap_or(0);
    println!(
        "requests={} rps={:.0} p50_us={} p90_us={} p99_us={} p999_us={}",
        all.len(),
        all.len() as f64 / elapsed,
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(0.999)
    );
}

async fn idle(addr: &str, conns: u64, secs: u64) {
    let mut held = Vec::with_capacity(conns as usize);
    for _ in 0..conns {
        held.push(TcpStream::connect(addr).await.expect("connect"));
    }
    // One byte there and back on each: the server has accepted them all.
    for s in &mut held {
        s.write_all(b"x").await.expect("write");
    }
    for s in &mut held {
        let mut b = [0u8; 1];
        s.read_exact(&mut b).await.expect("read");
    }
    println!("ready conns={}", held.len());
    tokio::time::sleep(Duration::from_secs(secs)).await;
}

async fn churn(addr: &str, conns: u64, secs: u64) {
    let until = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let addr = addr.to_string();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < until {
                // Our FIN first, so the server closes first and the
                // TIME_WAIT state stays on its side, not on our ports.
                let mut s = TcpStream::connect(&addr).await.expect("connect");
                s.write_all(b"x").await.expect("write");
                s.shutdown().await.expect("shutdown");
                let mut back = Vec::new();
                s.read_to_end(&mut back).await.expect("read");
                assert_eq!(back, b"x");
                n += 1;
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("task");
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!("requests={} rps={:.0}", total, total as f64 / elapsed);
}

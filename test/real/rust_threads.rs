// rust_threads.rs: Rust's standard threads, whose locks, condition
// variables, channels and parking wait on futexes through syscall(3), and
// whose runtime keeps each thread's handle in thread-local storage.
// Prints what it gets.
use std::cell::Cell;
use std::sync::{mpsc, Arc, Barrier, Condvar, Mutex};
use std::thread;
use std::time::Duration;

thread_local!(static MINE: Cell<u32> = Cell::new(7));

fn main() {
    // A bounded channel: its waker tells threads apart by the address of
    // a thread-local, which with TLS copies every thread of one OS thread
    // shares, and the receiver was never woken (the runtime picks a TLS
    // area per thread for programs rustc built).
    let (tx, rx) = mpsc::sync_channel::<u64>(2);
    let p = thread::spawn(move || {
        for k in 0..1000u64 {
            tx.send(k).unwrap();
        }
    });
    let s: u64 = rx.iter().sum();
    p.join().unwrap();
    println!("sync_channel: sum {}", s);

    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let p2 = pair.clone();
    let t = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        let (l, c) = &*p2;
        *l.lock().unwrap() = true;
        c.notify_one();
    });
    let (l, c) = &*pair;
    let mut g = l.lock().unwrap();
    while !*g {
        g = c.wait(g).unwrap();
    }
    drop(g);
    t.join().unwrap();
    println!("condvar: woken");

    let m = Arc::new(Mutex::new(0u64));
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let m = m.clone();
            thread::spawn(move || {
                for i in 0..2000 {
                    let mut g = m.lock().unwrap();
                    *g += 1;
                    if i % 500 == 0 {
                        thread::sleep(Duration::from_millis(1));
                    }
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    println!("mutex: {}", *m.lock().unwrap());

    let (tx, rx) = mpsc::channel();
    for i in 0..3u64 {
        let tx = tx.clone();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(60 - 20 * i));
            tx.send(i).unwrap();
        });
    }
    drop(tx);
    println!("channel, fastest first: {:?}", rx.iter().collect::<Vec<u64>>());

    let b = Arc::new(Barrier::new(3));
    let hs: Vec<_> = (0..3)
        .map(|_| {
            let b = b.clone();
            thread::spawn(move || b.wait().is_leader())
        })
        .collect();
    let leaders = hs
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|&leader| leader)
        .count();
    println!("barrier: {} leader", leaders);

    let t = thread::spawn(|| {
        thread::park();
        5
    });
    thread::sleep(Duration::from_millis(10));
    t.thread().unpark();
    println!("park: {}", t.join().unwrap());

    MINE.with(|v| v.set(1));
    let t = thread::spawn(|| {
        let first = MINE.with(|v| v.get());
        MINE.with(|v| v.set(99));
        thread::sleep(Duration::from_millis(5));
        (first, MINE.with(|v| v.get()))
    });
    println!("thread_local in a new thread: {:?}", t.join().unwrap());
    println!("main's thread_local: {}", MINE.with(|v| v.get()));
}

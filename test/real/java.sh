#!/bin/bash
# Java (OpenJDK's java, when installed; the program is built here with
# javac): a fixed thread pool, a thread-per-connection echo server over
# loopback sockets, synchronized with notifyAll, a CountDownLatch, a
# CompletableFuture, and the JVM's own signals: a NullPointerException
# (SIGSEGV caught by the JVM) and a StackOverflowError, in main and in a
# thread. The JVM keeps pointers into its threads' thread-local storage:
# with TLS copies it failed its own checks at once (Heap_lock, "not a Java
# thread"), so GPATCH_TLS auto gives each thread a TLS area when the java
# launcher (libjli) starts the program. Same output and exit status plain
# and patched.
. "$(dirname "$0")/common.bash"
need java
need javac
mkdir -p "$tmp/j"
cat >"$tmp/j/T.java" <<'SRC'
import java.io.*;
import java.net.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;

public class T {
  static int deep(int n) { return deep(n + 1) + 1; }

  public static void main(String[] args) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<Long>> parts = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      final int k = i;
      parts.add(pool.submit(() -> {
        long s = 0;
        for (int j = 0; j < 1000000; j++) s += (j ^ k) % 7;
        return s;
      }));
    }
    long total = 0;
    for (Future<Long> f : parts) total += f.get();
    System.out.println("pool: " + total);

    ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread server = new Thread(() -> {
      try {
        for (int c = 0; c < 4; c++) {
          Socket s = ss.accept();
          new Thread(() -> {
            try (Socket so = s) {
              so.getInputStream().transferTo(so.getOutputStream());
            } catch (IOException e) {
              System.out.println("server: " + e);
            }
          }).start();
        }
      } catch (IOException e) {
        System.out.println("accept: " + e);
      }
    });
    server.start();
    List<Future<Boolean>> echoes = new ArrayList<>();
    for (int c = 0; c < 4; c++) {
      final int k = c;
      echoes.add(pool.submit(() -> {
        byte[] data = new byte[200000];
        for (int i = 0; i < data.length; i++) data[i] = (byte) (i * (k + 1));
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), ss.getLocalPort())) {
          Thread w = new Thread(() -> {
            try {
              s.getOutputStream().write(data);
              s.shutdownOutput();
            } catch (IOException e) {
              System.out.println("write: " + e);
            }
          });
          w.start();
          byte[] back = s.getInputStream().readAllBytes();
          w.join();
          return Arrays.equals(back, data);
        }
      }));
    }
    for (Future<Boolean> f : echoes) System.out.println("echo: " + f.get());
    server.join();

    final Object lock = new Object();
    final int[] count = {0};
    Thread[] ts = new Thread[4];
    for (int i = 0; i < 4; i++) {
      ts[i] = new Thread(() -> {
        for (int j = 0; j < 50000; j++)
          synchronized (lock) {
            count[0]++;
            lock.notifyAll();
          }
      });
      ts[i].start();
    }
    for (Thread t : ts) t.join();
    System.out.println("synchronized: " + count[0]);
    CountDownLatch latch = new CountDownLatch(8);
    AtomicLong sum = new AtomicLong();
    for (int i = 0; i < 8; i++) {
      final int k = i;
      new Thread(() -> { sum.addAndGet(k); latch.countDown(); }).start();
    }
    latch.await();
    System.out.println("latch: " + sum.get());
    System.out.println("future: " + CompletableFuture.supplyAsync(() -> 21).thenApplyAsync(x -> x * 2).get());
    try {
      String s = args.length > 100 ? "" : null;
      s.length();
    } catch (NullPointerException e) {
      System.out.println("null pointer: caught");
    }
    try {
      deep(0);
    } catch (StackOverflowError e) {
      System.out.println("stack overflow: caught");
    }
    Thread t = new Thread(() -> {
      try {
        deep(0);
      } catch (StackOverflowError e) {
        System.out.println("stack overflow in a thread: caught");
      }
    });
    t.start();
    t.join();
    pool.shutdown();
    System.exit(0);
  }
}
SRC
if ! javac -d "$tmp/j" "$tmp/j/T.java" 2>"$tmp/build.err"; then
  skip "a working javac (see $tmp/build.err)"
fi
run_both java -cp "$tmp/j" T
same_output
finish

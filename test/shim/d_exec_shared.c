/* d_exec_shared: sockets the program shares with programs it starts.
 *
 * A forked child that execs shares the parent's open file descriptions;
 * patched, the child's exec makes the sockets the app believes blocking
 * blocking underneath (the new program must see them so), and the parent
 * goes on with them: sendfile into such a socket read by another thread,
 * and a connect from one to a Unix listener whose backlog is full (it
 * waits until another thread accepts), and to a TCP listener, must work as
 * plain, with the other threads running. Before, both were one real
 * blocking call that stopped every thread (the run hung until its alarm).
 *
 * Programs started by popen, fexecve and execveat must find a socket the
 * app believes blocking blocking (before, popen's and fexecve's inherited
 * it non-blocking: dd failed with "Resource temporarily unavailable"). */
/* Needs bash (dash takes only one-digit fds in a redirection). */
#include "sockutil.h"

#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#define BIG (4 << 20)

/* Forks a child that execs /bin/true with every fd the parent has: the
 * open file descriptions of fd, shared, are the exec'd program's too. */
static void exec_true(void)
{
  int st;
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/true", "true", (char *)NULL);
    _exit(127);
  }
  EXPECT("a child exec'd /bin/true",
         waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static int rd; /* the socket the reader reads to its end */

static void *reader(void *arg)
{
  static char buf[65536];
  long got = 0;
  ssize_t n;
  (void)arg;
  while ((n = read(rd, buf, sizeof(buf))) > 0)
    got += n;
  return (void *)got;
}

static int lfd; /* a listener whose pending connections acceptor takes */

static void *acceptor(void *arg)
{
  long n = 0;
  (void)arg;
  sleep_ms(100); /* let the connect wait first (either order works) */
  for (int i = 0; i < 2; i++) {
    int fd = accept(lfd, NULL, NULL);
    if (fd >= 0) {
      n++;
      close(fd);
    }
  }
  return (void *)n;
}

/* The socket's number in the programs started: far above the runtime's
 * own fds, which take low numbers (the program may not dup2 over them
 * yet). */
#define FD  30
#define FDS "30"

/* What a program started with the socket as fd FD says of it. */
static const char *probe =
    "f=$(sed -n 's/^flags:[[:space:]]*//p' /proc/self/fdinfo/" FDS "); "
    "if [ $(( 0$f & 04000 )) -ne 0 ]; then echo nonblocking; "
    "else echo blocking; fi";

/* Runs the probe in a forked child that execs it with how (fexecve or
 * execveat), and prints what it says. */
static void probe_exec(const char *how)
{
  char *argv[] = {"sh", "-c", (char *)probe, NULL};
  extern char **environ;
  int st, out[2];
  char buf[64] = "";
  ssize_t n;
  pid_t pid;

  if (pipe(out) != 0)
    abort();
  pid = fork();
  if (pid == 0) {
    int sh = open("/bin/sh", O_RDONLY | O_CLOEXEC);
    dup2(out[1], 1);
    if (strcmp(how, "fexecve") == 0)
      fexecve(sh, argv, environ);
    else
      syscall(SYS_execveat, sh, "", argv, environ, AT_EMPTY_PATH);
    _exit(127);
  }
  close(out[1]);
  n = read(out[0], buf, sizeof(buf) - 1);
  buf[n > 0 ? n : 0] = 0;
  close(out[0]);
  waitpid(pid, &st, 0);
  SAY("%s: the program finds the socket %s", how, buf);
}

int main(void)
{
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  struct sockaddr_in in;
  char path[64], buf[64];
  struct task t;
  int sv[2], f, c, extra, l;
  off_t pos = 0;
  FILE *p;

  setvbuf(stdout, NULL, _IOLBF, 0);
  alarm(60);

  /* sendfile into a socket a child's exec made blocking underneath. */
  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  exec_true();
  snprintf(path, sizeof(path), "/tmp/d_exec_shared.%d", (int)getpid());
  f = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  unlink(path);
  {
    char *data = calloc(1, BIG);
    EXPECT("a 4 MiB file", f >= 0 && write(f, data, BIG) == BIG);
    free(data);
  }
  rd = sv[1];
  spawn(&t, reader, NULL);
  lseek(f, 0, SEEK_SET);
  CALL("sendfile of 2 MiB from the file's own offset",
       sendfile(sv[0], f, NULL, BIG / 2));
  SAY("the file's offset: %lld\n", (long long)lseek(f, 0, SEEK_CUR));
  pos = BIG / 2;
  CALL("sendfile of up to 4 MiB more, at an offset",
       sendfile(sv[0], f, &pos, BIG));
  SAY("offset now %lld, the file's %lld\n", (long long)pos,
      (long long)lseek(f, 0, SEEK_CUR));
  CALL("sendfile with a bad input fd", sendfile(sv[0], 999, NULL, 10));
  close(sv[0]);
  SAY("the reader got %ld bytes\n", (long)join(&t));
  close(sv[1]);
  close(f);

  /* connect from such a socket to a Unix listener whose backlog is full. */
  snprintf(un.sun_path, sizeof(un.sun_path), "/tmp/d_exec_shared.%d.sock",
           (int)getpid());
  lfd = socket(AF_UNIX, SOCK_STREAM, 0);
  EXPECT("listen, backlog 0",
         bind(lfd, (struct sockaddr *)&un, sizeof(un)) == 0 &&
             listen(lfd, 0) == 0);
  extra = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  CALL("a first connect fills the backlog",
       connect(extra, (struct sockaddr *)&un, sizeof(un)));
  c = socket(AF_UNIX, SOCK_STREAM, 0);
  exec_true();
  spawn(&t, acceptor, NULL);
  CALL("connect, waiting for room",
       connect(c, (struct sockaddr *)&un, sizeof(un)));
  SAY("accepted: %ld\n", (long)join(&t));
  CALL("connect again", connect(c, (struct sockaddr *)&un, sizeof(un)));
  close(c);
  close(extra);
  close(lfd);
  unlink(un.sun_path);

  /* And to a TCP listener, which answers at once. */
  l = tcp_listener(&in, 0, 8);
  c = socket(AF_INET, SOCK_STREAM, 0);
  exec_true();
  CALL("TCP connect", connect(c, (struct sockaddr *)&in, sizeof(in)));
  CALL("TCP connect again", connect(c, (struct sockaddr *)&in, sizeof(in)));
  close(c);
  close(l);

  /* Programs started by popen, fexecve and execveat, with a socket the app
   * believes blocking as their fd FD. */
  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  EXPECT("as fd " FDS, dup2(sv[0], FD) == FD);
  /* A program already running with the socket (its exec made it blocking
   * underneath): the parent sets it non-blocking and back (F_SETFL, then
   * FIONBIO), then the program looks. */
  {
    char cmd[256];
    int word[2], out[2], st, one = 1, zero = 0;
    ssize_t n;
    pid_t pid;
    snprintf(cmd, sizeof(cmd), "echo running; read x; %s", probe);
    EXPECT("pipes", pipe(word) == 0 && pipe(out) == 0);
    pid = fork();
    if (pid == 0) {
      dup2(word[0], 0);
      dup2(out[1], 1);
      execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
      _exit(127);
    }
    close(word[0]);
    close(out[1]);
    n = read(out[0], buf, 8); /* it has exec'd */
    SAY("the program says: %.*s", (int)(n > 0 ? n : 0), buf);
    CALL("F_SETFL O_NONBLOCK", fcntl(FD, F_SETFL, O_RDWR | O_NONBLOCK));
    CALL("F_SETFL 0", fcntl(FD, F_SETFL, O_RDWR));
    CALL("FIONBIO 1", ioctl(FD, FIONBIO, &one));
    CALL("FIONBIO 0", ioctl(FD, FIONBIO, &zero));
    EXPECT("the word", write(word[1], "go\n", 3) == 3);
    n = read(out[0], buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = 0;
    SAY("the running program then finds the socket %s", buf);
    waitpid(pid, &st, 0);
    close(word[1]);
    close(out[0]);
  }
  p = popen(probe, "r");
  SAY("popen: the program finds the socket %s",
      p && fgets(buf, sizeof(buf), p) ? buf : "(nothing)\n");
  EXPECT("pclose", p && pclose(p) == 0);
  /* dd reads a byte that comes later; a non-blocking socket would fail. */
  p = popen("exec bash -c 'exec dd bs=1 count=1 <&" FDS " 2>/dev/null'", "r");
  sleep_ms(100);
  EXPECT("write the byte", write(sv[1], "Z", 1) == 1);
  SAY("dd read: %s\n", p && fgets(buf, sizeof(buf), p) ? buf : "(nothing)");
  EXPECT("pclose", p && pclose(p) == 0);
  probe_exec("fexecve");
  probe_exec("execveat");
  /* The parent's own blocking I/O on the shared socket still works. */
  EXPECT("write on it", write(sv[1], "y", 1) == 1);
  EXPECT("read on it", read(FD, buf, 1) == 1 && buf[0] == 'y');
  return compat_failures != 0;
}

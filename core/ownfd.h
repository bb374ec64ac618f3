/* ownfd.h: the runtime's own fds (epoll sets, eventfds, libuv's loop),
 * kept out of the program's way: above a floor (256, or half the soft
 * RLIMIT_NOFILE when that is lower), close-on-exec, so that the program's
 * own fds get the numbers they get unpatched; and known, so that a close
 * of one by the program (a daemon closing every fd, a dup2 onto a number
 * it believes free) is refused instead of breaking the runtime. */
#ifndef GP_OWNFD_H
#define GP_OWNFD_H

/* Moves fd, made by the runtime, above the floor (close-on-exec) and
 * notes it as the runtime's. Returns the new fd, or fd itself when it
 * cannot be moved (no fds up there: it is noted where it is). */
int gp__ownfd_move(int fd);

/* Notes fd, which a library made for the runtime above the floor, as the
 * runtime's. */
void gp__ownfd_note(int fd);

/* fd is the runtime's no more (it is being closed by the runtime). */
void gp__ownfd_forget(int fd);

/* Nonzero when fd is one of the runtime's. */
int gp__ownfd_is(int fd);

/* The lowest of the runtime's fds that is >= from, or -1. */
int gp__ownfd_next(int from);

/* While a library makes fds of its own for the runtime (libuv's loop and
 * its process-wide signal lock pipe), every free number below the floor is
 * taken, so that they land above it: gp__ownfd_hold before,
 * gp__ownfd_release after (both under a lock). At the first release (in
 * the process, and in a fork's child) the fds opened in between just above
 * the floor are noted as the runtime's, so that a library's fds need not
 * be named one by one; later, the caller names them (the program's other
 * threads may open fds there meanwhile). Those closed in between are
 * forgotten. */
struct gp__ownfd_hold {
  int fds[256];            /* the numbers taken */
  int n;                   /* how many */
  unsigned long long open; /* which of the 64 fds from the floor were open */
};
void gp__ownfd_hold(struct gp__ownfd_hold *h);
void gp__ownfd_release(struct gp__ownfd_hold *h);

/* In a fork's child: the lock of gp__ownfd_hold is free. */
void gp__ownfd_fork_child(void);

#endif /* GP_OWNFD_H */

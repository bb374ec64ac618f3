/* msg.h: one-line messages to stderr, built in a fixed buffer and written
 * with libc's write: no stdio, no allocation, no lock, so they can be made
 * at start-up before stdio is usable, inside an allocator, or from a
 * signal handler. Text from outside (an environment variable's value) is
 * quoted with a bound and its control characters escaped. */
#ifndef GP_MSG_H
#define GP_MSG_H

#include <stddef.h>

/* A message being built; cut short (never overrun) when it is full. */
struct gp__msg {
  char buf[512]; /* the text */
  size_t len;    /* bytes of it used, not counting the NUL */
};

/* Appends s. */
void gp__msg_put(struct gp__msg *m, const char *s);

/* Appends v in decimal. */
void gp__msg_num(struct gp__msg *m, unsigned long v);

/* Appends s between double quotes, at most max of its bytes, followed by
 * "..." when it is longer; a byte outside printable ASCII, a quote or a
 * backslash is written as \n, \t, \", \\ or \xHH. */
void gp__msg_quote(struct gp__msg *m, const char *s, size_t max);

/* Writes the message, with a newline if it lacks one, to stderr. Does not
 * touch errno. */
void gp__msg_send(struct gp__msg *m);

#endif /* GP_MSG_H */

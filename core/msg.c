/* msg.c: one-line messages to stderr without stdio (msg.h). */
#define _GNU_SOURCE
#include "msg.h"
#include "real.h"

#include <errno.h>

void gp__msg_put(struct gp__msg *m, const char *s)
{
  while (*s && m->len + 1 < sizeof(m->buf))
    m->buf[m->len++] = *s++;
  m->buf[m->len] = '\0';
}

void gp__msg_num(struct gp__msg *m, unsigned long v)
{
  char d[24];
  int i = sizeof(d) - 1;

  d[i] = '\0';
  do
    d[--i] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  gp__msg_put(m, &d[i]);
}

void gp__msg_quote(struct gp__msg *m, const char *s, size_t max)
{
  static const char hex[] = "0123456789abcdef";
  size_t i;

  gp__msg_put(m, "\"");
  for (i = 0; s[i] && i < max; i++) {
    unsigned char c = (unsigned char)s[i];
    char e[5] = {'\\', 0, 0, 0, 0};
    switch (c) {
    case '\n':
      e[1] = 'n';
      break;
    case '\t':
      e[1] = 't';
      break;
    case '"':
      e[1] = '"';
      break;
    case '\\':
      e[1] = '\\';
      break;
    default:
      if (c >= 0x20 && c < 0x7f) {
        e[0] = (char)c;
      } else {
        e[1] = 'x';
        e[2] = hex[c >> 4];
        e[3] = hex[c & 15];
      }
    }
    gp__msg_put(m, e);
  }
  gp__msg_put(m, "\"");
  if (s[i])
    gp__msg_put(m, "...");
}

void gp__msg_send(struct gp__msg *m)
{
  int saved = errno;
  size_t off = 0;

  if (m->len == 0 || m->buf[m->len - 1] != '\n') {
    if (m->len + 1 >= sizeof(m->buf))
      m->len = sizeof(m->buf) - 2; /* the newline goes in, cutting text */
    m->buf[m->len++] = '\n';
    m->buf[m->len] = '\0';
  }
  gp__real_init(); /* a unit test may report before anything else ran */
  while (off < m->len && gp__real_write) {
    ssize_t r = gp__real_write(2, m->buf + off, m->len - off);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    off += (size_t)r;
  }
  errno = saved;
}

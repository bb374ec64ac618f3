/* list.h: intrusive circular doubly-linked lists (the ready queue, wait
 * queues, the registry of live coroutines). An empty list points at itself. */
#ifndef GP_LIST_H
#define GP_LIST_H

#include <stddef.h>

struct gp__list {
  struct gp__list *next; /* the following node, or the head */
  struct gp__list *prev; /* the preceding node, or the head */
};

#define GP__CONTAINER(ptr, type, field)                                        \
  ((type *)((char *)(ptr)-offsetof(type, field)))

static inline void gp__list_init(struct gp__list *l)
{
  l->next = l->prev = l;
}

static inline int gp__list_empty(const struct gp__list *l)
{
  return l->next == l;
}

/* A node that was removed (or initialised) points at itself. */
static inline int gp__list_linked(const struct gp__list *n)
{
  return n->next != n;
}

static inline void gp__list_push_back(struct gp__list *l, struct gp__list *n)
{
  n->prev = l->prev;
  n->next = l;
  l->prev->next = n;
  l->prev = n;
}

static inline void gp__list_remove(struct gp__list *n)
{
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->next = n->prev = n;
}

static inline struct gp__list *gp__list_pop_front(struct gp__list *l)
{
  struct gp__list *n = l->next;
  if (n == l)
    return NULL;
  gp__list_remove(n);
  return n;
}

#endif /* GP_LIST_H */

/* api.h: what the public API's two files (api.c, event.c) share. */
#ifndef GP_API_H
#define GP_API_H

#include "wait.h"

/* A wait's result as the public API reports it: a gp_timeout block's
 * expiry is -ETIMEDOUT there (gpatch.h). */
static inline int gp__api_err(int r)
{
  return r == -GP__EXPIRED ? -ETIMEDOUT : r;
}

#endif /* GP_API_H */

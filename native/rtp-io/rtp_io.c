/*
 * rtp_io.c - batched UDP I/O for the media pipeline's RTP/RTCP sockets.
 *
 * Role: this add-on owns every RTP/RTCP UDP socket of the process. All of
 * them are registered on ONE private epoll instance, and that epoll fd is
 * the only thing libuv watches (a single uv_poll_t). When it becomes
 * readable we drain up to one datagram per ready socket straight into the
 * JS Buffer that socket registered at open(), describe the batch in a shared
 * Int32Array (`meta`) and make ONE JS call per batch. Sends are plain
 * synchronous send()/sendto() calls.
 *
 * Why: with ~1,000 streams at 50 packets/s each way, node:dgram costs a new
 * Buffer, an rinfo object and a JS callback per received datagram and a
 * SendWrap per send (~5 us per datagram). Here the per-datagram cost is a
 * recvmsg() plus four int32 stores, and the per-batch cost is one
 * napi_make_callback. Nothing on the receive path allocates.
 *
 * Contract with the JS side (see the TypeScript wrapper):
 *  - meta entry i is meta[4i .. 4i+3] = [id, lenOrNegErrno, sourceChanged,
 *    sourcePort]; it is only valid during the onBatch call, and so is the
 *    content of each socket's recv buffer.
 *  - a closed id is not handed out again until the next poll callback
 *    begins, so a batch (or a JS structure filled from it) that still names
 *    a just-closed id can never be confused with a new socket.
 *  - errors from syscalls are returned as -errno; only misuse of the API
 *    (wrong argument types, init twice) throws.
 *  - native code keeps raw pointers into `meta` and into every registered
 *    recv Buffer (that is what makes the receive path allocation-free), so
 *    their ArrayBuffers must never be transferred/detached while in use; the
 *    napi references only keep them from being collected.
 *
 * Single environment only: the state below is process-global and bound to
 * the napi_env that called init(); calls from any other env (workers) throw.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* 1024 events per epoll_wait covers the whole expected socket population in
 * one round; 16 rounds bound the time spent in one libuv callback so timers
 * and signalling are not starved under a flood. */
#define MAX_EVENTS 1024
#define MAX_ROUNDS 16
/* Longest textual address we accept (an IPv6 literal is at most 45 chars);
 * longer strings cannot be valid and are rejected with -EINVAL. */
#define ADDR_STR_MAX 64

enum { S_FREE = 0, S_OPEN = 1, S_PENDING = 2 };

typedef union {
  struct sockaddr sa;
  struct sockaddr_in in4;
  struct sockaddr_in6 in6;
} sockaddr_u;

typedef struct {
  int fd;
  int state;
  int next; /* link in the free or pending-free list */
  int family;
  /* Bound with port 0: Linux forgets an auto-assigned port on
   * connect(AF_UNSPEC), so disconnect() has to bind it again. */
  int ephemeral;
  napi_ref buf_ref;
  uint8_t *buf;
  size_t buf_len;
  sockaddr_u local;
  socklen_t local_len;
  sockaddr_u src; /* source of the last accepted datagram */
  socklen_t src_len; /* 0 = nothing received yet */
  /* sendTo() destination cache: RTP peers rarely change, so skip
   * inet_pton while the (string, port) pair stays the same. */
  sockaddr_u dst;
  socklen_t dst_len; /* 0 = cache empty */
  int dst_port;
  size_t dst_str_len;
  char dst_str[ADDR_STR_MAX];
} sock_t;

static struct {
  napi_env env;
  bool initialized;
  bool shutting_down;
  int ep;
  uv_poll_t poll;
  napi_ref meta_ref;
  napi_ref cb_ref;
  int32_t *meta;
  size_t meta_entries;
  napi_async_context actx;
  sock_t *socks;
  int cap;
  int free_head;
  int pending_head;
  int pending_tail;
  int open_count;
  double batches, datagrams, rounds, recv_errors;
  struct epoll_event events[MAX_EVENTS];
} g = { .ep = -1, .free_head = -1, .pending_head = -1, .pending_tail = -1 };

/* ---------- small N-API helpers ---------- */

static napi_value make_int(napi_env env, int32_t v) {
  napi_value r;
  napi_create_int32(env, v, &r);
  return r;
}

static napi_value type_error(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

static bool ready(napi_env env) {
  if (!g.initialized || g.shutting_down || g.env != env) {
    napi_throw_error(env, NULL,
                     "rtp-io: init() has not been called in this environment");
    return false;
  }
  return true;
}

static bool get_i32(napi_env env, napi_value v, int32_t *out, const char *msg) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    type_error(env, msg);
    return false;
  }
  return true;
}

/* Copies a JS string into buf (ADDR_STR_MAX bytes). *len is set to
 * ADDR_STR_MAX when the string is too long to be an address. */
static bool get_addr_str(napi_env env, napi_value v, char *buf, size_t *len,
                         const char *msg) {
  if (napi_get_value_string_utf8(env, v, buf, ADDR_STR_MAX, len) != napi_ok) {
    type_error(env, msg);
    return false;
  }
  if (*len >= ADDR_STR_MAX - 1) *len = ADDR_STR_MAX;
  return true;
}

/* Resolves a byte range of any TypedArray. Returns false (with a TypeError
 * pending) for non-TypedArrays; *p is NULL when the range is out of bounds. */
static bool get_bytes(napi_env env, napi_value arr, int32_t off, int32_t len,
                      const uint8_t **p) {
  bool is;
  napi_typedarray_type t;
  size_t n, boff;
  void *data;
  napi_value ab;
  if (napi_is_typedarray(env, arr, &is) != napi_ok || !is) {
    type_error(env, "buf must be a Buffer, Uint8Array or other TypedArray");
    return false;
  }
  if (napi_get_typedarray_info(env, arr, &t, &n, &data, &ab, &boff) != napi_ok) {
    type_error(env, "buf must be a Buffer, Uint8Array or other TypedArray");
    return false;
  }
  size_t esz = 1;
  switch (t) {
    case napi_int16_array: case napi_uint16_array: esz = 2; break;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array:
      esz = 4; break;
    case napi_float64_array: case napi_bigint64_array:
    case napi_biguint64_array: esz = 8; break;
    default: esz = 1;
  }
  size_t bytes = n * esz;
  /* Node's napi_get_typedarray_info already returns data advanced by the
   * view's byte_offset (it points at element 0 of the view), so adding
   * boff again would address the wrong bytes for subarray() views. */
  if (off < 0 || len < 0 || (size_t)off + (size_t)len > bytes)
    *p = NULL;
  else if (data == NULL) /* zero-length view without a backing store */
    *p = (const uint8_t *)"";
  else
    *p = (const uint8_t *)data + off;
  return true;
}

static int parse_addr(int family, const char *s, size_t slen, int32_t port,
                      sockaddr_u *out, socklen_t *out_len) {
  if (port < 0 || port > 65535 || slen >= ADDR_STR_MAX) return -EINVAL;
  memset(out, 0, sizeof *out);
  if (family == AF_INET) {
    out->in4.sin_family = AF_INET;
    out->in4.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, s, &out->in4.sin_addr) != 1) return -EINVAL;
    *out_len = sizeof(struct sockaddr_in);
  } else {
    out->in6.sin6_family = AF_INET6;
    out->in6.sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, s, &out->in6.sin6_addr) != 1) return -EINVAL;
    *out_len = sizeof(struct sockaddr_in6);
  }
  return 0;
}

static int sa_port(const sockaddr_u *a) {
  if (a->sa.sa_family == AF_INET) return ntohs(a->in4.sin_port);
  if (a->sa.sa_family == AF_INET6) return ntohs(a->in6.sin6_port);
  return 0;
}

/* ---------- id table ---------- */

static sock_t *lookup(int32_t id) {
  if (id < 0 || id >= g.cap) return NULL;
  sock_t *s = &g.socks[id];
  return s->state == S_OPEN ? s : NULL;
}

/* Returns a free id (growing the table if needed) or -1. The table may move,
 * so callers re-index g.socks after this and never keep sock_t pointers
 * across calls into JS. */
static int alloc_id(void) {
  if (g.free_head < 0) {
    int ncap = g.cap ? g.cap * 2 : 64;
    sock_t *n = realloc(g.socks, (size_t)ncap * sizeof(sock_t));
    if (n == NULL) return -1;
    g.socks = n;
    /* Link new slots lowest-first so ids stay small and dense. */
    for (int i = ncap - 1; i >= g.cap; i--) {
      memset(&n[i], 0, sizeof(sock_t));
      n[i].fd = -1;
      n[i].state = S_FREE;
      n[i].next = g.free_head;
      g.free_head = i;
    }
    g.cap = ncap;
  }
  int id = g.free_head;
  g.free_head = g.socks[id].next;
  return id;
}

static void push_free(int id) {
  g.socks[id].state = S_FREE;
  g.socks[id].next = g.free_head;
  g.free_head = id;
}

static void push_pending(int id) {
  g.socks[id].state = S_PENDING;
  g.socks[id].next = -1;
  if (g.pending_tail >= 0)
    g.socks[g.pending_tail].next = id;
  else
    g.pending_head = id;
  g.pending_tail = id;
}

static void release_pending(void) {
  int id = g.pending_head;
  while (id >= 0) {
    int next = g.socks[id].next;
    push_free(id);
    id = next;
  }
  g.pending_head = g.pending_tail = -1;
}

/* The poll handle keeps the loop alive only while a socket is open, so an
 * idle process (all calls ended) can exit. */
static void count_open(int delta) {
  int before = g.open_count;
  g.open_count += delta;
  if (before == 0 && g.open_count > 0) uv_ref((uv_handle_t *)&g.poll);
  if (before > 0 && g.open_count == 0) uv_unref((uv_handle_t *)&g.poll);
}

static void close_sock(int id, napi_env env) {
  sock_t *s = &g.socks[id];
  epoll_ctl(g.ep, EPOLL_CTL_DEL, s->fd, NULL);
  close(s->fd);
  s->fd = -1;
  if (s->buf_ref != NULL) napi_delete_reference(env, s->buf_ref);
  s->buf_ref = NULL;
  s->buf = NULL;
  s->buf_len = 0;
  s->src_len = 0;
  s->dst_len = 0;
  push_pending(id);
  count_open(-1);
}

/* ---------- hot path ---------- */

static void dispatch(napi_env env, int count) {
  napi_handle_scope scope;
  napi_value cb, recv, arg, result;
  bool pending = false;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  if (napi_get_reference_value(env, g.cb_ref, &cb) == napi_ok && cb != NULL &&
      napi_get_global(env, &recv) == napi_ok &&
      napi_create_int32(env, count, &arg) == napi_ok) {
    napi_make_callback(env, g.actx, recv, cb, 1, &arg, &result);
  }
  /* A throwing onBatch must not unwind through libuv: hand the error to
   * Node's uncaught-exception machinery and keep draining sockets. */
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_value exc;
    if (napi_get_and_clear_last_exception(env, &exc) == napi_ok)
      napi_fatal_exception(env, exc);
  }
  napi_close_handle_scope(env, scope);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  (void)h;
  (void)status;
  (void)events;
  if (!g.initialized || g.shutting_down) return;
  napi_env env = g.env;
  /* Ids closed before this callback can no longer appear in a batch JS is
   * still looking at, so they become reusable now (and only now). */
  release_pending();

  int max_entries = (int)g.meta_entries;
  int max_ev = max_entries < MAX_EVENTS ? max_entries : MAX_EVENTS;
  for (int round = 0; round < MAX_ROUNDS; round++) {
    int n = epoll_wait(g.ep, g.events, max_ev, 0);
    if (n <= 0) break;
    g.rounds++;
    int32_t *m = g.meta;
    int count = 0;
    for (int i = 0; i < n && count < max_entries; i++) {
      uint32_t id = g.events[i].data.u32;
      if (id >= (uint32_t)g.cap) continue;
      sock_t *s = &g.socks[id];
      if (s->state != S_OPEN) continue;

      sockaddr_u from;
      struct iovec iov = { .iov_base = s->buf, .iov_len = s->buf_len };
      struct msghdr msg;
      memset(&msg, 0, sizeof msg);
      msg.msg_name = &from;
      msg.msg_namelen = sizeof from;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      /* One datagram per socket per round: the next one would overwrite
       * the buffer before JS has read it. Level-triggered epoll returns
       * the socket again in the next round. */
      ssize_t r = recvmsg(s->fd, &msg, MSG_DONTWAIT);
      int32_t *e = m + (size_t)count * 4;
      if (r < 0) {
        int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) continue;
        e[0] = (int32_t)id;
        e[1] = -err;
        e[2] = 0;
        e[3] = 0;
        count++;
        g.recv_errors++;
        continue;
      }
      if (msg.msg_flags & MSG_TRUNC) {
        /* The datagram is unusable, so it does not count as the socket's
         * latest source: changed stays 0 and source() is not updated,
         * otherwise a JS side that skips error entries would miss a
         * source change. The port is reported for diagnostics only. */
        e[0] = (int32_t)id;
        e[1] = -EMSGSIZE;
        e[2] = 0;
        e[3] = sa_port(&from);
        count++;
        g.recv_errors++;
        continue;
      }
      int changed = s->src_len != msg.msg_namelen ||
                    memcmp(&s->src, &from, msg.msg_namelen) != 0;
      if (changed) {
        memcpy(&s->src, &from, msg.msg_namelen);
        s->src_len = msg.msg_namelen;
      }
      e[0] = (int32_t)id;
      e[1] = (int32_t)r;
      e[2] = changed;
      e[3] = sa_port(&from);
      count++;
      g.datagrams++;
    }
    if (count > 0) {
      g.batches++;
      dispatch(env, count);
      /* onBatch may have ended the process's use of the module (or an
       * uncaught-exception handler may have torn things down). */
      if (!g.initialized || g.shutting_down) return;
    }
  }
}

/* ---------- teardown ---------- */

static void on_poll_closed(uv_handle_t *h) {
  (void)h;
  if (g.ep >= 0) close(g.ep);
  g.ep = -1;
  free(g.socks);
  g.socks = NULL;
  g.cap = 0;
  g.free_head = g.pending_head = g.pending_tail = -1;
}

static void cleanup_hook(void *arg) {
  (void)arg;
  napi_env env = g.env;
  g.shutting_down = true;
  for (int i = 0; i < g.cap; i++) {
    if (g.socks[i].state == S_OPEN) close_sock(i, env);
  }
  uv_poll_stop(&g.poll);
  uv_close((uv_handle_t *)&g.poll, on_poll_closed);
  if (g.cb_ref) napi_delete_reference(env, g.cb_ref);
  if (g.meta_ref) napi_delete_reference(env, g.meta_ref);
  if (g.actx) napi_async_destroy(env, g.actx);
  g.cb_ref = g.meta_ref = NULL;
  g.actx = NULL;
  g.meta = NULL;
  g.meta_entries = 0;
  g.initialized = false;
}

/* ---------- JS API ---------- */

#define ARGS(N)                                                   \
  size_t argc = (N);                                              \
  napi_value argv[(N)];                                           \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) \
    return NULL;

/* init(meta: Int32Array, onBatch: (count) => void): void */
static napi_value js_init(napi_env env, napi_callback_info info) {
  ARGS(2)
  if (g.initialized || g.shutting_down) {
    napi_throw_error(env, NULL, g.env == env
                                    ? "rtp-io: init() already called"
                                    : "rtp-io: already initialized by another environment");
    return NULL;
  }
  bool is;
  napi_typedarray_type t;
  size_t len, boff;
  void *data;
  napi_value ab;
  if (napi_is_typedarray(env, argv[0], &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, argv[0], &t, &len, &data, &ab, &boff) != napi_ok ||
      t != napi_int32_array || len < 4)
    return type_error(env, "meta must be an Int32Array with length >= 4");
  napi_valuetype vt;
  if (napi_typeof(env, argv[1], &vt) != napi_ok || vt != napi_function)
    return type_error(env, "onBatch must be a function");

  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    napi_throw_error(env, NULL, "rtp-io: cannot get the libuv loop");
    return NULL;
  }
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    napi_throw_error(env, NULL, "rtp-io: epoll_create1 failed");
    return NULL;
  }
  if (uv_poll_init(loop, &g.poll, ep) != 0) {
    close(ep);
    napi_throw_error(env, NULL, "rtp-io: uv_poll_init failed");
    return NULL;
  }
  g.env = env;
  g.ep = ep;
  /* From here on the handle belongs to the loop and must be uv_close()d on
   * failure; on_poll_closed then closes ep. */
  uv_unref((uv_handle_t *)&g.poll);

  napi_value name;
  if (uv_poll_start(&g.poll, UV_READABLE, on_poll) != 0 ||
      napi_create_reference(env, argv[0], 1, &g.meta_ref) != napi_ok ||
      napi_create_reference(env, argv[1], 1, &g.cb_ref) != napi_ok ||
      napi_create_string_utf8(env, "rtp-io", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &g.actx) != napi_ok ||
      napi_add_env_cleanup_hook(env, cleanup_hook, NULL) != napi_ok) {
    /* Leave the module unusable rather than half-initialised. */
    g.shutting_down = true;
    uv_poll_stop(&g.poll);
    uv_close((uv_handle_t *)&g.poll, on_poll_closed);
    napi_throw_error(env, NULL, "rtp-io: init failed");
    return NULL;
  }

  g.meta = (int32_t *)data; /* already advanced by the view's byte offset */
  g.meta_entries = len / 4;
  g.initialized = true;
  return NULL;
}

/* open(ipv6, address, port, recvBuffer, rcvbufBytes, sndbufBytes): id | -errno */
static napi_value js_open(napi_env env, napi_callback_info info) {
  ARGS(6)
  if (!ready(env)) return NULL;
  bool v6, isbuf;
  char addr[ADDR_STR_MAX];
  size_t alen;
  int32_t port, rcvbuf, sndbuf;
  void *bdata;
  size_t blen;
  if (napi_get_value_bool(env, argv[0], &v6) != napi_ok)
    return type_error(env, "ipv6 must be a boolean");
  if (!get_addr_str(env, argv[1], addr, &alen, "address must be a string")) return NULL;
  if (!get_i32(env, argv[2], &port, "port must be a number")) return NULL;
  if (napi_is_buffer(env, argv[3], &isbuf) != napi_ok || !isbuf ||
      napi_get_buffer_info(env, argv[3], &bdata, &blen) != napi_ok)
    return type_error(env, "recvBuffer must be a Buffer");
  if (!get_i32(env, argv[4], &rcvbuf, "rcvbufBytes must be a number")) return NULL;
  if (!get_i32(env, argv[5], &sndbuf, "sndbufBytes must be a number")) return NULL;

  int family = v6 ? AF_INET6 : AF_INET;
  sockaddr_u local;
  socklen_t llen;
  int rc = parse_addr(family, addr, alen, port, &local, &llen);
  if (rc < 0) return make_int(env, rc);

  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_int(env, -errno);
  int one = 1;
  /* A v6 socket must not also capture the v4 port: the v4 socket for the
   * same port is a separate stream owned by someone else. */
  if (v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) {
    rc = -errno;
    goto fail;
  }
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (sndbuf > 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  if (bind(fd, &local.sa, llen) < 0) {
    rc = -errno;
    goto fail;
  }
  if (port == 0) {
    /* Remember the concrete port so disconnect() can restore it. */
    socklen_t l = sizeof local;
    if (getsockname(fd, &local.sa, &l) < 0) {
      rc = -errno;
      goto fail;
    }
    llen = l;
  }

  int id = alloc_id();
  if (id < 0) {
    rc = -ENOMEM;
    goto fail;
  }
  sock_t *s = &g.socks[id];
  napi_ref ref;
  if (napi_create_reference(env, argv[3], 1, &ref) != napi_ok) {
    push_free(id);
    rc = -ENOMEM;
    goto fail;
  }
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN; /* level-triggered on purpose, see on_poll */
  ev.data.u32 = (uint32_t)id;
  if (epoll_ctl(g.ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
    rc = -errno;
    napi_delete_reference(env, ref);
    push_free(id);
    goto fail;
  }
  memset(s, 0, sizeof *s);
  s->fd = fd;
  s->state = S_OPEN;
  s->next = -1;
  s->family = family;
  s->ephemeral = port == 0;
  s->buf_ref = ref;
  s->buf = (uint8_t *)bdata;
  s->buf_len = blen;
  s->local = local;
  s->local_len = llen;
  count_open(+1);
  return make_int(env, id);

fail:
  close(fd);
  return make_int(env, rc);
}

/* localPort(id): port | -errno */
static napi_value js_local_port(napi_env env, napi_callback_info info) {
  ARGS(1)
  if (!ready(env)) return NULL;
  int32_t id;
  if (!get_i32(env, argv[0], &id, "id must be a number")) return NULL;
  sock_t *s = lookup(id);
  if (s == NULL) return make_int(env, -EBADF);
  sockaddr_u a;
  socklen_t l = sizeof a;
  if (getsockname(s->fd, &a.sa, &l) < 0) return make_int(env, -errno);
  return make_int(env, sa_port(&a));
}

/* connect(id, port, address): 0 | -errno */
static napi_value js_connect(napi_env env, napi_callback_info info) {
  ARGS(3)
  if (!ready(env)) return NULL;
  int32_t id, port;
  char addr[ADDR_STR_MAX];
  size_t alen;
  if (!get_i32(env, argv[0], &id, "id must be a number")) return NULL;
  if (!get_i32(env, argv[1], &port, "port must be a number")) return NULL;
  if (!get_addr_str(env, argv[2], addr, &alen, "address must be a string")) return NULL;
  sock_t *s = lookup(id);
  if (s == NULL) return make_int(env, -EBADF);
  sockaddr_u a;
  socklen_t l;
  int rc = parse_addr(s->family, addr, alen, port, &a, &l);
  if (rc < 0) return make_int(env, rc);
  if (connect(s->fd, &a.sa, l) < 0) return make_int(env, -errno);
  return make_int(env, 0);
}

/* disconnect(id): 0 | -errno */
static napi_value js_disconnect(napi_env env, napi_callback_info info) {
  ARGS(1)
  if (!ready(env)) return NULL;
  int32_t id;
  if (!get_i32(env, argv[0], &id, "id must be a number")) return NULL;
  sock_t *s = lookup(id);
  if (s == NULL) return make_int(env, -EBADF);
  struct sockaddr un;
  memset(&un, 0, sizeof un);
  un.sa_family = AF_UNSPEC;
  if (connect(s->fd, &un, sizeof un) < 0) return make_int(env, -errno);
  if (s->ephemeral) {
    /* Linux unbinds a socket whose port was auto-assigned when it is
     * disconnected; without this the socket would silently stop receiving
     * and pick a new random port on the next send. */
    sockaddr_u a;
    socklen_t l = sizeof a;
    if (getsockname(s->fd, &a.sa, &l) == 0 && sa_port(&a) == 0) {
      if (bind(s->fd, &s->local.sa, s->local_len) < 0) return make_int(env, -errno);
    }
    s->ephemeral = 0; /* an explicit bind pins the port from now on */
  }
  return make_int(env, 0);
}

/* send(id, buf, offset, length): bytes | -errno */
static napi_value js_send(napi_env env, napi_callback_info info) {
  ARGS(4)
  if (!ready(env)) return NULL;
  int32_t id, off, len;
  const uint8_t *p;
  if (!get_i32(env, argv[0], &id, "id must be a number")) return NULL;
  if (!get_i32(env, argv[2], &off, "offset must be a number")) return NULL;
  if (!get_i32(env, argv[3], &len, "length must be a number")) return NULL;
  if (!get_bytes(env, argv[1], off, len, &p)) return NULL;
  sock_t *s = lookup(id);
  if (s == NULL) return make_int(env, -EBADF);
  if (p == NULL) return make_int(env, -EINVAL);
  ssize_t r = send(s->fd, p, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
  return make_int(env, r < 0 ? -errno : (int32_t)r);
}

/* sendTo(id, buf, offset, length, port, address): bytes | -errno */
static napi_value js_send_to(napi_env env, napi_callback_info info) {
  ARGS(6)
  if (!ready(env)) return NULL;
  int32_t id, off, len, port;
  const uint8_t *p;
  char addr[ADDR_STR_MAX];
  size_t alen;
  if (!get_i32(env, argv[0], &id, "id must be a number")) return NULL;
  if (!get_i32(env, argv[2], &off, "offset must be a number")) return NULL;
  if (!get_i32(env, argv[3], &len, "length must be a number")) return NULL;
  if (!get_i32(env, argv[4], &port, "port must be a number")) return NULL;
  if (!get_addr_str(env, argv[5], addr, &alen, "address must be a string")) return NULL;
  if (!get_bytes(env, argv[1], off, len, &p)) return NULL;
  sock_t *s = lookup(id);
  if (s == NULL) return make_int(env, -EBADF);
  if (p == NULL) return make_int(env, -EINVAL);
  if (s->dst_len == 0 || s->dst_port != port || s->dst_str_len != alen ||
      memcmp(s->dst_str, addr, alen) != 0) {
    sockaddr_u a;
    socklen_t l;
    int rc = parse_addr(s->family, addr, alen, port, &a, &l);
    if (rc < 0) return make_int(env, rc);
    s->dst = a;
    s->dst_len = l;
    s->dst_port = port;
    s->dst_str_len = alen;
    memcpy(s->dst_str, addr, alen);
  }
  ssize_t r = sendto(s->fd, p, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL,
                     &s->dst.sa, s->dst_len);
  return make_int(env, r < 0 ? -errno : (int32_t)r);
}

/* source(id): [address, port] | null */
static napi_value js_source(napi_env env, napi_callback_info info) {
  ARGS(1)
  if (!ready(env)) return NULL;
  int32_t id;
  if (!get_i32(env, argv[0], &id, "id must be a number")) return NULL;
  sock_t *s = lookup(id);
  napi_value r;
  if (s == NULL || s->src_len == 0) {
    napi_get_null(env, &r);
    return r;
  }
  char str[INET6_ADDRSTRLEN];
  const void *ap = s->src.sa.sa_family == AF_INET
                       ? (const void *)&s->src.in4.sin_addr
                       : (const void *)&s->src.in6.sin6_addr;
  if (inet_ntop(s->src.sa.sa_family, ap, str, sizeof str) == NULL) {
    napi_get_null(env, &r);
    return r;
  }
  napi_value a, pt;
  napi_create_array_with_length(env, 2, &r);
  napi_create_string_utf8(env, str, NAPI_AUTO_LENGTH, &a);
  napi_create_int32(env, sa_port(&s->src), &pt);
  napi_set_element(env, r, 0, a);
  napi_set_element(env, r, 1, pt);
  return r;
}

/* close(id): 0 | -EBADF */
static napi_value js_close(napi_env env, napi_callback_info info) {
  ARGS(1)
  if (!ready(env)) return NULL;
  int32_t id;
  if (!get_i32(env, argv[0], &id, "id must be a number")) return NULL;
  if (lookup(id) == NULL) return make_int(env, -EBADF);
  close_sock(id, env);
  return make_int(env, 0);
}

/* openCount(): number */
static napi_value js_open_count(napi_env env, napi_callback_info info) {
  (void)info;
  if (!ready(env)) return NULL;
  return make_int(env, g.open_count);
}

/* stats(): { batches, datagrams, rounds, recvErrors } */
static napi_value js_stats(napi_env env, napi_callback_info info) {
  (void)info;
  if (!ready(env)) return NULL;
  napi_value o, v;
  napi_create_object(env, &o);
  napi_create_double(env, g.batches, &v);
  napi_set_named_property(env, o, "batches", v);
  napi_create_double(env, g.datagrams, &v);
  napi_set_named_property(env, o, "datagrams", v);
  napi_create_double(env, g.rounds, &v);
  napi_set_named_property(env, o, "rounds", v);
  napi_create_double(env, g.recv_errors, &v);
  napi_set_named_property(env, o, "recvErrors", v);
  return o;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
    { "init", NULL, js_init, NULL, NULL, NULL, napi_enumerable, NULL },
    { "open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL },
    { "localPort", NULL, js_local_port, NULL, NULL, NULL, napi_enumerable, NULL },
    { "connect", NULL, js_connect, NULL, NULL, NULL, napi_enumerable, NULL },
    { "disconnect", NULL, js_disconnect, NULL, NULL, NULL, napi_enumerable, NULL },
    { "send", NULL, js_send, NULL, NULL, NULL, napi_enumerable, NULL },
    { "sendTo", NULL, js_send_to, NULL, NULL, NULL, napi_enumerable, NULL },
    { "source", NULL, js_source, NULL, NULL, NULL, napi_enumerable, NULL },
    { "close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL },
    { "openCount", NULL, js_open_count, NULL, NULL, NULL, napi_enumerable, NULL },
    { "stats", NULL, js_stats, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok)
    return NULL;
  return exports;
}

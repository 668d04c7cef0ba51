/*
 * rtp_io.c - batched UDP I/O for the media pipeline's RTP/RTCP sockets.
 *
 * Role: this add-on owns every RTP/RTCP UDP socket of the process. All of
 * them are registered on ONE private epoll instance. Received datagrams are
 * handed to JS in batches: each datagram lands in the JS Buffer its socket
 * registered at open(), the batch is described in a shared Int32Array
 * (`meta`) and JS is called ONCE per batch.
 *
 * Why: with ~1,000 streams at 50 packets/s each way, node:dgram costs a new
 * Buffer, an rinfo object and a JS callback per received datagram and a
 * SendWrap per send (~5 us per datagram). Here the per-datagram cost is a
 * recvmsg() (or a memcpy, see threaded mode) plus four int32 stores, and the
 * per-batch cost is one napi_make_callback. Nothing on the hot paths
 * allocates, in either mode.
 *
 * Two modes (the second with a variant), same JS API:
 *
 *  - poll mode (default, init(meta, onBatch)): the epoll fd is the only thing
 *    libuv watches (a uv_poll_t). When it becomes readable the JS thread
 *    drains up to one datagram per ready socket straight into the registered
 *    Buffers. Sends are synchronous send()/sendto() calls on the JS thread.
 *
 *  - threaded mode (init(meta, onBatch, { thread: true })): the JS thread was
 *    measured spending ~40% of its time in the kernel (loopback send() runs
 *    the receiver's delivery too), while the second core had headroom. So
 *    every socket syscall of the hot path moves to ONE I/O thread ("rtp-io")
 *    and the JS thread only copies bytes into and out of two lock-free
 *    single-producer/single-consumer rings (4 MiB each, variable-length
 *    entries, C11 acquire/release on the head/tail positions):
 *
 *      recv ring  I/O thread -> JS: datagrams (id, generation, length or
 *                 -errno, source address, bytes) and send errors.
 *      send ring  JS -> I/O thread: SEND / SENDTO (with a ready sockaddr, the
 *                 address cache stays on the JS thread) / CLOSE commands.
 *
 *    The I/O thread blocks in epoll_wait() on all sockets plus an eventfd.
 *    Each iteration it first performs the queued sends (send timing matters
 *    most), then reads up to RECV_BURST datagrams per ready socket (one per
 *    socket per pass, so consecutive entries belong to different sockets and
 *    JS batches stay large), calls uv_async_send() if it queued anything,
 *    and drains the send ring once more. With options.coalesceUs > 0 (off by
 *    default), after a round that received it waits that long on the eventfd
 *    alone, so the datagrams of the window are taken in one round and one JS
 *    batch instead of one wake-up of both threads per arrival. If the recv ring is full it stops
 *    reading (the kernel keeps queuing) and waits on the eventfd until JS
 *    has drained the ring.
 *
 *    With { thread: true, sendOnThread: false } the I/O thread only
 *    receives: sends stay synchronous syscalls on the JS thread (as in poll
 *    mode), so a packet leaves at the instant JS sends it. Otherwise:
 *
 *    JS sends only append to the send ring and return the length (or
 *    -ENOBUFS when the ring is full). The I/O thread is woken at most once
 *    per JS turn: a uv_prepare_t (runs right before the loop blocks) and the
 *    end of every onBatch round write the eventfd if sends were queued since
 *    the last wake-up and the I/O thread announced it is about to sleep. So
 *    every packet sent in one JS turn (one media-clock slot) leaves as one
 *    burst, and an I/O thread that is busy anyway costs no syscall at all.
 *    Errors of those sends (ICMP-triggered ECONNREFUSED, EAGAIN on a full
 *    socket buffer, ...) come back as recv-ring entries [id, -errno], at
 *    most one per socket per 100 ms.
 *
 *    Shutdown: the env cleanup hook sets a stop flag, wakes the thread and
 *    joins it (its last act is to perform what is still queued), then
 *    closes the remaining fds and the handles. process.exit() skips cleanup
 *    hooks, so an atexit() handler does the same stop-and-join (bounded to
 *    200 ms): sends made right before process.exit() still leave, as they
 *    would have in poll mode.
 *
 *    The uv_async_t callback drains the recv ring into batches with the same
 *    contract as poll mode. A batch never holds two entries of one socket
 *    (each socket has one Buffer): a second entry starts a new batch. The
 *    per-socket "last source" behind sourceChanged/source() is JS-owned.
 *
 *    Close and fd reuse (threaded mode): close(id) removes the fd from epoll
 *    on the JS thread and queues a CLOSE command behind every send already
 *    queued for that id; only the I/O thread close()s the fd, after those
 *    sends, and then clears the slot's `live` flag. Hence the kernel can hand
 *    the fd number out again only once no queued packet refers to it any
 *    more: a packet can never leave through a socket that reused the number.
 *    close() still frees the port before it returns, as in poll mode: with
 *    sends on the JS thread nothing is queued, so it dup3()s a placeholder
 *    socket over the fd (the number stays taken until the I/O thread closes
 *    it); with sends on the I/O thread it wakes the thread and waits for
 *    the close (normally microseconds; bounded at 200 ms).
 *    An id is handed out again only when BOTH the I/O thread has closed its
 *    fd (`live` == 0) AND a JS batch boundary has passed since close() (the
 *    poll-mode rule below). Recv entries carry the id's generation, so an
 *    entry read from the old socket that is still in the ring is skipped even
 *    after the id was reused. connect()/disconnect()/localPort() stay
 *    synchronous syscalls on the JS thread (the fd is guaranteed open while
 *    the id is), so a send queued before connect()/disconnect() in the same
 *    JS turn is performed after it. One exception to "no locking": Linux
 *    unbinds an auto-bound socket on disconnect and we re-bind it, so the
 *    I/O thread must not send on that socket between those two syscalls
 *    (a send would bind it to a new random port); a per-socket `hold` flag
 *    and the id being sent on right now (seq_cst, Dekker-style) keep them
 *    apart (hold_sends()).
 *
 * Contract with the JS side (see the TypeScript wrapper):
 *  - meta entry i is meta[4i .. 4i+3] = [id, lenOrNegErrno, sourceChanged,
 *    sourcePort]; it is only valid during the onBatch call, and so is the
 *    content of each socket's recv buffer.
 *  - a closed id is not handed out again until the next poll (threaded:
 *    async) callback begins, so a batch (or a JS structure filled from it)
 *    that still names a just-closed id can never be confused with a new
 *    socket.
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
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sched.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "media_timer.h"
#include "realtime.h"

/* 1024 events per epoll_wait covers the whole expected socket population in
 * one round; 16 rounds bound the time spent in one libuv callback so timers
 * and signalling are not starved under a flood. */
#define MAX_EVENTS 1024
#define MAX_ROUNDS 16
/* Longest textual address we accept (an IPv6 literal is at most 45 chars);
 * longer strings cannot be valid and are rejected with -EINVAL. */
#define ADDR_STR_MAX 64

/* ---- threaded mode ---- */
/* Each ring holds ~1 s of the expected traffic (1,000 streams x 50 x ~220
 * bytes per entry) with room to spare; a power of two for cheap masking. */
#define RING_BYTES ((size_t)4 << 20)
/* Datagrams read per ready socket per I/O-thread iteration. */
#define RECV_BURST 4
/* options.coalesceUs: after a round that received, the I/O thread may let
 * arrivals gather this long before it looks again (sends and stop still wake
 * it at once). Woken per arrival, at 1,000 bridged streams it runs ~45,000
 * rounds a second and wakes JS ~25,000 times for ~2 datagrams each; a 200 us
 * window cut that to ~3,000 rounds of ~23 datagrams and the process from 113%
 * to ~90% CPU (bench:media, 500 pairs). Off by default: on this project's
 * KVM guest the relay timing tail got worse with any window (30-200 us), most
 * likely because a vCPU that idles longer than the host's halt-polling window
 * is descheduled and wakes late. On bare metal it is worth trying. */
#define DEFAULT_COALESCE_US 0
#define MAX_COALESCE_US 20000
/* No UDP datagram is longer, so a larger registered Buffer never truncates;
 * it also bounds the contiguous space one ring entry may need. */
#define MAX_DGRAM 65536u
/* The I/O thread's id -> fd table grows in chunks that never move, so the
 * JS thread can add sockets while the I/O thread reads other slots. */
#define IO_CHUNK_SLOTS 1024
#define IO_MAX_CHUNKS 4096
/* Send errors are reported to JS at most once per socket per this period. */
#define SEND_ERR_REPORT_NS 100000000ull
/* epoll data of the eventfd (socket ids are far smaller). */
#define EFD_TOKEN UINT32_MAX

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
  /* Threaded mode: incremented by every open() of this id; recv entries
   * carry it so entries of a previous socket with the same id are skipped. */
  uint32_t gen;
  /* Threaded mode: number of the batch this socket last got an entry in. */
  uint32_t batch_mark;
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
  bool threaded;
  int ep;
  uv_poll_t poll;
  /* The handle that is ref'd while a socket is open (poll, or async in
   * threaded mode), and how many handles still await their close callback. */
  uv_handle_t *keepalive;
  int handles_closing;
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

/* ---------- threaded-mode state (`tm`) ---------- */

/* One ring entry. `size` covers header + payload and is a multiple of 8 so
 * the next header stays aligned; K_PAD fills the unusable tail of the buffer
 * when an entry would not fit contiguously before the wrap. */
enum { K_PAD = 0, K_DATA, K_SENDERR, K_SEND, K_SENDTO, K_CLOSE };
typedef struct {
  uint32_t size;
  uint16_t kind;
  uint16_t addr_len; /* source (recv) or destination (K_SENDTO) */
  int32_t id;
  uint32_t gen;
  int32_t len; /* payload bytes, or -errno (K_DATA error, K_SENDERR) */
  sockaddr_u addr;
} ent_t;
#define ENT_HDR sizeof(ent_t)
_Static_assert(sizeof(ent_t) % 8 == 0, "ring entries must stay 8-aligned");

/* head and tail are free-running byte positions (never wrapped, 64-bit), so
 * tail - head is the used space; the producer owns tail, the consumer head.
 * They live on separate cache lines so the two threads do not false-share. */
typedef struct {
  _Alignas(64) _Atomic uint64_t head;
  _Alignas(64) _Atomic uint64_t tail;
  _Alignas(64) uint8_t *buf;
  uint64_t mask;
} ring_t;

/* The I/O thread's view of a socket. JS writes fd/gen/buf_len/last_err_ns
 * only while live == 0 and publishes them with a release store of live = 1;
 * the I/O thread reads them only after an acquire load of live == 1, and is
 * the only one to set live = 0 (after close(fd)). */
typedef struct {
  _Atomic int live;
  /* Set by JS while disconnect() re-binds an auto-bound socket (see
   * js_disconnect): the I/O thread must not send on it meanwhile. */
  _Atomic int hold;
  int fd;
  uint32_t gen;
  uint32_t buf_len;     /* registered Buffer length, capped at MAX_DGRAM */
  uint64_t last_err_ns; /* I/O thread: last send error reported to JS */
} io_slot_t;

/* Counters with a single writer each; relaxed atomics only so that stats()
 * on the JS thread can read the I/O thread's ones. */
typedef _Atomic uint64_t counter_t;
static inline void bump(counter_t *c) {
  atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                        memory_order_relaxed);
}
static inline double read_counter(counter_t *c) {
  return (double)atomic_load_explicit(c, memory_order_relaxed);
}

static struct {
  int efd;
  /* Sends go through the send ring to the I/O thread (else JS sends them
   * itself and the thread only receives). */
  bool send_on_thread;
  /* An unbound UDP socket whose duplicate stands in for a closed socket's
   * fd until the I/O thread closes that number (see close_sock). */
  int placeholder;
  pthread_t thr;
  bool thr_running;
  uv_async_t async;
  uv_prepare_t prepare;
  ring_t rx; /* I/O thread -> JS */
  ring_t tx; /* JS -> I/O thread */
  _Atomic int stop;
  /* Set by the I/O thread right before it blocks; JS writes the eventfd
   * only when it is set (see flush_sends for the ordering argument). */
  _Atomic int sleeping;
  /* Gathering window after a receiving round (0: none); set before the
   * thread starts. */
  long coalesce_ns;
  /* Set by the I/O thread when the recv ring was full; JS wakes it after
   * draining. */
  _Atomic int rx_blocked;
  /* Id the I/O thread is sending on right now (-1: none); pairs with
   * io_slot_t.hold. */
  _Atomic int32_t sending_id;
  _Atomic(io_slot_t *) chunks[IO_MAX_CHUNKS];
  /* JS thread only */
  uint64_t tx_signalled; /* send-ring tail the I/O thread was told about */
  uint32_t batch_no;
  double send_queued, send_ring_full, wakeups, async_callbacks;
  /* I/O thread only */
  struct epoll_event events[MAX_EVENTS];
  uint32_t ready_ids[MAX_EVENTS];
  /* written by the I/O thread */
  counter_t sent, send_errors, send_errors_suppressed, send_dropped,
      recv_ring_full, io_rounds;
} tm = { .efd = -1, .placeholder = -1 };

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
  napi_typedarray_type type;
  size_t n, boff;
  void *data;
  napi_value ab;
  if (napi_is_typedarray(env, arr, &is) != napi_ok || !is) {
    type_error(env, "buf must be a Buffer, Uint8Array or other TypedArray");
    return false;
  }
  if (napi_get_typedarray_info(env, arr, &type, &n, &data, &ab, &boff) != napi_ok) {
    type_error(env, "buf must be a Buffer, Uint8Array or other TypedArray");
    return false;
  }
  size_t esz = 1;
  switch (type) {
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

/* ---------- rings (threaded mode) ---------- */

static inline uint32_t round8(uint32_t n) { return (n + 7u) & ~7u; }

static bool ring_alloc(ring_t *r) {
  r->buf = aligned_alloc(64, RING_BYTES);
  if (r->buf == NULL) return false;
  r->mask = RING_BYTES - 1;
  atomic_store_explicit(&r->head, 0, memory_order_relaxed);
  atomic_store_explicit(&r->tail, 0, memory_order_relaxed);
  return true;
}

/* Free bytes as seen from either side (a stale view only under-estimates). */
static inline uint64_t ring_free(ring_t *r) {
  uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
  uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
  return RING_BYTES - (tail - head);
}

static inline bool ring_empty(ring_t *r) {
  return atomic_load_explicit(&r->head, memory_order_relaxed) ==
         atomic_load_explicit(&r->tail, memory_order_relaxed);
}

/* Producer side: `need` (a multiple of 8) contiguous bytes at the tail, or
 * NULL when the ring is full. Nothing is visible to the consumer until
 * ring_commit(), so an unused reservation is simply dropped (the K_PAD that
 * may have been written lies in free space and is rewritten next time). */
static ent_t *ring_reserve(ring_t *r, uint32_t need, uint64_t *pos) {
  uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
  uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
  uint64_t avail = RING_BYTES - (tail - head);
  uint64_t off = tail & r->mask;
  uint64_t contig = RING_BYTES - off;
  if (contig < need) {
    if (avail < contig + need) return NULL;
    ent_t *pad = (ent_t *)(r->buf + off);
    pad->size = (uint32_t)contig;
    pad->kind = K_PAD;
    tail += contig;
    off = 0;
  } else if (avail < need) {
    return NULL;
  }
  *pos = tail;
  return (ent_t *)(r->buf + off);
}

/* Publishes the entry reserved at pos (and a K_PAD before it, if any). */
static inline void ring_commit(ring_t *r, uint64_t pos, uint32_t size) {
  atomic_store_explicit(&r->tail, pos + size, memory_order_release);
}

/* ---------- I/O thread's socket table (threaded mode) ---------- */

static io_slot_t *io_slot(uint32_t id) {
  uint32_t c = id / IO_CHUNK_SLOTS;
  if (c >= IO_MAX_CHUNKS) return NULL;
  io_slot_t *chunk = atomic_load_explicit(&tm.chunks[c], memory_order_acquire);
  return chunk ? &chunk[id % IO_CHUNK_SLOTS] : NULL;
}

/* JS thread: the slot for id, allocating its chunk on first use. */
static io_slot_t *io_slot_make(int id) {
  uint32_t c = (uint32_t)id / IO_CHUNK_SLOTS;
  if (c >= IO_MAX_CHUNKS) return NULL;
  io_slot_t *chunk = atomic_load_explicit(&tm.chunks[c], memory_order_relaxed);
  if (chunk == NULL) {
    chunk = calloc(IO_CHUNK_SLOTS, sizeof(io_slot_t));
    if (chunk == NULL) return NULL;
    for (int i = 0; i < IO_CHUNK_SLOTS; i++) chunk[i].fd = -1;
    atomic_store_explicit(&tm.chunks[c], chunk, memory_order_release);
  }
  return &chunk[(uint32_t)id % IO_CHUNK_SLOTS];
}

/* ---------- I/O thread ---------- */

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void io_eat_efd(void) {
  uint64_t v;
  ssize_t r = read(tm.efd, &v, sizeof v); /* EAGAIN: nothing was pending */
  (void)r;
}

/* Queues a send error for JS, rate-limited per socket. Returns true if an
 * entry was queued (the caller then signals the JS thread). */
static bool io_report_send_error(uint32_t id, io_slot_t *sl, int err) {
  bump(&tm.send_errors);
  uint64_t now = mono_ns();
  if (now - sl->last_err_ns < SEND_ERR_REPORT_NS) {
    bump(&tm.send_errors_suppressed);
    return false;
  }
  uint64_t pos;
  ent_t *e = ring_reserve(&tm.rx, ENT_HDR, &pos);
  if (e == NULL) { /* JS is behind; it will hear of the next one */
    bump(&tm.send_errors_suppressed);
    return false;
  }
  e->size = ENT_HDR;
  e->kind = K_SENDERR;
  e->addr_len = 0;
  e->id = (int32_t)id;
  e->gen = sl->gen;
  e->len = -err;
  ring_commit(&tm.rx, pos, ENT_HDR);
  sl->last_err_ns = now;
  return true;
}

/* Executes one send-ring command. Returns true if JS should be signalled. */
static bool io_exec(const ent_t *e) {
  io_slot_t *sl = io_slot((uint32_t)e->id);
  if (sl == NULL || !atomic_load_explicit(&sl->live, memory_order_acquire) ||
      sl->gen != e->gen) {
    /* Cannot happen by construction (JS queues nothing for a closed id);
     * kept as the last line of defence against sending on a stale id. */
    bump(&tm.send_dropped);
    return false;
  }
  if (e->kind == K_CLOSE) {
    /* Every send queued before close() has been performed: only now may the
     * kernel recycle the fd number. */
    close(sl->fd);
    sl->fd = -1;
    atomic_store_explicit(&sl->live, 0, memory_order_release);
    return true; /* a callback lets JS recycle the id soon */
  }
  const uint8_t *p = (const uint8_t *)e + ENT_HDR;
  /* Announce the send, then check the hold (both seq_cst, mirrored in
   * hold_sends()): either JS sees us sending and waits, or we see its hold
   * and wait. A sendto() on a socket that disconnect() has just unbound
   * would bind it to a new random port. */
  for (;;) {
    atomic_store_explicit(&tm.sending_id, e->id, memory_order_seq_cst);
    if (!atomic_load_explicit(&sl->hold, memory_order_seq_cst)) break;
    /* Held: step back (JS waits for sending_id to change) and retry. */
    atomic_store_explicit(&tm.sending_id, -1, memory_order_seq_cst);
    while (atomic_load_explicit(&sl->hold, memory_order_acquire)) sched_yield();
  }
  ssize_t r;
  if (e->kind == K_SENDTO)
    r = sendto(sl->fd, p, (size_t)e->len, MSG_DONTWAIT | MSG_NOSIGNAL,
               &e->addr.sa, e->addr_len);
  else
    r = send(sl->fd, p, (size_t)e->len, MSG_DONTWAIT | MSG_NOSIGNAL);
  atomic_store_explicit(&tm.sending_id, -1, memory_order_release);
  if (r >= 0) {
    bump(&tm.sent);
    return false;
  }
  return io_report_send_error((uint32_t)e->id, sl, errno);
}

/* Performs every command queued so far. Space is handed back entry by entry
 * so a producer waiting for room (close()) gets it as early as possible. */
static void io_drain_sends(void) {
  ring_t *r = &tm.tx;
  uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
  uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
  bool notify = false;
  while (head != tail) {
    const ent_t *e = (const ent_t *)(r->buf + (head & r->mask));
    if (e->kind != K_PAD && io_exec(e)) notify = true;
    head += e->size;
    atomic_store_explicit(&r->head, head, memory_order_release);
  }
  /* After stop nobody will look (and at exit() the loop is going away). */
  if (notify && !atomic_load_explicit(&tm.stop, memory_order_relaxed))
    uv_async_send(&tm.async);
}

/* Reads one datagram of socket id into the recv ring.
 * Returns 1 if an entry was queued, 0 if nothing was (no datagram, or the
 * id is not live), -1 if the ring is full. */
static int io_recv_one(uint32_t id) {
  io_slot_t *sl = io_slot(id);
  /* A stale event (socket closed since epoll_wait returned) is skipped; if
   * the id was already reused, the fd read is the new socket's and the entry
   * carries the new generation, which is right. */
  if (sl == NULL || !atomic_load_explicit(&sl->live, memory_order_acquire))
    return 0;
  uint32_t cap = sl->buf_len;
  uint32_t need = (uint32_t)ENT_HDR + round8(cap);
  uint64_t pos;
  ent_t *e = ring_reserve(&tm.rx, need, &pos);
  if (e == NULL) return -1;
  struct iovec iov = { .iov_base = (uint8_t *)e + ENT_HDR, .iov_len = cap };
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_name = &e->addr;
  msg.msg_namelen = sizeof e->addr;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t r = recvmsg(sl->fd, &msg, MSG_DONTWAIT);
  e->kind = K_DATA;
  e->id = (int32_t)id;
  e->gen = sl->gen;
  if (r < 0) {
    int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) return 0;
    e->len = -err;
    e->addr_len = 0;
    e->size = ENT_HDR;
  } else if (msg.msg_flags & MSG_TRUNC) {
    /* Longer than the registered Buffer: report it, keep no bytes. */
    e->len = -EMSGSIZE;
    e->addr_len = (uint16_t)msg.msg_namelen;
    e->size = ENT_HDR;
  } else {
    e->len = (int32_t)r;
    e->addr_len = (uint16_t)msg.msg_namelen;
    e->size = (uint32_t)ENT_HDR + round8((uint32_t)r);
  }
  ring_commit(&tm.rx, pos, e->size);
  return 1;
}

enum { RX_NONE, RX_SOME, RX_MORE };

/* Handles the events of one epoll_wait: one datagram per ready socket per
 * pass, up to RECV_BURST passes, so entries of different sockets interleave
 * and JS batches (one entry per socket) stay large. */
static int io_receive(int n) {
  int nready = 0;
  for (int i = 0; i < n; i++) {
    uint32_t id = tm.events[i].data.u32;
    if (id == EFD_TOKEN)
      io_eat_efd();
    else
      tm.ready_ids[nready++] = id;
  }
  bool queued = false;
  for (int pass = 0; pass < RECV_BURST && nready > 0; pass++) {
    int keep = 0;
    for (int j = 0; j < nready; j++) {
      int rc = io_recv_one(tm.ready_ids[j]);
      if (rc < 0) {
        /* Stop reading until JS made room; the kernel keeps queuing. */
        bump(&tm.recv_ring_full);
        atomic_store_explicit(&tm.rx_blocked, 1, memory_order_relaxed);
        nready = 0;
        keep = 0;
        break;
      }
      if (rc > 0) {
        queued = true;
        tm.ready_ids[keep++] = tm.ready_ids[j];
      }
    }
    nready = keep;
  }
  if (queued) uv_async_send(&tm.async);
  /* nready > 0: sockets that still gave a datagram in the last pass may
   * hold more; the caller then looks again without a gathering wait. */
  return !queued ? RX_NONE : nready > 0 ? RX_MORE : RX_SOME;
}

/* Called while rx_blocked is set: true once JS has freed enough room. The
 * fence orders our earlier store of rx_blocked before the load of the
 * consumer's head, pairing with the fence in rx_wake_if_blocked(): either we
 * see the room or JS sees the flag and writes the eventfd. */
static bool io_rx_resume(void) {
  atomic_thread_fence(memory_order_seq_cst);
  if (ring_free(&tm.rx) < RING_BYTES / 2) return false;
  atomic_store_explicit(&tm.rx_blocked, 0, memory_order_relaxed);
  return true;
}

static void *io_main(void *arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "rtp-io");
  media_rt_io_thread_started();
  int received = RX_NONE;
  while (!atomic_load_explicit(&tm.stop, memory_order_acquire)) {
    bool rx_ok = !atomic_load_explicit(&tm.rx_blocked, memory_order_relaxed) ||
                 io_rx_resume();
    /* Announce the sleep, then look at the send ring again: a JS thread that
     * published sends without seeing `sleeping` set is seen here instead
     * (both sides: store; seq_cst fence; load). */
    atomic_store_explicit(&tm.sleeping, 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst);
    bool idle = ring_empty(&tm.tx) && !atomic_load_explicit(&tm.stop, memory_order_relaxed);
    int n = 0;
    if (rx_ok) {
      if (idle && received == RX_SOME && tm.coalesce_ns > 0) {
        /* Let the next arrivals gather in the socket queues; the eventfd
         * (sends, stop) still wakes us at once. */
        struct timespec ts = { 0, tm.coalesce_ns };
        struct pollfd p = { .fd = tm.efd, .events = POLLIN, .revents = 0 };
        if (ppoll(&p, 1, &ts, NULL) > 0) io_eat_efd();
        idle = false;
      }
      n = epoll_wait(g.ep, tm.events, MAX_EVENTS, idle ? -1 : 0);
    } else if (idle) {
      /* Recv ring full: only the eventfd (sends, or JS made room). */
      struct pollfd p = { .fd = tm.efd, .events = POLLIN, .revents = 0 };
      if (poll(&p, 1, -1) > 0) io_eat_efd();
    }
    atomic_store_explicit(&tm.sleeping, 0, memory_order_relaxed);
    bump(&tm.io_rounds);
    io_drain_sends(); /* send before receive: send timing matters most */
    received = n > 0 ? io_receive(n) : RX_NONE;
    io_drain_sends();
  }
  /* Shutdown: what JS queued last still leaves (and CLOSEs are honoured). */
  io_drain_sends();
  media_rt_io_thread_stopped();
  return NULL;
}

/* ---------- JS-thread side of threaded mode ---------- */

static void wake_io(void) {
  uint64_t one = 1;
  ssize_t r = write(tm.efd, &one, sizeof one); /* EAGAIN: already pending */
  (void)r;
  tm.wakeups++;
}

/* Makes sends queued since the last call known to the I/O thread: one
 * eventfd write per JS turn at most, and none if the thread is awake (it
 * drains the ring before it sleeps). Ordering: we published the tail, then
 * fence, then read `sleeping`; the I/O thread sets `sleeping`, fences, then
 * reads the tail. So either it sees our entries or we see it sleeping. */
static void flush_sends(void) {
  uint64_t tail = atomic_load_explicit(&tm.tx.tail, memory_order_relaxed);
  if (tail == tm.tx_signalled) return;
  tm.tx_signalled = tail;
  atomic_thread_fence(memory_order_seq_cst);
  if (atomic_load_explicit(&tm.sleeping, memory_order_relaxed)) wake_io();
}

/* After JS consumed recv entries: wake an I/O thread that stopped reading
 * because the ring was full (pairs with io_rx_resume). */
static void rx_wake_if_blocked(void) {
  atomic_thread_fence(memory_order_seq_cst);
  if (atomic_load_explicit(&tm.rx_blocked, memory_order_relaxed) &&
      ring_free(&tm.rx) >= RING_BYTES / 2 &&
      atomic_exchange_explicit(&tm.rx_blocked, 0, memory_order_relaxed))
    wake_io();
}

/* Keeps the I/O thread from sending on id until release_sends(): returns
 * once no send on it is in progress (see io_exec). NULL outside threaded
 * mode. */
static io_slot_t *hold_sends(int id) {
  if (!g.threaded || !tm.thr_running) return NULL;
  io_slot_t *sl = io_slot((uint32_t)id);
  if (sl == NULL) return NULL;
  atomic_store_explicit(&sl->hold, 1, memory_order_seq_cst);
  while (atomic_load_explicit(&tm.sending_id, memory_order_seq_cst) == id)
    sched_yield();
  return sl;
}

static void release_sends(io_slot_t *sl) {
  if (sl != NULL) atomic_store_explicit(&sl->hold, 0, memory_order_release);
}

/* Queues a SEND/SENDTO; returns the length or -errno. */
static int32_t queue_send(int id, sock_t *s, int kind, const uint8_t *p,
                          int32_t len) {
  /* The kernel would refuse it anyway; refusing it here keeps one entry
   * below the ring's contiguous-space guarantee. */
  if ((uint32_t)len > MAX_DGRAM - 1) return -EMSGSIZE;
  uint32_t need = (uint32_t)ENT_HDR + round8((uint32_t)len);
  uint64_t pos;
  ent_t *e = ring_reserve(&tm.tx, need, &pos);
  if (e == NULL) {
    tm.send_ring_full++;
    return -ENOBUFS;
  }
  e->size = need;
  e->kind = (uint16_t)kind;
  e->id = id;
  e->gen = s->gen;
  e->len = len;
  if (kind == K_SENDTO) {
    e->addr = s->dst;
    e->addr_len = (uint16_t)s->dst_len;
  } else {
    e->addr_len = 0;
  }
  memcpy((uint8_t *)e + ENT_HDR, p, (size_t)len);
  ring_commit(&tm.tx, pos, need);
  tm.send_queued++;
  return len;
}

/* Queues the CLOSE of id behind its pending sends. Closing must not fail, so
 * if the ring is full we wake the I/O thread and wait for room (it frees
 * space entry by entry and never waits on the JS thread). */
static void queue_close(int id, uint32_t gen) {
  uint64_t pos;
  ent_t *e;
  while ((e = ring_reserve(&tm.tx, ENT_HDR, &pos)) == NULL) {
    wake_io();
    struct timespec ts = { 0, 50000 };
    nanosleep(&ts, NULL);
  }
  e->size = ENT_HDR;
  e->kind = K_CLOSE;
  e->addr_len = 0;
  e->id = id;
  e->gen = gen;
  e->len = 0;
  ring_commit(&tm.tx, pos, ENT_HDR);
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

/* Called when a callback begins (a batch boundary). Threaded mode also
 * needs the I/O thread to have closed the fd; it does so in close() order,
 * which is the list's order, so we stop at the first id still live. */
static void release_pending(void) {
  int id = g.pending_head;
  while (id >= 0) {
    if (g.threaded) {
      io_slot_t *sl = io_slot((uint32_t)id);
      if (sl != NULL && atomic_load_explicit(&sl->live, memory_order_acquire))
        break;
    }
    int next = g.socks[id].next;
    push_free(id);
    id = next;
  }
  g.pending_head = id;
  if (id < 0) g.pending_tail = -1;
}

/* The poll (threaded: async) handle keeps the loop alive only while a socket
 * is open, so an idle process (all calls ended) can exit. */
static void count_open(int delta) {
  int before = g.open_count;
  g.open_count += delta;
  if (before == 0 && g.open_count > 0) uv_ref(g.keepalive);
  if (before > 0 && g.open_count == 0) uv_unref(g.keepalive);
}

static void close_sock(int id, napi_env env) {
  sock_t *s = &g.socks[id];
  epoll_ctl(g.ep, EPOLL_CTL_DEL, s->fd, NULL);
  if (g.threaded && tm.thr_running) {
    if (!tm.send_on_thread && tm.placeholder >= 0) {
      /* Sends run on this thread, so none is queued for this socket: free
       * its port at once (a caller may bind it again right away) by putting
       * the placeholder socket in its fd slot. The fd NUMBER stays taken, so
       * no new socket can get it while the I/O thread may still touch it;
       * the I/O thread closes the number below, as for a real socket. */
      dup3(tm.placeholder, s->fd, O_CLOEXEC);
    }
    /* The I/O thread closes the fd after the sends queued before this. */
    queue_close(id, s->gen);
    if (tm.send_on_thread) {
      /* Wait for it (normally microseconds; bounded): a caller that closes a
       * socket expects its port to be free for the next bind, as in the
       * other modes. Closes are rare (a call's end), sends are not. */
      io_slot_t *sl = io_slot((uint32_t)id);
      wake_io();
      tm.tx_signalled = atomic_load_explicit(&tm.tx.tail, memory_order_relaxed);
      for (int i = 0; sl != NULL && i < 10000 &&
                      atomic_load_explicit(&sl->live, memory_order_acquire);
           i++) {
        struct timespec ts = { 0, 20000 };
        nanosleep(&ts, NULL);
      }
    }
  } else {
    close(s->fd);
    if (g.threaded) { /* shutdown: the I/O thread is gone */
      io_slot_t *sl = io_slot((uint32_t)id);
      if (sl != NULL) {
        sl->fd = -1;
        atomic_store_explicit(&sl->live, 0, memory_order_relaxed);
      }
    }
  }
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
    /* The media clock's deadline first (see media_timer.h). */
    media_timer_service();
    if (!g.initialized || g.shutting_down) return;
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

/* Threaded mode: fills meta entry m from recv-ring entry e of socket s
 * (same rules as on_poll). */
static void fill_entry(int32_t *m, const ent_t *e, sock_t *s) {
  m[0] = e->id;
  m[2] = 0;
  m[3] = 0;
  if (e->kind == K_SENDERR) {
    m[1] = e->len;
    return;
  }
  if (e->len < 0 || (size_t)e->len > s->buf_len) {
    m[1] = e->len < 0 ? e->len : -EMSGSIZE;
    /* As in poll mode: an oversize datagram does not become the source,
     * its port is reported for diagnostics only. */
    if (m[1] == -EMSGSIZE && e->addr_len > 0) m[3] = sa_port(&e->addr);
    g.recv_errors++;
    return;
  }
  if (e->len > 0) /* a zero-length Buffer may have no data pointer */
    memcpy(s->buf, (const uint8_t *)e + ENT_HDR, (size_t)e->len);
  socklen_t alen = e->addr_len;
  int changed = s->src_len != alen || memcmp(&s->src, &e->addr, alen) != 0;
  if (changed) {
    memcpy(&s->src, &e->addr, alen);
    s->src_len = alen;
  }
  m[1] = e->len;
  m[2] = changed;
  m[3] = sa_port(&e->addr);
  g.datagrams++;
}

/* Threaded mode: the I/O thread queued recv entries (or closed an fd).
 * Drains the entries present on entry into batches. */
static void on_async(uv_async_t *h) {
  (void)h;
  if (!g.initialized || g.shutting_down) return;
  napi_env env = g.env;
  tm.async_callbacks++;
  release_pending(); /* a batch boundary, as in on_poll */

  ring_t *r = &tm.rx;
  uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
  /* Entries queued after this snapshot come with their own uv_async_send. */
  uint64_t end = atomic_load_explicit(&r->tail, memory_order_acquire);
  int max_entries = (int)g.meta_entries;
  for (int round = 0; round < MAX_ROUNDS && head != end; round++) {
    media_timer_service();
    if (!g.initialized || g.shutting_down) return;
    if (++tm.batch_no == 0) tm.batch_no = 1; /* 0 = "in no batch" */
    uint32_t mark = tm.batch_no;
    int count = 0;
    while (head != end && count < max_entries) {
      const ent_t *e = (const ent_t *)(r->buf + (head & r->mask));
      if (e->kind != K_PAD) {
        sock_t *s = lookup(e->id);
        /* Skip entries of sockets closed meanwhile (or of an earlier socket
         * that had the same id). */
        if (s != NULL && s->gen == e->gen) {
          /* One Buffer per socket: its second entry opens the next batch. */
          if (s->batch_mark == mark) break;
          s->batch_mark = mark;
          fill_entry(g.meta + (size_t)count * 4, e, s);
          count++;
        }
      }
      head += e->size;
    }
    /* Everything up to head has been copied out: hand the space back. */
    atomic_store_explicit(&r->head, head, memory_order_release);
    rx_wake_if_blocked();
    if (count == 0) continue;
    g.batches++;
    g.rounds++;
    dispatch(env, count);
    if (!g.initialized || g.shutting_down) return;
    /* Replies sent from onBatch leave now, not after the next loop turn. */
    flush_sends();
  }
  /* More than MAX_ROUNDS batches: let timers and other I/O run, then
   * continue (uv_async_send from the loop thread is allowed). */
  if (head != end) uv_async_send(&tm.async);
}

/* Threaded mode: runs once per loop iteration right before libuv blocks, so
 * the sends of this JS turn leave as one burst. */
static void on_prepare(uv_prepare_t *h) {
  (void)h;
  if (g.initialized && !g.shutting_down) flush_sends();
}

/* ---------- teardown ---------- */

/* Threaded mode: stops and joins the I/O thread (it first performs what is
 * still queued). Afterwards the JS thread owns every fd. */
static void stop_io_thread(void) {
  if (!tm.thr_running) return;
  atomic_store_explicit(&tm.stop, 1, memory_order_release);
  wake_io();
  pthread_join(tm.thr, NULL);
  tm.thr_running = false;
}

static void free_resources(void) {
  if (g.ep >= 0) close(g.ep);
  g.ep = -1;
  if (tm.efd >= 0) close(tm.efd);
  tm.efd = -1;
  if (tm.placeholder >= 0) close(tm.placeholder);
  tm.placeholder = -1;
  for (int c = 0; c < IO_MAX_CHUNKS; c++) {
    io_slot_t *chunk = atomic_load_explicit(&tm.chunks[c], memory_order_relaxed);
    if (chunk == NULL) continue;
    for (int i = 0; i < IO_CHUNK_SLOTS; i++) {
      /* fds whose CLOSE the I/O thread never got to (failed init only;
       * normally its final drain closed them) */
      if (atomic_load_explicit(&chunk[i].live, memory_order_relaxed) &&
          chunk[i].fd >= 0)
        close(chunk[i].fd);
    }
    free(chunk);
    atomic_store_explicit(&tm.chunks[c], NULL, memory_order_relaxed);
  }
  free(tm.rx.buf);
  free(tm.tx.buf);
  tm.rx.buf = tm.tx.buf = NULL;
  free(g.socks);
  g.socks = NULL;
  g.cap = 0;
  g.free_head = g.pending_head = g.pending_tail = -1;
}

static void on_handle_closed(uv_handle_t *h) {
  (void)h;
  if (--g.handles_closing == 0) free_resources();
}

/* uv_close()s the handles of the active mode; memory and fds are released
 * when the last close callback has run. */
static void close_handles(void) {
  if (g.threaded) {
    g.handles_closing = 2;
    uv_prepare_stop(&tm.prepare);
    uv_close((uv_handle_t *)&tm.async, on_handle_closed);
    uv_close((uv_handle_t *)&tm.prepare, on_handle_closed);
  } else {
    g.handles_closing = 1;
    uv_poll_stop(&g.poll);
    uv_close((uv_handle_t *)&g.poll, on_handle_closed);
  }
}

static void cleanup_hook(void *arg) {
  (void)arg;
  napi_env env = g.env;
  g.shutting_down = true;
  stop_io_thread();
  for (int i = 0; i < g.cap; i++) {
    if (g.socks[i].state == S_OPEN) close_sock(i, env);
  }
  close_handles();
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

/* options?: { thread?: boolean, sendOnThread?: boolean, coalesceUs?: number }.
 * Returns false with a TypeError pending. */
static bool get_thread_option(napi_env env, napi_value opts, bool *thread) {
  napi_valuetype vt;
  *thread = false;
  if (napi_typeof(env, opts, &vt) != napi_ok) return false;
  if (vt == napi_undefined || vt == napi_null) return true;
  if (vt != napi_object) {
    type_error(env, "options must be an object");
    return false;
  }
  napi_value v;
  if (napi_get_named_property(env, opts, "thread", &v) != napi_ok ||
      napi_typeof(env, v, &vt) != napi_ok)
    return false;
  if (vt != napi_undefined && (vt != napi_boolean || napi_get_value_bool(env, v, thread) != napi_ok)) {
    type_error(env, "options.thread must be a boolean");
    return false;
  }
  tm.send_on_thread = true;
  if (napi_get_named_property(env, opts, "sendOnThread", &v) != napi_ok ||
      napi_typeof(env, v, &vt) != napi_ok)
    return false;
  if (vt != napi_undefined && (vt != napi_boolean || napi_get_value_bool(env, v, &tm.send_on_thread) != napi_ok)) {
    type_error(env, "options.sendOnThread must be a boolean");
    return false;
  }
  tm.coalesce_ns = DEFAULT_COALESCE_US * 1000L;
  if (napi_get_named_property(env, opts, "coalesceUs", &v) != napi_ok ||
      napi_typeof(env, v, &vt) != napi_ok)
    return false;
  if (vt != napi_undefined) {
    double us;
    if (vt != napi_number || napi_get_value_double(env, v, &us) != napi_ok || !(us >= 0 && us <= MAX_COALESCE_US) ||
        us != (double)(long)us) {
      type_error(env, "options.coalesceUs must be an integer from 0 to 20000");
      return false;
    }
    tm.coalesce_ns = (long)us * 1000L;
  }
  return true;
}

/* Threaded mode: eventfd + rings + async/prepare handles (not yet the
 * thread). On failure everything made here is undone and false returned. */
static bool init_threaded(uv_loop_t *loop, int ep) {
  tm.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (tm.efd < 0) return false;
  tm.placeholder = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN;
  ev.data.u32 = EFD_TOKEN;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, tm.efd, &ev) < 0 || !ring_alloc(&tm.rx) ||
      !ring_alloc(&tm.tx) || uv_async_init(loop, &tm.async, on_async) != 0) {
    free(tm.rx.buf);
    free(tm.tx.buf);
    tm.rx.buf = tm.tx.buf = NULL;
    close(tm.efd);
    tm.efd = -1;
    return false;
  }
  uv_prepare_init(loop, &tm.prepare); /* cannot fail */
  tm.tx_signalled = 0;
  atomic_store(&tm.stop, 0);
  atomic_store(&tm.sleeping, 0);
  atomic_store(&tm.rx_blocked, 0);
  atomic_store(&tm.sending_id, -1);
  return true;
}

/* process.exit() ends the process without running env cleanup hooks. Poll
 * mode would already have sent what JS sent before it, so let the I/O
 * thread perform what is queued (its shutdown drain), but bounded: a
 * wedged thread must not hold up the exit. */
static void at_exit(void) {
  if (!tm.thr_running) return; /* the cleanup hook already stopped it */
  atomic_store_explicit(&tm.stop, 1, memory_order_release);
  uint64_t one = 1;
  ssize_t r = write(tm.efd, &one, sizeof one);
  (void)r;
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_nsec += 200 * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  if (pthread_timedjoin_np(tm.thr, NULL, &until) == 0) tm.thr_running = false;
}

static bool start_io_thread(void) {
  static bool at_exit_registered = false;
  if (!at_exit_registered && atexit(at_exit) == 0) at_exit_registered = true;
  /* The thread takes no signals: Node's handlers run on its own threads and
   * our syscalls are never interrupted. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&tm.thr, NULL, io_main, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) return false;
  tm.thr_running = true;
  return true;
}

/* init(meta: Int32Array, onBatch: (count) => void,
 *      options?: { thread?: boolean, sendOnThread?: boolean, coalesceUs?: number }): void */
static napi_value js_init(napi_env env, napi_callback_info info) {
  ARGS(3)
  if (g.initialized || g.shutting_down) {
    napi_throw_error(env, NULL, g.env == env
                                    ? "rtp-io: init() already called"
                                    : "rtp-io: already initialized by another environment");
    return NULL;
  }
  bool is;
  napi_typedarray_type ta;
  size_t len, boff;
  void *data;
  napi_value ab;
  if (napi_is_typedarray(env, argv[0], &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, argv[0], &ta, &len, &data, &ab, &boff) != napi_ok ||
      ta != napi_int32_array || len < 4)
    return type_error(env, "meta must be an Int32Array with length >= 4");
  napi_valuetype vt;
  if (napi_typeof(env, argv[1], &vt) != napi_ok || vt != napi_function)
    return type_error(env, "onBatch must be a function");
  bool threaded;
  if (!get_thread_option(env, argv[2], &threaded)) return NULL;

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
  if (threaded ? !init_threaded(loop, ep) : uv_poll_init(loop, &g.poll, ep) != 0) {
    close(ep);
    napi_throw_error(env, NULL, threaded ? "rtp-io: threaded init failed"
                                         : "rtp-io: uv_poll_init failed");
    return NULL;
  }
  g.env = env;
  g.ep = ep;
  g.threaded = threaded;
  /* From here on the handles belong to the loop and must be uv_close()d on
   * failure; the last close callback then closes ep and frees the rest.
   * None of them keeps the loop alive by itself (see count_open). */
  if (threaded) {
    g.keepalive = (uv_handle_t *)&tm.async;
    uv_unref((uv_handle_t *)&tm.async);
    uv_unref((uv_handle_t *)&tm.prepare);
  } else {
    g.keepalive = (uv_handle_t *)&g.poll;
    uv_unref((uv_handle_t *)&g.poll);
  }

  napi_value name;
  bool ok = (threaded ? uv_prepare_start(&tm.prepare, on_prepare) == 0
                      : uv_poll_start(&g.poll, UV_READABLE, on_poll) == 0) &&
            napi_create_reference(env, argv[0], 1, &g.meta_ref) == napi_ok &&
            napi_create_reference(env, argv[1], 1, &g.cb_ref) == napi_ok &&
            napi_create_string_utf8(env, "rtp-io", NAPI_AUTO_LENGTH, &name) == napi_ok &&
            napi_async_init(env, NULL, name, &g.actx) == napi_ok &&
            (!threaded || start_io_thread());
  if (ok && napi_add_env_cleanup_hook(env, cleanup_hook, NULL) != napi_ok) {
    stop_io_thread();
    ok = false;
  }
  if (!ok) {
    /* Leave the module unusable rather than half-initialised. */
    g.shutting_down = true;
    close_handles();
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
  io_slot_t *sl = NULL;
  if (g.threaded && (sl = io_slot_make(id)) == NULL) {
    push_free(id);
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
  /* Threaded mode: events that arrive before `live` is set below are
   * skipped by the I/O thread and reported again (level-triggered). */
  if (epoll_ctl(g.ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
    rc = -errno;
    napi_delete_reference(env, ref);
    push_free(id);
    goto fail;
  }
  uint32_t gen = s->gen + 1;
  memset(s, 0, sizeof *s);
  s->fd = fd;
  s->state = S_OPEN;
  s->next = -1;
  s->family = family;
  s->ephemeral = port == 0;
  s->gen = gen;
  s->buf_ref = ref;
  s->buf = (uint8_t *)bdata;
  s->buf_len = blen;
  s->local = local;
  s->local_len = llen;
  if (sl != NULL) {
    /* Hand the socket to the I/O thread (the slot is free: live == 0 was
     * seen with acquire when the id was released). */
    sl->fd = fd;
    sl->gen = gen;
    sl->buf_len = blen < MAX_DGRAM ? (uint32_t)blen : MAX_DGRAM;
    sl->last_err_ns = 0;
    atomic_store_explicit(&sl->live, 1, memory_order_release);
  }
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
  if (!s->ephemeral) {
    if (connect(s->fd, &un, sizeof un) < 0) return make_int(env, -errno);
    return make_int(env, 0);
  }
  /* Linux unbinds a socket whose port was auto-assigned when it is
   * disconnected; without the re-bind below the socket would silently stop
   * receiving and pick a new random port on the next send. Threaded mode:
   * no send may run on it between the two syscalls, for the same reason. */
  io_slot_t *held = hold_sends(id);
  int rc = 0;
  if (connect(s->fd, &un, sizeof un) < 0) {
    rc = -errno;
  } else {
    sockaddr_u a;
    socklen_t l = sizeof a;
    if (getsockname(s->fd, &a.sa, &l) == 0 && sa_port(&a) == 0 &&
        bind(s->fd, &s->local.sa, s->local_len) < 0)
      rc = -errno;
    else
      s->ephemeral = 0; /* an explicit bind pins the port from now on */
  }
  release_sends(held);
  return make_int(env, rc);
}

/* send(id, buf, offset, length): bytes | -errno
 * Threaded mode with sends on the thread: bytes queued (the send happens on the I/O thread; its
 * errors arrive as batch entries) or -ENOBUFS when the send ring is full. */
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
  if (g.threaded && tm.send_on_thread) return make_int(env, queue_send(id, s, K_SEND, p, len));
  ssize_t r = send(s->fd, p, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
  return make_int(env, r < 0 ? -errno : (int32_t)r);
}

/* sendTo(id, buf, offset, length, port, address): bytes | -errno
 * (threaded mode: as send()) */
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
  if (g.threaded && tm.send_on_thread) return make_int(env, queue_send(id, s, K_SENDTO, p, len));
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

static void set_num(napi_env env, napi_value o, const char *key, double v) {
  napi_value n;
  napi_create_double(env, v, &n);
  napi_set_named_property(env, o, key, n);
}

/* stats(): { threaded, batches, datagrams, rounds, recvErrors, and (threaded
 * mode; 0 otherwise) sendQueued, sent, sendErrors, sendErrorsSuppressed,
 * sendDropped, sendRingFull, recvRingFull, wakeups, asyncCallbacks, ioRounds,
 * sendRingBytes, recvRingBytes }. `rounds` counts epoll rounds in poll mode
 * and dispatch rounds in threaded mode. */
static napi_value js_stats(napi_env env, napi_callback_info info) {
  (void)info;
  if (!ready(env)) return NULL;
  napi_value o, v;
  napi_create_object(env, &o);
  napi_get_boolean(env, g.threaded, &v);
  napi_set_named_property(env, o, "threaded", v);
  set_num(env, o, "batches", g.batches);
  set_num(env, o, "datagrams", g.datagrams);
  set_num(env, o, "rounds", g.rounds);
  set_num(env, o, "recvErrors", g.recv_errors);
  set_num(env, o, "sendQueued", tm.send_queued);
  set_num(env, o, "sent", read_counter(&tm.sent));
  set_num(env, o, "sendErrors", read_counter(&tm.send_errors));
  set_num(env, o, "sendErrorsSuppressed", read_counter(&tm.send_errors_suppressed));
  set_num(env, o, "sendDropped", read_counter(&tm.send_dropped));
  set_num(env, o, "sendRingFull", tm.send_ring_full);
  set_num(env, o, "recvRingFull", read_counter(&tm.recv_ring_full));
  set_num(env, o, "wakeups", tm.wakeups);
  set_num(env, o, "asyncCallbacks", tm.async_callbacks);
  set_num(env, o, "ioRounds", read_counter(&tm.io_rounds));
  double txb = 0, rxb = 0;
  if (g.threaded) {
    txb = (double)(RING_BYTES - ring_free(&tm.tx));
    rxb = (double)(RING_BYTES - ring_free(&tm.rx));
  }
  set_num(env, o, "sendRingBytes", txb);
  set_num(env, o, "recvRingBytes", rxb);
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
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok ||
      media_timer_define(env, exports) != napi_ok || media_rt_define(env, exports) != napi_ok)
    return NULL;
  return exports;
}

// Load generator for bench/media.ts in C: plays the phones of every load step (the role of
// media-loadgen.ts, which remains as MEDIA_LOADGEN=node). Why C: on this 2-core machine the
// phones share the CPUs with the server under test, and Node pays the same ~5–10 µs per datagram
// as the server does — at 1,000 streams the Node phones took 65–75 % of a core away from it.
// Here one socket carries every phone stream (each server session's SDP names the same address;
// streams are told apart by the server port they come from), sends go out in batches with
// sendmmsg, and receives are drained with recvmmsg between send phases, stamped by the kernel
// (SO_TIMESTAMPNS). The socket has no waiting reader, so the server's sends do not pay for waking
// one up — as with a real NIC, where a send ends at the driver queue.
//
// Timing: streams are spread over 10 send phases 2 ms apart (as unsynchronised phones would be),
// each phase sent at its deadline by clock_nanosleep on CLOCK_MONOTONIC (absolute).
//
// Protocol, one line per message on stdin / stdout:
//   setup play|bridge <loop-file> <n> <server port>…  → ready <our port>
//   measure → measuring      report → report <json LoadReport>      teardown → done      exit
// Packets: PCMU (PT 0), 160-byte payload. 'play': the loop file's 2 s of G.711 speech-band noise
// and a DTMF '5'; what comes back is checked by RTP timestamp. 'bridge': payload = counter (u32
// BE), magic 0x5a 0xa5, 2 pad bytes, send time (double LE, ms, CLOCK_REALTIME) — the capture
// analysis (media-capture.ts) keys on the send time; we check the counter end to end.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PHASES 10
#define FRAME_MS 20.0
#define HDR 12
#define PAYLOAD 160
#define PKT (HDR + PAYLOAD)
#define LOOP_FRAMES 100
#define BIN_MS 0.05
#define BINS 4000
#define RBATCH 256
#define MAXN 8192

static int kind_bridge;
static int n;
static int fd = -1;
static struct sockaddr_in dst[MAXN];
static uint16_t seqs[MAXN];
static uint32_t tss[MAXN], counters[MAXN], frame_off[MAXN];
static double last_arrival[MAXN], last_transit[MAXN];
static uint32_t last_mark[MAXN], recv_in_window[MAXN];
static uint8_t have_prev[MAXN];
static int32_t stream_of_port[65536];
static uint8_t loop_audio[LOOP_FRAMES * PAYLOAD];
static uint8_t noise_frame[PAYLOAD];
static uint32_t hist[BINS], transit_hist[BINS], late_hist[BINS];
static int measuring;
static double window_start, dev_max;
static long received, lost, fills;
static struct rusage ru_start;

static unsigned char sbuf[MAXN / PHASES + 1][PKT];
static struct mmsghdr smsg[MAXN / PHASES + 1];
static struct iovec siov[MAXN / PHASES + 1];
static unsigned char rbuf[RBATCH][256];
static struct mmsghdr rmsg[RBATCH];
static struct iovec riov[RBATCH];
static struct sockaddr_in rsrc[RBATCH];
static char rctl[RBATCH][64];

static double mono_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}
static double real_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}
static void put16(unsigned char *b, uint16_t v) { b[0] = v >> 8; b[1] = v; }
static void put32(unsigned char *b, uint32_t v) { b[0] = v >> 24; b[1] = v >> 16; b[2] = v >> 8; b[3] = v; }
static uint32_t get32(const unsigned char *b) { return (uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]; }
static void bin(uint32_t *h, double v) {
  int k = v / BIN_MS < BINS ? (int)(v / BIN_MS) : BINS - 1;
  h[k < 0 ? 0 : k]++;
}
static double percentile(const uint32_t *h, double q) {
  uint64_t total = 0, acc = 0;
  for (int k = 0; k < BINS; k++) total += h[k];
  if (!total) return 0;
  uint64_t want = (uint64_t)(total * q + 0.999999);
  for (int k = 0; k < BINS; k++)
    if ((acc += h[k]) >= want) return (k + 1) * BIN_MS;
  return BINS * BIN_MS;
}

static void send_phase(int phase) {
  int m = 0;
  double now = real_ms();
  for (int i = phase; i < n; i += PHASES, m++) {
    unsigned char *b = sbuf[m];
    b[0] = 0x80;
    b[1] = seqs[i] == 0 ? 0x80 : 0;
    put16(b + 2, seqs[i]);
    put32(b + 4, tss[i]);
    put32(b + 8, 0x10000u + (uint32_t)i * 7919u);
    if (!kind_bridge) {
      memcpy(b + HDR, loop_audio + frame_off[i] * PAYLOAD, PAYLOAD);
      frame_off[i] = frame_off[i] + 1 == LOOP_FRAMES ? 0 : frame_off[i] + 1;
    } else {
      memcpy(b + HDR, noise_frame, PAYLOAD);
      put32(b + HDR, counters[i]++);
      b[HDR + 4] = 0x5a;
      b[HDR + 5] = 0xa5;
      // Unique per packet (the capture analysis keys on it): 1 µs apart, well above a double's
      // resolution at epoch-ms magnitudes (~0.25 µs). The offset is the same for a stream every
      // tick (its place in the phase), so the transit variation stays exact.
      double t = now + m * 1e-3;
      memcpy(b + HDR + 8, &t, 8);
    }
    seqs[i]++;
    tss[i] += PAYLOAD;
    siov[m].iov_base = b;
    siov[m].iov_len = PKT;
    memset(&smsg[m].msg_hdr, 0, sizeof smsg[m].msg_hdr);
    smsg[m].msg_hdr.msg_iov = &siov[m];
    smsg[m].msg_hdr.msg_iovlen = 1;
    smsg[m].msg_hdr.msg_name = &dst[i];
    smsg[m].msg_hdr.msg_namelen = sizeof dst[i];
  }
  for (int off = 0; off < m;) {
    int r = sendmmsg(fd, smsg + off, m - off, 0);
    if (r <= 0) {
      if (r < 0 && errno == EINTR) continue;
      off++; // skip a datagram the kernel refused (e.g. ICMP error pending), keep the rest going
      continue;
    }
    off += r;
  }
}

static void on_packet(int i, const unsigned char *msg, int len, double at) {
  if (len < HDR + 6) return;
  if ((msg[1] & 0x7f) != 0) return; // RTCP or telephone-event
  uint32_t mark;
  int valid = 1;
  if (!kind_bridge) mark = get32(msg + 4);
  else {
    mark = get32(msg + HDR);
    valid = msg[HDR + 4] == 0x5a && msg[HDR + 5] == 0xa5 && len >= HDR + 16;
  }
  if (measuring) {
    received++;
    recv_in_window[i]++;
    uint8_t prev = have_prev[i];
    if (prev & 1) {
      double dev = at - last_arrival[i] - FRAME_MS;
      if (dev < 0) dev = -dev;
      bin(hist, dev);
      if (dev > dev_max) dev_max = dev;
    }
    if (valid && kind_bridge) {
      double sent;
      memcpy(&sent, msg + HDR + 8, 8);
      double transit = at - sent;
      if (prev & 2) {
        double d = transit - last_transit[i];
        bin(transit_hist, d < 0 ? -d : d);
      }
      last_transit[i] = transit;
    }
    if (!valid) fills++;
    else if (prev & 2) {
      uint32_t d = mark - last_mark[i];
      if (!kind_bridge) {
        if (d > PAYLOAD && d < PAYLOAD * 5000u) lost += (long)((d + PAYLOAD / 2) / PAYLOAD) - 1;
      } else if (d > 1 && d < 5000) lost += d - 1;
    }
  }
  last_arrival[i] = at;
  if (valid) {
    last_mark[i] = mark;
    have_prev[i] = 3;
  } else have_prev[i] |= 1;
}

static void drain(void) {
  if (fd < 0) return;
  for (;;) {
    for (int j = 0; j < RBATCH; j++) {
      rmsg[j].msg_hdr.msg_namelen = sizeof rsrc[j];
      rmsg[j].msg_hdr.msg_controllen = sizeof rctl[j];
    }
    int k = recvmmsg(fd, rmsg, RBATCH, MSG_DONTWAIT, NULL);
    if (k <= 0) return;
    double fallback = real_ms();
    for (int j = 0; j < k; j++) {
      double at = fallback;
      for (struct cmsghdr *c = CMSG_FIRSTHDR(&rmsg[j].msg_hdr); c; c = CMSG_NXTHDR(&rmsg[j].msg_hdr, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
          struct timespec ts;
          memcpy(&ts, CMSG_DATA(c), sizeof ts);
          at = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
        }
      int idx = stream_of_port[ntohs(rsrc[j].sin_port)];
      if (idx >= 0) on_packet(idx, rbuf[j], (int)rmsg[j].msg_len, at);
    }
    if (k < RBATCH) return;
  }
}

static double cpu_s(const struct rusage *r) {
  return r->ru_utime.tv_sec + r->ru_utime.tv_usec / 1e6 + r->ru_stime.tv_sec + r->ru_stime.tv_usec / 1e6;
}

static void report(void) {
  measuring = 0;
  double now = real_ms();
  double window = now - window_start;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  long silent = 0, quiet = 0;
  for (int i = 0; i < n; i++) {
    if (recv_in_window[i] == 0) {
      silent++;
      quiet += (long)(window / FRAME_MS);
    } else if (now - last_arrival[i] > 5 * FRAME_MS)
      quiet += (long)((now - last_arrival[i]) / FRAME_MS) - 1;
  }
  printf("report {\"streams\":%d,\"windowMs\":%.1f,\"received\":%ld,\"lost\":%ld,\"silentStreams\":%ld,"
         "\"devP50\":%.3f,\"devP99\":%.3f,\"devMax\":%.3f,\"relayDevP99\":%.3f,\"cpuPct\":%.2f,\"sendLateP99\":%.3f,\"fills\":%ld}\n",
         n, window, received, lost + quiet, silent, percentile(hist, 0.5), percentile(hist, 0.99), dev_max,
         kind_bridge ? percentile(transit_hist, 0.99) : -1.0, (cpu_s(&ru) - cpu_s(&ru_start)) * 1e5 / window,
         percentile(late_hist, 0.99), fills);
  fflush(stdout);
}

static void teardown(void) {
  if (fd >= 0) close(fd);
  fd = -1;
  n = 0;
  measuring = 0;
}

static int setup(char *args) {
  char kind[16], path[4096];
  int used = 0;
  if (sscanf(args, "%15s %4095s %d%n", kind, path, &n, &used) != 3 || n <= 0 || n > MAXN) return -1;
  kind_bridge = strcmp(kind, "bridge") == 0;
  FILE *f = fopen(path, "rb");
  if (!f || fread(loop_audio, 1, sizeof loop_audio, f) != sizeof loop_audio) return -2;
  fclose(f);
  memcpy(noise_frame, loop_audio + 20 * PAYLOAD, PAYLOAD);
  for (int i = 0; i < 65536; i++) stream_of_port[i] = -1;
  char *p = args + used;
  for (int i = 0; i < n; i++) {
    long port = strtol(p, &p, 10);
    if (port <= 0 || port > 65535) return -3;
    memset(&dst[i], 0, sizeof dst[i]);
    dst[i].sin_family = AF_INET;
    dst[i].sin_port = htons((uint16_t)port);
    dst[i].sin_addr.s_addr = htonl(0x7f000001);
    stream_of_port[port] = i;
    seqs[i] = 0;
    tss[i] = (uint32_t)i * 104729u;
    counters[i] = 0;
    frame_off[i] = (uint32_t)(i * 7) % LOOP_FRAMES;
    have_prev[i] = 0;
    recv_in_window[i] = 0;
  }
  fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  int sz = 32 << 20, one = 1;
  // FORCE (root) past rmem_max; otherwise as much as the system allows.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz)) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz)) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(0x7f000001);
  if (bind(fd, (struct sockaddr *)&a, sizeof a)) return -4;
  socklen_t al = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &al);
  return ntohs(a.sin_port);
}

int main(void) {
  for (int j = 0; j < RBATCH; j++) {
    riov[j].iov_base = rbuf[j];
    riov[j].iov_len = sizeof rbuf[j];
    rmsg[j].msg_hdr.msg_iov = &riov[j];
    rmsg[j].msg_hdr.msg_iovlen = 1;
    rmsg[j].msg_hdr.msg_name = &rsrc[j];
    rmsg[j].msg_hdr.msg_control = rctl[j];
  }
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  static char line[1 << 20];
  size_t have = 0;
  double t0 = 0;
  long slot = 0;
  for (;;) {
    if (fd >= 0) {
      double now = mono_ms();
      double due = t0 + slot * (FRAME_MS / PHASES);
      if (now >= due) {
        if (measuring) bin(late_hist, now - due);
        send_phase((int)(slot % PHASES));
        slot++;
        // After a stall, skip phases rather than burst (as the server's clock does).
        if (mono_ms() - (t0 + slot * (FRAME_MS / PHASES)) > FRAME_MS) slot = (long)((mono_ms() - t0) / (FRAME_MS / PHASES));
        continue;
      }
      drain();
    }
    // Commands (non-blocking read; the wait below wakes at least every phase).
    ssize_t r = read(0, line + have, sizeof line - 1 - have);
    if (r == 0) return 0;
    if (r > 0) have += (size_t)r;
    char *nl;
    while ((nl = memchr(line, '\n', have)) != NULL) {
      *nl = 0;
      if (strncmp(line, "setup ", 6) == 0) {
        teardown();
        int port = setup(line + 6);
        if (port < 0) {
          fprintf(stderr, "media-phones: setup failed (%d)\n", port);
          return 2;
        }
        t0 = mono_ms();
        slot = 0;
        printf("ready %d\n", port);
      } else if (strcmp(line, "measure") == 0) {
        memset(hist, 0, sizeof hist);
        memset(transit_hist, 0, sizeof transit_hist);
        memset(late_hist, 0, sizeof late_hist);
        for (int i = 0; i < n; i++) recv_in_window[i] = 0;
        received = lost = fills = 0;
        dev_max = 0;
        window_start = real_ms();
        getrusage(RUSAGE_SELF, &ru_start);
        measuring = 1;
        printf("measuring\n");
      } else if (strcmp(line, "report") == 0) {
        drain();
        report();
      } else if (strcmp(line, "teardown") == 0) {
        teardown();
        printf("done\n");
      } else if (strcmp(line, "exit") == 0) {
        return 0;
      }
      fflush(stdout);
      size_t used = (size_t)(nl + 1 - line);
      memmove(line, nl + 1, have - used);
      have -= used;
    }
    if (fd >= 0) {
      double due = t0 + slot * (FRAME_MS / PHASES);
      struct timespec ts;
      // Wake at the phase deadline, or within 1 ms to read commands and drain.
      double wake = due;
      double lim = mono_ms() + 1.0;
      if (wake > lim) wake = lim;
      ts.tv_sec = (time_t)(wake / 1e3);
      ts.tv_nsec = (long)((wake - ts.tv_sec * 1e3) * 1e6);
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    } else {
      struct pollfd pf = {.fd = 0, .events = POLLIN};
      poll(&pf, 1, 1000);
    }
  }
}

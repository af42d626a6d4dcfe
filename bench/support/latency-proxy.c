/*
 * A TCP proxy holding every chunk DELAY_US microseconds in each direction: a database "over a
 * network" for bench/e2e-pipeline.ts. Why C and not the Node proxy it replaces: libuv's timers
 * count whole milliseconds against a loop clock updated once per iteration, so under the
 * benchmark's load a 1 ms hold became 1.7-2 ms (measured), and the emulated network slowed down
 * with the CPU load of the machine, which a real network does not. Here each direction has a
 * CLOCK_MONOTONIC timerfd armed at the next chunk's absolute due time (nanoseconds).
 * Order is kept: a direction's chunks leave in arrival order, each at arrival + delay.
 * Usage: latency-proxy <upstream port> <delay µs>; prints its listening port on stdout, and on
 * SIGUSR1 one line "late <mean µs> <p90 µs> <chunks>": how late chunks left against their due time
 * since the previous SIGUSR1 (the emulation's own error).
 * Build: cc -O2 -o latency-proxy latency-proxy.c (support/latency-proxy.ts does it).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

struct chunk { struct chunk *next; uint64_t due; size_t len, off; char data[]; };
struct dir { int from, to, timer; struct chunk *head, *tail; struct conn *conn; };
struct conn { struct dir d[2]; int closed; };
/* What an epoll event refers to: a socket's readability (its direction) or a direction's timer. */
struct ref { struct dir *dir; int is_timer; };

static int ep;
static uint64_t delay_ns;
/* Lateness histogram, 10 µs buckets up to 100 ms. */
#define LATE_BUCKETS 10000
static uint64_t late_hist[LATE_BUCKETS], late_sum_ns, late_n;

static void report(void) {
  uint64_t seen = 0, p90 = 0;
  for (int b = 0; b < LATE_BUCKETS; b++) {
    seen += late_hist[b];
    if (seen * 10 >= late_n * 9) { p90 = (uint64_t)b * 10; break; }
  }
  printf("late %llu %llu %llu\n", (unsigned long long)(late_n ? late_sum_ns / late_n / 1000 : 0), (unsigned long long)p90, (unsigned long long)late_n);
  fflush(stdout);
  memset(late_hist, 0, sizeof late_hist);
  late_sum_ns = late_n = 0;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static void arm(struct dir *d) {
  struct itimerspec its = {0};
  if (d->head) {
    its.it_value.tv_sec = d->head->due / 1000000000u;
    its.it_value.tv_nsec = d->head->due % 1000000000u;
  }
  timerfd_settime(d->timer, TFD_TIMER_ABSTIME, &its, NULL);
}

static void close_conn(struct conn *c) {
  if (c->closed) return;
  c->closed = 1;
  for (int i = 0; i < 2; i++) {
    struct dir *d = &c->d[i];
    epoll_ctl(ep, EPOLL_CTL_DEL, d->from, NULL);
    epoll_ctl(ep, EPOLL_CTL_DEL, d->timer, NULL);
    close(d->from);
    close(d->timer);
    for (struct chunk *k = d->head, *n; k; k = n) { n = k->next; free(k); }
    d->head = d->tail = NULL;
  }
  /* The conn and its refs are leaked on purpose: events of this epoll round may still name them. */
}

/* Writes every due chunk; a socket that cannot take it all now is waited for (loopback: rare). */
static int flush(struct dir *d) {
  uint64_t t = now_ns();
  while (d->head && d->head->due <= t) {
    struct chunk *k = d->head;
    uint64_t late = t - k->due;
    late_sum_ns += late;
    late_n++;
    late_hist[late / 10000 < LATE_BUCKETS ? late / 10000 : LATE_BUCKETS - 1]++;
    while (k->off < k->len) {
      ssize_t n = write(d->to, k->data + k->off, k->len - k->off);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) return -1;
      k->off += (size_t)n;
    }
    d->head = k->next;
    if (!d->head) d->tail = NULL;
    free(k);
  }
  arm(d);
  return 0;
}

static int receive(struct dir *d) {
  char buf[65536];
  ssize_t n = read(d->from, buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
  if (n <= 0) return -1;
  struct chunk *k = malloc(sizeof *k + (size_t)n);
  if (!k) return -1;
  k->next = NULL;
  k->due = now_ns() + delay_ns;
  k->len = (size_t)n;
  k->off = 0;
  memcpy(k->data, buf, (size_t)n);
  int was_empty = d->head == NULL;
  if (d->tail) d->tail->next = k; else d->head = k;
  d->tail = k;
  if (was_empty) arm(d);
  return 0;
}

static void watch(int fd, struct dir *d, int is_timer) {
  struct ref *r = malloc(sizeof *r);
  r->dir = d;
  r->is_timer = is_timer;
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = r };
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s <upstream port> <delay µs>\n", argv[0]); return 2; }
  int upstream = atoi(argv[1]);
  delay_ns = (uint64_t)atoll(argv[2]) * 1000u;
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 128)) { perror("listen"); return 1; }
  socklen_t al = sizeof a;
  getsockname(ls, (struct sockaddr *)&a, &al);
  printf("%d\n", ntohs(a.sin_port));
  fflush(stdout);
  ep = epoll_create1(0);
  struct epoll_event lev = { .events = EPOLLIN, .data.ptr = NULL };
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &lev);
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, NULL);
  int sfd = signalfd(-1, &usr1, SFD_NONBLOCK);
  static struct ref sig_ref;
  struct epoll_event sev = { .events = EPOLLIN, .data.ptr = &sig_ref };
  epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &sev);
  struct epoll_event evs[64];
  for (;;) {
    int n = epoll_wait(ep, evs, 64, -1);
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < n; i++) {
      struct ref *r = evs[i].data.ptr;
      if (!r) {
        int client = accept(ls, NULL, NULL);
        if (client < 0) continue;
        int up = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in u = { .sin_family = AF_INET, .sin_port = htons((uint16_t)upstream) };
        inet_pton(AF_INET, "127.0.0.1", &u.sin_addr);
        if (connect(up, (struct sockaddr *)&u, sizeof u)) { close(client); close(up); continue; }
        setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        c->d[0] = (struct dir){ .from = client, .to = up, .conn = c };
        c->d[1] = (struct dir){ .from = up, .to = client, .conn = c };
        for (int j = 0; j < 2; j++) {
          c->d[j].timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
          watch(c->d[j].from, &c->d[j], 0);
          watch(c->d[j].timer, &c->d[j], 1);
        }
        continue;
      }
      if (r == &sig_ref) {
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) > 0) report();
        continue;
      }
      struct dir *d = r->dir;
      if (d->conn->closed) continue;
      if (r->is_timer) {
        uint64_t expirations;
        if (read(d->timer, &expirations, sizeof expirations) < 0 && errno != EAGAIN) { close_conn(d->conn); continue; }
        if (flush(d)) close_conn(d->conn);
      } else if (receive(d)) {
        close_conn(d->conn);
      }
    }
  }
}

/* The io_uring floor for an echo server on this machine: the same job as
 * bench/floor-echo.c with io_uring instead of epoll, to see how far below
 * the epoll floor a server can go here (see "Servers" in bench/README.md).
 * One thread, one ring (single issuer, deferred task work), multishot
 * accept, multishot recv into a provided buffer ring, one send per
 * received buffer straight from that buffer (the buffer goes back to the
 * ring once its send is done), close through the ring. Sends of one
 * connection are chained in order: a connection has at most one send in
 * flight and parks the later buffers, so no byte is reordered or lost.
 * Build: cc -O2 -o floor-uring bench/floor-uring.c -luring
 * Usage: floor-uring PORT   (listens on 127.0.0.1:PORT) */
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NBUF 1024
#define BUFSZ (16 * 1024)
#define MAXFD 65536
#define BGID 1

enum { ACCEPT = 1, RECV, SEND, CLOSE };
#define UD(kind, fd) (((unsigned long long)(kind) << 32) | (unsigned)(fd))

/* Per connection: a queue of (buffer id, length, offset) waiting to go. */
struct out { unsigned short bid; unsigned len, off; };
struct conn { struct out *q; unsigned head, tail, cap; int eof, sending; };
static struct conn conns[MAXFD];
static struct io_uring ring;
static struct io_uring_buf_ring *br;
static char *bufs;

static struct io_uring_sqe *sqe(void) {
    struct io_uring_sqe *s = io_uring_get_sqe(&ring);
    if (!s) { io_uring_submit(&ring); s = io_uring_get_sqe(&ring); }
    return s;
}

static void give_back(unsigned short bid) {
    io_uring_buf_ring_add(br, bufs + (size_t)bid * BUFSZ, BUFSZ, bid, io_uring_buf_ring_mask(NBUF), 0);
    io_uring_buf_ring_advance(br, 1);
}

static void arm_recv(int fd) {
    struct io_uring_sqe *s = sqe();
    io_uring_prep_recv_multishot(s, fd, NULL, 0, 0);
    s->flags |= IOSQE_BUFFER_SELECT;
    s->buf_group = BGID;
    io_uring_sqe_set_data64(s, UD(RECV, fd));
}

static void close_conn(int fd) {
    struct io_uring_sqe *s = sqe();
    io_uring_prep_close(s, fd);
    io_uring_sqe_set_data64(s, UD(CLOSE, fd));
    free(conns[fd].q);
    memset(&conns[fd], 0, sizeof conns[fd]);
}

/* Send the head of fd's queue, if nothing is in flight. */
static void pump(int fd) {
    struct conn *c = &conns[fd];
    if (c->sending) return;
    if (c->head == c->tail) {
        if (c->eof) close_conn(fd);
        return;
    }
    struct out *o = &c->q[c->head % c->cap];
    struct io_uring_sqe *s = sqe();
    io_uring_prep_send(s, fd, bufs + (size_t)o->bid * BUFSZ + o->off, o->len - o->off, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(s, UD(SEND, fd));
    c->sending = 1;
}

static void queue(int fd, unsigned short bid, unsigned len) {
    struct conn *c = &conns[fd];
    if (c->tail - c->head == c->cap) {
        unsigned cap = c->cap ? c->cap * 2 : 4;
        struct out *q = malloc(cap * sizeof *q);
        for (unsigned i = 0; i < c->tail - c->head; i++) q[i] = c->q[(c->head + i) % c->cap];
        c->tail -= c->head; c->head = 0;
        free(c->q); c->q = q; c->cap = cap;
    }
    c->q[c->tail++ % c->cap] = (struct out){bid, len, 0};
    pump(fd);
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: floor-uring PORT\n"); return 2; }
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (void *)&a, sizeof a) || listen(ls, 511)) { perror("listen"); return 5; }

    struct io_uring_params p = {.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN
                                         | IORING_SETUP_COOP_TASKRUN, .cq_entries = 16384};
    p.flags |= IORING_SETUP_CQSIZE;
    int r = io_uring_queue_init_params(4096, &ring, &p);
    if (r) { fprintf(stderr, "io_uring: %s\n", strerror(-r)); return 1; }
    bufs = aligned_alloc(4096, (size_t)NBUF * BUFSZ);
    /* liburing 2.3 (Debian 12) has no io_uring_setup_buf_ring: by hand. */
    br = aligned_alloc(4096, NBUF * sizeof(struct io_uring_buf));
    io_uring_buf_ring_init(br);
    struct io_uring_buf_reg reg = {.ring_addr = (unsigned long)br, .ring_entries = NBUF, .bgid = BGID};
    if ((r = io_uring_register_buf_ring(&ring, &reg, 0))) { fprintf(stderr, "buf ring: %s\n", strerror(-r)); return 1; }
    for (unsigned i = 0; i < NBUF; i++) give_back(i);

    struct io_uring_sqe *s = sqe();
    io_uring_prep_multishot_accept(s, ls, NULL, NULL, 0);
    io_uring_sqe_set_data64(s, UD(ACCEPT, ls));
    for (;;) {
        io_uring_submit_and_wait(&ring, 1);
        struct io_uring_cqe *cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            seen++;
            unsigned long long ud = cqe->user_data;
            int kind = ud >> 32, fd = (int)(unsigned)ud, res = cqe->res;
            switch (kind) {
            case ACCEPT:
                if (res >= 0 && res < MAXFD) arm_recv(res);
                else if (res >= 0) close(res);
                if (!(cqe->flags & IORING_CQE_F_MORE)) {
                    s = sqe();
                    io_uring_prep_multishot_accept(s, ls, NULL, NULL, 0);
                    io_uring_sqe_set_data64(s, UD(ACCEPT, ls));
                }
                break;
            case RECV:
                if (res > 0) {
                    queue(fd, cqe->flags >> IORING_CQE_BUFFER_SHIFT, res);
                    if (!(cqe->flags & IORING_CQE_F_MORE)) arm_recv(fd);
                } else if (res == -ENOBUFS) {
                    arm_recv(fd);
                } else {
                    conns[fd].eof = 1;
                    pump(fd);
                }
                break;
            case SEND: {
                struct conn *c = &conns[fd];
                c->sending = 0;
                if (!c->cap) break; /* closed meanwhile */
                struct out *o = &c->q[c->head % c->cap];
                if (res < 0) { give_back(o->bid); c->head++; c->eof = 1; }
                else if ((o->off += res) == o->len) { give_back(o->bid); c->head++; }
                pump(fd);
                break;
            }
            default:
                break;
            }
        }
        io_uring_cq_advance(&ring, seen);
    }
}

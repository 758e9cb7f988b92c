/* The floor for an echo server on this machine: as little user space as an
 * echo server can have, to compare `wirecat echo` and Node against (see
 * "Servers" in bench/README.md). One thread, epoll level-triggered,
 * non-blocking sockets; per readiness event one read(2) into a 64 KiB
 * buffer and one write(2) of what came. A short write (rare: the client
 * reads as it sends) parks the rest on the heap and waits for EPOLLOUT
 * before reading that connection again, so no byte is lost.
 * Build: cc -O2 -o floor-echo bench/floor-echo.c
 * Usage: floor-echo PORT   (listens on 127.0.0.1:PORT) */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF (64 * 1024)
#define MAXFD 65536

struct pending { char *data; size_t len, off; };
static struct pending pend[MAXFD];
static char buf[BUF];

static void drop(int ep, int fd) {
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    free(pend[fd].data);
    memset(&pend[fd], 0, sizeof pend[fd]);
}

static void watch(int ep, int fd, unsigned events, int op) {
    struct epoll_event ev = {.events = events, .data.fd = fd};
    epoll_ctl(ep, op, fd, &ev);
}

/* Write what is parked for fd; back to reading once it is all gone. */
static void flush(int ep, int fd) {
    struct pending *p = &pend[fd];
    while (p->off < p->len) {
        ssize_t n = write(fd, p->data + p->off, p->len - p->off);
        if (n < 0) {
            if (errno == EAGAIN) return;
            drop(ep, fd);
            return;
        }
        p->off += n;
    }
    free(p->data);
    memset(p, 0, sizeof *p);
    watch(ep, fd, EPOLLIN, EPOLL_CTL_MOD);
}

static void echo(int ep, int fd) {
    ssize_t n = read(fd, buf, BUF);
    if (n == 0 || (n < 0 && errno != EAGAIN)) {
        if (n == 0) shutdown(fd, SHUT_WR);
        drop(ep, fd);
        return;
    }
    if (n < 0) return;
    ssize_t w = write(fd, buf, n);
    if (w < 0 && errno != EAGAIN) {
        drop(ep, fd);
        return;
    }
    if (w < 0) w = 0;
    if (w < n) {
        pend[fd].len = n - w;
        pend[fd].off = 0;
        pend[fd].data = malloc(n - w);
        memcpy(pend[fd].data, buf + w, n - w);
        watch(ep, fd, EPOLLOUT, EPOLL_CTL_MOD);
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: floor-echo PORT\n");
        return 2;
    }
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 511)) {
        perror("listen");
        return 1;
    }
    int ep = epoll_create1(0);
    watch(ep, ls, EPOLLIN, EPOLL_CTL_ADD);
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                int c;
                while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (c >= MAXFD) { close(c); continue; }
                    watch(ep, c, EPOLLIN, EPOLL_CTL_ADD);
                }
            } else if (pend[fd].data) {
                flush(ep, fd);
            } else {
                echo(ep, fd);
            }
        }
    }
}

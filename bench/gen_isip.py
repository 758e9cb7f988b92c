#!/usr/bin/env python3
"""Write N mixed lines for the isip benchmark: IPv4, IPv6 in every form,
near misses and noise, deterministic (seeded). Usage: gen_isip.py N > FILE"""
import random
import sys

rng = random.Random(20240601)


def v4():
    return ".".join(str(rng.randrange(256)) for _ in range(4))


def v6():
    groups = ["%x" % rng.randrange(0x10000) for _ in range(8)]
    form = rng.randrange(5)
    if form == 0:
        return ":".join(groups)
    if form == 1:
        a = rng.randrange(8)
        b = rng.randrange(a, 8)
        return ":".join(groups[:a]) + "::" + ":".join(groups[b + 1:])
    if form == 2:
        return "::ffff:" + v4()
    if form == 3:
        return "fe80::" + ":".join(groups[:rng.randrange(1, 5)]) + "%eth" + str(rng.randrange(4))
    return "2001:db8::" + groups[0]


def near_miss():
    s = rng.choice([v4, v6])()
    k = rng.randrange(6)
    if k == 0:
        return s + "."
    if k == 1:
        return "0" + s
    if k == 2:
        return s + ":80"
    if k == 3:
        return "[" + s + "]"
    if k == 4:
        i = rng.randrange(len(s))
        return s[:i] + s[i + 1:]
    return s.replace(".", "..", 1)


def noise():
    n = rng.randrange(1, 40)
    return "".join(rng.choice("0123456789abcdefxyz.:% -GET/") for _ in range(n))


def line():
    r = rng.random()
    if r < 0.45:
        return v4()
    if r < 0.70:
        return v6()
    if r < 0.90:
        return near_miss()
    return noise()


def main():
    n = int(sys.argv[1])
    pool = [line() for _ in range(min(n, 200_000))]
    out = sys.stdout
    chunk = 100_000
    for start in range(0, n, chunk):
        k = min(chunk, n - start)
        out.write("\n".join(rng.choices(pool, k=k)))
        out.write("\n")


main()

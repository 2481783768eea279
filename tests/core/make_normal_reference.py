#!/usr/bin/env python3
"""The reference values of tests/core/random.cpp's normal() case, from the standard library alone.

Replays tenfold::rng (splitmix64 seeding, xoshiro256**, 53-bit uniforms) and Marsaglia's polar method with
the same rounded u, v and s = fma(u, u, v * v), then takes the logarithm, quotient and square root in
40-digit decimal arithmetic: what tenfold's normal() would give if those last three steps were exact.
Run: python3 tests/core/make_normal_reference.py
"""
from fractions import Fraction
from decimal import Decimal, getcontext
getcontext().prec = 40
M = (1 << 64) - 1
def splitmix(seed):
    out = []
    for _ in range(4):
        seed = (seed + 0x9e3779b97f4a7c15) & M
        z = seed
        z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
        z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
        out.append(z ^ (z >> 31))
    return out
def rotl(x, k): return ((x << k) | (x >> (64 - k))) & M
class X:
    def __init__(s, seed): s.s = splitmix(seed)
    def next(s):
        a = s.s
        r = (rotl((a[1] * 5) & M, 7) * 9) & M
        t = (a[1] << 17) & M
        a[2] ^= a[0]; a[3] ^= a[1]; a[1] ^= a[2]; a[0] ^= a[3]; a[2] ^= t; a[3] = rotl(a[3], 45)
        return r
    def uniform(s): return (s.next() >> 11) * 2.0**-53
g = X(42)
out = []
while len(out) < 6:
    u = 2.0 * g.uniform() - 1.0; v = 2.0 * g.uniform() - 1.0   # both exact
    s = float(Fraction(u) * Fraction(u) + Fraction(v * v))  # fma(u, u, v * v), correctly rounded
    if s >= 1.0 or s == 0.0: continue
    f = (Decimal(-2) * Decimal(s).ln() / Decimal(s)).sqrt()
    out += [Decimal(u) * f, Decimal(v) * f]
for x in out: print(f"{x:.25e}", float(x).hex())

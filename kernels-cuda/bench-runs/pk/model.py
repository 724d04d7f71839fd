# Host model (numpy, float64) of the packed learned butterfly (prompts' packed-spec) and of learned_pk.cu's index
# scheme: tile-row order rho (partner rows k1 / N1 - k1 in lane rows g / g + 8), step 1's interleaved column order
# sigma, and the pair map's shuffles (lane ^ 3, the k1 = 0 row's (4 - t) & 3). Run: python3 model.py (asserts).
import numpy as np
rng = np.random.default_rng(1)

def dft(n, sign=-1):
    j = np.arange(n)
    return np.exp(sign * 2j * np.pi * np.outer(j, j) / n)

def pq(kpad, M):
    N = 2 * M
    K = np.fft.fft(kpad)            # K[j] = sum k[t] w_N^(j t)
    wN = np.exp(-2j * np.pi / N)
    k = np.arange(M)
    a = lambda j: (1 - 1j * wN ** j) / 2
    b = lambda j: (1 + 1j * wN ** j) / 2
    c = (1 + 1j * wN ** (-k)) / 2
    d = (1 - 1j * wN ** (-k)) / 2
    Kc = np.conj(K[M - k])          # index M - k in 1 .. M
    P = c * K[k] * a(k) + d * Kc * np.conj(b(M - k))
    Q = c * K[k] * b(k) + d * Kc * np.conj(a(M - k))
    return P, Q

def packed_forward(u, kpad, D, N1, N2, blocks):
    Fa, Fb, Gb, Ga = blocks
    M = N1 * N2; L = len(u)
    up = np.zeros(2 * M); up[:L] = u
    z = up[0::2] + 1j * up[1::2]
    A = z.reshape(N1, N2)
    T = np.exp(-2j * np.pi * np.outer(np.arange(N1), np.arange(N2)) / M)
    C = ((Fa @ A) * T) @ Fb
    P, Q = pq(kpad, M)
    Cf = np.zeros(M, complex)       # frequency order k = k1 + N1 k2
    for k1 in range(N1):
        for k2 in range(N2): Cf[k1 + N1 * k2] = C[k1, k2]
    s = (M - np.arange(M)) % M
    Cpf = P * Cf + Q * np.conj(Cf[s])
    Cp = np.zeros_like(C)
    for k1 in range(N1):
        for k2 in range(N2): Cp[k1, k2] = Cpf[k1 + N1 * k2]
    E = Ga @ ((Cp @ Gb) * np.conj(T) / M)
    e = E.reshape(-1)
    y = np.zeros(2 * M); y[0::2] = e.real; y[1::2] = e.imag
    return y[:L] + D * u, C, Cp

N1 = N2 = 32; M = N1 * N2; L = 1000; Lk = 1000
u = rng.standard_normal(L); k = rng.standard_normal(Lk); D = 0.3
kpad = np.zeros(2 * M); kpad[:Lk] = k
init = (dft(N1), dft(N2), np.conj(dft(N2)), np.conj(dft(N1)))
y, _, _ = packed_forward(u, kpad, D, N1, N2, init)
ref = np.convolve(u, k)[:L] + D * u
print("init vs direct causal conv: max abs err", np.abs(y - ref).max())
assert np.abs(y - ref).max() < 1e-9 * np.abs(ref).max()

for N1, N2, L in ((32, 32, 1000), (16, 32, 500), (16, 16, 250)):
    M = N1 * N2; Lk = L; u = rng.standard_normal(L); k = rng.standard_normal(Lk)
    kpad = np.zeros(2 * M); kpad[:Lk] = k
    # ---- the kernel's index scheme, with random blocks
    cr = lambda n: rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    blocks = (cr(N1), cr(N2), cr(N2), cr(N1))
    y2, C, Cp = packed_forward(u, kpad, D, N1, N2, blocks)
    Fa, Fb, Gb, Ga = blocks

    def rho(i, N1=32):   # tile row i = 16 w + g + 8 h (N1 = 32) -> k1
        H = N1 // 2
        if N1 == 32:
            w, g, h = i // 16, i % 8, (i % 16) // 8
            if w == 0: return 16 * h if g == 0 else (32 - g if h else g)
            return 24 - g if h else 8 + g
        g, h = i % 8, i // 8      # N1 = 16: one tile
        return 8 * h if g == 0 else (16 - g if h else g)
    R = [rho(i, N1) for i in range(N1)]
    assert sorted(R) == list(range(N1))
    def sigma(p):        # step 2's k position p (in a 16-block) -> complex column held there
        return 8 * (p >> 3) + 4 * (p & 1) + ((p >> 1) & 3)
    assert sorted(sigma(p) for p in range(16)) == list(range(16))
    S = [16 * (p // 16) + sigma(p % 16) for p in range(N2)]

    up = np.zeros(2 * M); up[:L] = u
    z = up[0::2] + 1j * up[1::2]; A = z.reshape(N1, N2)
    Zi = up.reshape(N1, 2 * N2)      # the stage: interleaved real rows
    T = np.exp(-2j * np.pi * np.outer(np.arange(N1), np.arange(N2)) / M)
    a1 = Fa[R, :]                    # rows permuted
    # step 1 on the interleaved stage: thread (g, t) of interleaved n8 tile it holds columns 2(4it+t), +1
    PR = a1.real @ Zi; PI = a1.imag @ Zi
    X1 = np.zeros((N1, N2), complex)
    for i in range(N1):
        for it in range(2 * N2 // 8):
            for t in range(4):
                c = 4 * it + t
                re = PR[i, 8 * it + 2 * t] - PI[i, 8 * it + 2 * t + 1]
                im = PI[i, 8 * it + 2 * t] + PR[i, 8 * it + 2 * t + 1]
                X1[i, c] = (re + 1j * im) * np.exp(-2j * np.pi * R[i] * c / M)
    assert np.allclose(X1, ((Fa @ A) * T)[R, :])
    # step 2's A fragment: k position p of k-tile kk holds column 16 kk + sigma(p): X1 permuted, b2 = Fb rows permuted
    X1p = X1[:, S]; b2 = Fb[S, :]
    Ct = X1p @ b2
    assert np.allclose(Ct, C[R, :])
    # pair map, lane level: C'[i][c] from Ct by the shuffles
    PQf = pq(kpad, M)
    def PQat(k1, k2): f = k1 + N1 * k2; return PQf[0][f], PQf[1][f]
    NT = N2 // 8
    Cpt = np.zeros_like(Ct)
    for w in range(N1 // 16):
        for lane in range(32):
            g, t = lane >> 2, lane & 3
            special = (w == 0 and g == 0)
            def val(ln, tile, h, e):   # lane ln's accumulator (tile, h, e) in warp w
                gg, tt = ln >> 2, ln & 3
                return Ct[16 * w + gg + 8 * h, 8 * tile + 2 * tt + e]
            for n in range(NT):
                m = NT - 1 - n
                for h in range(2):
                    for e in range(2):
                        src = lane ^ 3
                        if not special: part = val(src, m, 1 - h, 1 - e)
                        elif h == 1: part = val(src, m, 1, 1 - e)
                        elif e == 1: part = val(src, m, 0, 1)
                        else:
                            src = (lane & ~3) | ((4 - t) & 3)
                            part = val(src, (NT - n) % NT if t == 0 else m, 0, 0)
                        i = 16 * w + g + 8 * h; c = 8 * n + 2 * t + e
                        P, Q = PQat(R[i], c)
                        Cpt[i, c] = P * Ct[i, c] + Q * np.conj(part)
    assert np.allclose(Cpt, Cp[R, :])
    X3t = (Cpt @ Gb) * np.conj(T[R, :]) / M
    a4 = Ga[:, R]
    E = a4 @ X3t
    e = E.reshape(-1); yk = np.zeros(2 * M); yk[0::2] = e.real; yk[1::2] = e.imag
    yk = yk[:L] + D * u
    print("kernel index scheme vs spec (random blocks): max abs err", np.abs(yk - y2).max())
    assert np.abs(yk - y2).max() < 1e-9 * np.abs(y2).max()
    print("OK")

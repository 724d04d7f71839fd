# Host check (numpy, float64) of learned_pk.cu's OPT & 1 ("kappa") index scheme against the prompts' packed spec:
# step 2's output column order kappa, the in-lane general partner (tile (n + NT/2) mod NT, same element, other h), the
# rows k1 = N1/2 (own h) and k1 = 0 (in-lane sources + the two cross-lane values xlo / xhi), step 3 with b3's rows in
# kappa order. Mirrors lpk_pairmap_kappa's selects literally. Builds on ../pk/model.py (spec, rho, sigma). Run:
#   python3 kernels-cuda/bench-runs/pkopt/model_kappa.py   (asserts; prints the max error per shape)
import numpy as np, os, sys, io, contextlib
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'pk'))
with contextlib.redirect_stdout(io.StringIO()):
    import model as pk   # runs pkgpu's own checks first (asserts)
rng = np.random.default_rng(7)

def kappa(p, N2):
    C, HT = N2 // 8, N2 // 16
    n, t, e = p >> 3, (p >> 1) & 3, p & 1
    return C * t + 2 * n + e if n < HT else N2 - 1 - (C * t + 2 * (n - HT) + e)

def rho(i, N1):
    if N1 == 32:
        w, g, h = i // 16, i % 8, (i % 16) // 8
        if w == 0: return 16 * h if g == 0 else (32 - g if h else g)
        return 24 - g if h else 8 + g
    g, h = i % 8, i // 8
    return 8 * h if g == 0 else (16 - g if h else g)

for N1, N2, L in ((32, 32, 1000), (16, 32, 500), (16, 16, 250)):
    M = N1 * N2; NT = N2 // 8; HT = NT // 2; D = 0.7
    K = [kappa(p, N2) for p in range(N2)]
    assert sorted(K) == list(range(N2))
    assert sorted(K[:N2 // 2]) == list(range(N2 // 2))   # step 3's k16 halves keep their column sets
    u = rng.standard_normal(L); kpad = np.zeros(2 * M); kpad[:L] = rng.standard_normal(L)
    cr = lambda n: rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    blocks = (cr(N1), cr(N2), cr(N2), cr(N1))
    y, C, Cp = pk.packed_forward(u, kpad, D, N1, N2, blocks)
    Fa, Fb, Gb, Ga = blocks
    R = [rho(i, N1) for i in range(N1)]
    Ct = C[R, :][:, K]                 # step 2 with b2's output columns in kappa order
    P, Q = pk.pq(kpad, M)
    Cpt = np.zeros_like(Ct)
    for w in range(N1 // 16):
        W0 = w == 0
        for lane in range(32):
            g, t = lane >> 2, lane & 3
            def cc(ln, tile, h, e): return Ct[16 * w + (ln >> 2) + 8 * h, 8 * tile + 2 * (ln & 3) + e]
            base = lane & ~3
            xlo = cc(lane, 0, 0, 0) if t == 0 else cc(base | ((t - 1) & 3), NT - 1, 0, 1)
            xhi = cc(lane, NT - 1, 0, 1) if t == 3 else cc(base | ((t + 1) & 3), 0, 0, 0)
            special = W0 and g == 0
            for n in range(NT):
                nm = (n + HT) % NT
                for h in range(2):
                    for e in range(2):
                        gen = cc(lane, nm, h ^ 1, e)
                        if h == 1: sp = cc(lane, nm, 1, e)
                        elif n < HT: sp = cc(lane, n + HT, 0, 0) if e == 1 else (cc(lane, n - 1 + HT, 0, 1) if n > 0 else xlo)
                        else: sp = cc(lane, n - HT, 0, 1) if e == 0 else (cc(lane, n - HT + 1, 0, 0) if n - HT < HT - 1 else xhi)
                        z = sp if special else gen
                        i = 16 * w + g + 8 * h; pos = 8 * n + 2 * t + e; f = R[i] + N1 * K[pos]
                        Cpt[i, pos] = P[f] * Ct[i, pos] + Q[f] * np.conj(z)
    assert np.allclose(Cpt, Cp[R, :][:, K])
    T = np.exp(-2j * np.pi * np.outer(np.arange(N1), np.arange(N2)) / M)
    X3t = (Cpt @ Gb[K, :]) * np.conj(T[R, :]) / M     # b3's k order kappa
    E = Ga[:, R] @ X3t
    e = E.reshape(-1); yk = np.zeros(2 * M); yk[0::2] = e.real; yk[1::2] = e.imag
    yk = yk[:L] + D * u
    err = np.abs(yk - y).max()
    print(f"{N1}x{N2}: kappa scheme vs spec (random blocks): max abs err {err:.2e}")
    assert err < 1e-9 * np.abs(y).max()
print("OK")

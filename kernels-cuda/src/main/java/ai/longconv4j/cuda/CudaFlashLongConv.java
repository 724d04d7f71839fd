// Shapes: B batch, C kernel channels, H features, L length, N FFT size (a power of two), Lk taps per side.
//   u (B, H, L) bf16/f16, kN (C, H, N) fp32 taps -> y (B, C, H, L) in u's dtype; dy likewise; du (B, H, L); dkN (C, H, N).
//   applyD: k (H, Lk) / (1, H, Lk) (bidirectional (H, 2, Lk) / (1, H, 2, Lk)), D (H) or (1, H) -> y (B, H, L) / (B, 1, H, L).
package ai.longconv4j.cuda;

import ai.longconv4j.tensor.DType;
import ai.longconv4j.tensor.Device;
import ai.longconv4j.tensor.Tensor;
import java.lang.ref.Reference;
import java.util.Arrays;

/**
 * The long convolution for 16-bit tensors through the fused FlashButterfly kernels (Monarch FFT on tensor cores,
 * 16-bit I/O, fp32 accumulation), one kernel channel c at a time, forward and backward:
 * {@code y_c = conv(u, k_c)} ({@link FlashButterflyConv#forward}), {@code du = sum_c K_c^T dy_c}
 * and {@code dk_c} from {@link FlashButterflyConv#backward} (tensor cores: one fused kernel for du and dk up to 32K
 * points, the three-pass backward beyond; {@link #backwardRoute}, else {@link FlashButterflyConv#backwardInput} and the
 * fp32 {@link FlashButterflyConv#backwardWeights})
 * placed back at the taps' positions of kN (zeros elsewhere: padding). The kernel spectrum is computed on the GPU
 * from the device taps ({@link FlashButterflyConv#setWeightsOnDevice}); the skip term D u is added by the caller, so
 * the plan's D is zero. Used for every N = {@link #fftSize} the plans take: one fused kernel up to 32K points, the
 * three-pass algorithm above (to {@link FlashButterflyConv#MAX_N} = 2^19: L = 256K causal), forward and backward.
 * {@link #applyD} is the fused tensor op (session 13): the taps and D straight to the plan, whose kernels add D u and
 * return du, dk and dD; {@link #apply} (kN from ConvOps, D = 0, the caller adds D u) stays its slow twin and the path
 * for C > 1 kernel channels.
 */
final class CudaFlashLongConv {
  private CudaFlashLongConv() {}

  static ConvMode mode(ai.longconv4j.conv.ConvMode m) { return ConvMode.valueOf(m.name()); }

  /**
   * FlashButterfly's N for 16-bit inputs where its plans apply (one or three passes, N <= {@link FlashButterflyConv#MAX_N}),
   * else -1 (F32/F64 inputs, circular with L not a power of two or below 32 points, L beyond 2^19 points).
   */
  static int fftSize(ai.longconv4j.conv.ConvMode mode, int length, DType dtype) {
    if (dtype != DType.BF16 && dtype != DType.F16) return -1;
    try {
      return FlashButterflyConv.fftSize(mode(mode), length);
    } catch (IllegalArgumentException e) {
      return -1;                        // e.g. circular with L not a power of two: the cuFFT path takes it
    }
  }

  /** The three long-convolution paths of {@link CudaBackend#spectralConv}. */
  enum Route { CUFFT, FLASH_BUTTERFLY, CUFFT_F32 }

  /**
   * Which path takes a long convolution of u's dtype at length L with the kernel placed at kN's N (no GPU needed):
   * F32/F64 cuFFT; BF16/F16 FlashButterfly when N is its FFT size for (mode, L), else cuFFT in F32.
   */
  static Route route(DType dtype, ai.longconv4j.conv.ConvMode mode, int length, int kN) {
    if (dtype == DType.F32 || dtype == DType.F64) return Route.CUFFT;
    return fftSize(mode, length, dtype) == kN ? Route.FLASH_BUTTERFLY : Route.CUFFT_F32;
  }

  /**
   * The switch for the three-pass sizes' 16-bit backward (N > 32K): the tensor-core {@link ThreePass#backward} (default)
   * or, with {@code -Dlongconv4j.cuda.fb3.backward=twin}, backwardInput + the fp32 backwardWeights (the slow twin).
   */
  static final boolean THREE_PASS_BACKWARD = !"twin".equals(System.getProperty("longconv4j.cuda.fb3.backward"));

  /** The backward paths of a long convolution whose kernel needs a gradient (see {@link #backwardRoute}). */
  enum BackwardRoute { CUFFT, FUSED_ONE_PASS, FUSED_THREE_PASS, TWIN }

  /**
   * Which backward (du, dk, dD) a conv of u's dtype at length L with the kernel at kN's N takes (no GPU needed): the
   * forward's {@link #route} decides cuFFT or FlashButterfly; FlashButterfly's one-pass plans (N <= 32K) run the fused
   * kernel, three-pass plans {@link ThreePass#backward} when {@code threePass} (the switch, {@link #THREE_PASS_BACKWARD}),
   * else the twin. Tensor-core plans whose two spectra do not fit in shared memory also fall back to the twin at run time
   * ({@link FlashButterflyConv#fusedBackwardApplies}); the backend's plans (16-bit inner storage) always fit on sm_80+.
   */
  static BackwardRoute backwardRoute(DType dtype, ai.longconv4j.conv.ConvMode mode, int length, int kN, boolean threePass) {
    if (route(dtype, mode, length, kN) != Route.FLASH_BUTTERFLY) return BackwardRoute.CUFFT;
    if (FlashButterflyConv.onePass(kN, Precision.BF16)) return BackwardRoute.FUSED_ONE_PASS;
    return threePass ? BackwardRoute.FUSED_THREE_PASS : BackwardRoute.TWIN;
  }

  static Tensor apply(CudaBackend be, Tensor u, Tensor kN, ai.longconv4j.conv.ConvMode lmode, int taps) {
    int b = u.size(0), h = u.size(1), l = u.size(2), c = kN.size(0), n = kN.size(2);
    if (kN.dtype() != DType.F32 || kN.size(1) != h)
      throw new IllegalArgumentException("longconv[FlashButterfly]: kN must be (C, H=" + h + ", N) F32, got " + Arrays.toString(kN.shape())
          + " " + kN.dtype());
    CudaBackend.Gpu g = be.gpu(u.device());
    ElementType io = u.dtype() == DType.BF16 ? ElementType.BF16 : ElementType.F16;
    FlashButterflyConv fb = g.flash(h, l, mode(lmode), io);
    if (fb.fftSize() != n) throw new IllegalArgumentException("longconv[FlashButterfly]: kN has N=" + n + ", the plan " + fb.fftSize());
    Device dev = u.device();
    Tensor uc = fresh(u.detach()), kc = kN.detach().contiguous();
    CudaStorage zeroD = be.allocate(g, DType.F32, h);
    CudaStorage us = (CudaStorage) uc.storage(), ks = (CudaStorage) kc.storage();
    Tensor[] ys = new Tensor[c];
    try {
      for (int ci = 0; ci < c; ci++) {
        CudaStorage y = be.allocate(g, u.dtype(), b * h * l);
        fb.setWeightsOnDevice(ks.at(kc.offset() + (long) ci * h * n), taps, zeroD.at(0));
        fb.forward(us.buffer(), y.buffer(), b);
        ys[ci] = Tensor.fromStorage(y, b, 1, h, l);
      }
    } catch (CudaException e) {
      throw new CudaException(e.code(), "longconv[FlashButterfly] u " + Arrays.toString(u.shape()) + " " + u.dtype() + ", kN "
          + Arrays.toString(kN.shape()) + ": " + e.getMessage());
    } finally {
      Reference.reachabilityFence(ks);
      Reference.reachabilityFence(zeroD);
    }
    Tensor y = c == 1 ? ys[0] : Tensor.concat(1, ys);
    if (!(Tensor.isGradEnabled() && (u.requiresGrad() || kN.requiresGrad()))) return y;
    int parts = lmode == ai.longconv4j.conv.ConvMode.BIDIRECTIONAL ? 2 : 1;
    return Tensor.op("longconv[FlashButterfly]", y.detach(), new Tensor[] {u, kN}, gy -> {
      Tensor du = null;
      Tensor[] dks = new Tensor[c];
      try (var ng = Tensor.noGrad()) {
        for (int ci = 0; ci < c; ci++) {
          Tensor gc = fresh(gy.detach().slice(1, ci, ci + 1).reshape(b, h, l));
          CudaStorage gs = (CudaStorage) gc.storage();
          fb.setWeightsOnDevice(ks.at(kc.offset() + (long) ci * h * n), taps, zeroD.at(0)).threePassBackward(THREE_PASS_BACKWARD);
          CudaStorage duc = u.requiresGrad() ? be.allocate(g, u.dtype(), b * h * l) : null;
          if (kN.requiresGrad()) {   // du (if wanted), dk and dD in one launch where the fused backward applies
            CudaStorage dk = be.allocate(g, DType.F32, parts * h * taps), dD = be.allocate(g, DType.F32, h);
            fb.backward(us.buffer(), gs.buffer(), duc == null ? null : duc.buffer(), b, dk.buffer(), dD.buffer());
            Tensor dkt = Tensor.fromStorage(dk, parts, h, taps);
            Tensor row = dkt.slice(0, 0, 1).reshape(h, taps).pad(1, 0, n - taps);
            if (parts == 2) row = row.add(dkt.slice(0, 1, 2).reshape(h, taps).flip(1).pad(1, n - taps, 0));
            dks[ci] = row.reshape(1, h, n);
          } else if (duc != null) {
            fb.backwardInput(gs.buffer(), duc.buffer(), b);
          }
          if (duc != null) {
            Tensor d32 = Tensor.fromStorage(duc, b, h, l).to(DType.F32);
            du = du == null ? d32 : du.add(d32);
          }
          Reference.reachabilityFence(gs);
        }
        Reference.reachabilityFence(us);
        Reference.reachabilityFence(ks);
        Reference.reachabilityFence(zeroD);
        Tensor dkN = kN.requiresGrad() ? (c == 1 ? dks[0] : Tensor.concat(0, dks)) : null;
        return new Tensor[] {du == null ? null : du.to(u.dtype()), dkN};
      } catch (CudaException e) {
        throw new CudaException(e.code(), "longconv[FlashButterfly] backward u " + Arrays.toString(u.shape()) + " " + u.dtype()
            + ", kN " + Arrays.toString(kN.shape()) + ": " + e.getMessage());
      }
    });
  }

  /**
   * Whether {@link #applyD} (the fused op: taps and D straight to the plan) takes a convolution of u's dtype at length L
   * with {@code channels} kernel channels (no GPU needed): 16-bit inputs where FlashButterfly's plans apply, one channel
   * (C > 1: the composition through {@link #apply}, one plan call per channel).
   */
  static boolean fusedApplies(DType dtype, ai.longconv4j.conv.ConvMode mode, int length, int channels) {
    return channels == 1 && fftSize(mode, length, dtype) > 0;
  }

  /**
   * Whether {@link #applyD}'s backward reuses the spectrum its forward set on the shared plan when the plan's
   * {@link FlashButterflyConv#weightsVersion} shows no other setWeights since (default; {@code
   * -Dlongconv4j.cuda.fbop.reuse=false}: recompute it in every backward, the twin).
   */
  static final boolean REUSE_SPECTRUM = !"false".equals(System.getProperty("longconv4j.cuda.fbop.reuse"));

  /**
   * The whole tensor op {@code y = conv(u, k) + D u} on the FlashButterfly plan ({@code ConvOps.convOnDevice}'s fused
   * path, {@link CudaBackend#spectralConvD}): the taps go to the plan in its (H, N) layout (side 0 at [0, taps0),
   * bidirectional side 1 flipped to [N - taps1, N)) and D to the plan, so the forward's epilogue adds D u; the backward
   * is {@link FlashButterflyConv#backward} (du = K^T dy + D dy in u's dtype, dk (parts, H, taps0) and dD fp32 in one
   * launch where the fused backward applies; backwardInput alone when only u needs a gradient; the spectrum set again only
   * when another op set the shared plan's weights in between, {@link #REUSE_SPECTRUM}). u (B, H, L) bf16/f16,
   * k (H, [2,] Lk) or (1, H, [2,] Lk) of any float dtype, d null or H values; returns y in ConvOps.conv's shape, or
   * null where {@link #fusedApplies} says no (the caller composes).
   */
  static Tensor applyD(CudaBackend be, Tensor u, Tensor k, Tensor d, ai.longconv4j.conv.ConvMode lmode, int taps0, int taps1) {
    int sides = lmode.sides();
    boolean noChannel = k.dim() == sides + 1;
    int c = noChannel ? 1 : k.size(0), b = u.size(0), h = u.size(1), l = u.size(2), lk = k.size(-1);
    if (!fusedApplies(u.dtype(), lmode, l, c)) return null;
    if (taps0 < 1 || taps0 > lk || taps1 < 0 || taps1 > taps0 || (sides == 1 && taps1 != 0 && taps1 != taps0))
      throw new IllegalArgumentException("longconv[FlashButterfly+D]: taps " + taps0 + "/" + taps1 + " do not fit k "
          + Arrays.toString(k.shape()) + " in " + lmode);
    CudaBackend.Gpu g = be.gpu(u.device());
    ElementType io = u.dtype() == DType.BF16 ? ElementType.BF16 : ElementType.F16;
    FlashButterflyConv fb = g.flash(h, l, mode(lmode), io);
    int n = fb.fftSize();
    // the plan still holds this op's spectrum and D when k and D are the same unwritten tensors as at its last set (keepSpectrum)
    CudaLearnedConv.Src[] key = keepSpectrum() ? CudaLearnedConv.Src.of(k, d, new Tensor[0]) : null;
    Kept kept = key == null ? null : KEPT.get(fb);
    boolean reuse = kept != null && kept.version() == fb.weightsVersion() && kept.taps0() == taps0 && kept.taps1() == taps1
        && CudaLearnedConv.Src.same(kept.key(), key);
    Tensor uc;
    try (var ng = Tensor.noGrad()) { uc = fresh(u.detach()); }
    // kN (H, N) fp32 and D (H) fp32 as the plan reads them; not built when the plan's spectrum is reused (the backward
    // builds them if another op set the plan's weights in between)
    Tensor[] w = reuse ? new Tensor[2] : placed(be, g, k, d, h, sides, n, taps0, taps1);
    CudaStorage us = (CudaStorage) uc.storage();
    CudaStorage y = be.allocateOut(g, u.dtype(), b * h * l);
    try {
      if (!reuse) {
        setWeights(fb, w, taps0);
        if (key != null) KEPT.put(fb, new Kept(key, fb.weightsVersion(), taps0, taps1));
        else KEPT.remove(fb);
      }
      fb.forward(us.buffer(), y.buffer(), b);
    } catch (CudaException e) {
      throw new CudaException(e.code(), "longconv[FlashButterfly+D] u " + Arrays.toString(u.shape()) + " " + u.dtype() + ", k "
          + Arrays.toString(k.shape()) + ": " + e.getMessage());
    }
    int version = fb.weightsVersion();   // the backward skips the spectrum when no other op set this plan's weights since
    Tensor yt = noChannel ? Tensor.fromStorage(y, b, h, l) : Tensor.fromStorage(y, b, 1, h, l);
    boolean kg = k.requiresGrad(), dg = d != null && d.requiresGrad();
    if (!(Tensor.isGradEnabled() && (u.requiresGrad() || kg || dg))) return yt;
    int parts = sides;
    Tensor[] inputs = d == null ? new Tensor[] {u, k} : new Tensor[] {u, k, d};
    return Tensor.op("longconv[FlashButterfly+D]", yt, inputs, gy -> {
      try (var ng = Tensor.noGrad()) {
        Tensor gc = fresh(gy.detach().to(u.dtype()).reshape(b, h, l));
        CudaStorage gs = (CudaStorage) gc.storage();
        // the plan is shared by every op of its (H, L, mode, dtype): set this op's taps and D again unless they are still
        // the plan's (no setWeights since this op's forward: the same spectrum and D), or REUSE_SPECTRUM is off
        if (!REUSE_SPECTRUM || fb.weightsVersion() != version) {
          if (w[0] == null) System.arraycopy(placed(be, g, k, d, h, sides, n, taps0, taps1), 0, w, 0, 2);
          setWeights(fb, w, taps0);
        }
        fb.threePassBackward(THREE_PASS_BACKWARD);
        CudaStorage duc = u.requiresGrad() ? be.allocateOut(g, u.dtype(), b * h * l) : null;
        Tensor dk = null, dD = null;
        if (kg || dg) {   // du (if wanted), dk and dD in one launch where the fused backward applies
          // every backward route writes all of dk and dD (fb_bwd_dk_finish*, fb3_outer_inv_dk, fb_conv_dk: each tap j < taps0
          // of each side; dD zeroed before the atomics or stored), so no zero fill (805 MB at 256K) unless bwdZeroFill()
          CudaStorage dks = bwdZeroFill() ? be.allocate(g, DType.F32, parts * h * taps0) : be.allocateOut(g, DType.F32, parts * h * taps0),
              dDs = bwdZeroFill() ? be.allocate(g, DType.F32, h) : be.allocateOut(g, DType.F32, h);
          fb.backward(us.buffer(), gs.buffer(), duc == null ? null : duc.buffer(), b, dks.buffer(), dDs.buffer());
          if (kg) {
            Tensor dkt = Tensor.fromStorage(dks, parts, h, taps0);
            Tensor s0 = dkt.slice(0, 0, 1).reshape(h, taps0);
            dk = taps0 < lk ? s0.pad(1, 0, lk - taps0) : s0;
            if (parts == 2) {   // side 1's taps beyond taps1 are not taps (their positions are padding): gradient 0
              Tensor s1 = dkt.slice(0, 1, 2).reshape(h, taps0).slice(1, 0, taps1);
              s1 = taps1 < lk ? s1.pad(1, 0, lk - taps1) : s1;
              dk = Tensor.concat(1, dk.unsqueeze(1), s1.unsqueeze(1));
            }
            dk = dk.reshape(k.shape()).to(k.dtype());
          }
          if (dg) dD = Tensor.fromStorage(dDs, h).reshape(d.shape()).to(d.dtype());
        } else if (duc != null) {
          fb.backwardInput(gs.buffer(), duc.buffer(), b);
        }
        Reference.reachabilityFence(gs);
        Reference.reachabilityFence(us);
        Tensor du = duc == null ? null : Tensor.fromStorage(duc, u.shape());
        return d == null ? new Tensor[] {du, dk} : new Tensor[] {du, dk, dD};
      } catch (CudaException e) {
        throw new CudaException(e.code(), "longconv[FlashButterfly+D] backward u " + Arrays.toString(u.shape()) + " " + u.dtype()
            + ", k " + Arrays.toString(k.shape()) + ": " + e.getMessage());
      }
    });
  }

  /**
   * Whether {@link #applyD} keeps the spectrum it set on the shared plan for the next call with the same k and D (session
   * 17, helper opfix): the key is {@link CudaLearnedConv.Src} of k and D (the same live storages, no in-place write counted
   * by {@link StorageWrites} since, the same views) with the same taps, and the plan's {@link FlashButterflyConv#weightsVersion}
   * still the one this op's set left (no other op set the plan's weights since); then the forward skips kN's tensor ops
   * and the spectrum (a parameter changes storage at every optimizer step, so a training step recomputes it; evaluation and
   * repeated calls do not). {@code -Dlongconv4j.cuda.fbop.keep=false}: recomputed at every call (the slow twin). Read per call.
   */
  static boolean keepSpectrum() { return !"false".equals(System.getProperty("longconv4j.cuda.fbop.keep")); }

  /**
   * {@link #applyD}'s backward allocates dk and dD without the zero fill (default, session 18 helper layer: the kernels
   * write them whole; GPU tests run with poisoned outputs) or, with {@code -Dlongconv4j.cuda.fbop.bwdzero=true}, zero-filled
   * as before (the slow twin). Read per call.
   */
  static boolean bwdZeroFill() { return "true".equals(System.getProperty("longconv4j.cuda.fbop.bwdzero")); }

  /** What a plan's last {@link #applyD} set: its sources' key, the plan's weights version after the set, the taps, kN and D. */
  private record Kept(CudaLearnedConv.Src[] key, int version, int taps0, int taps1) {}

  /**
   * The plan's weights from k (H, [2,] Lk) and d (null: zeros): {kN (H, N) fp32 (side 0's taps at [0, taps0), side 1's
   * flipped to [N - taps1, N)), D (H) fp32}, each contiguous from element 0.
   */
  private static Tensor[] placed(CudaBackend be, CudaBackend.Gpu g, Tensor k, Tensor d, int h, int sides, int n, int taps0, int taps1) {
    int lk = k.size(-1);
    try (var ng = Tensor.noGrad()) {
      Tensor kc = k.detach().to(DType.F32).reshape(h, sides, lk);
      Tensor kN = kc.slice(1, 0, 1).reshape(h, lk).slice(1, 0, taps0).pad(1, 0, n - taps0);
      if (sides == 2 && taps1 > 0) kN = kN.add(kc.slice(1, 1, 2).reshape(h, lk).slice(1, 0, taps1).flip(1).pad(1, n - taps1, 0));
      Tensor dv = d == null ? Tensor.fromStorage(be.allocate(g, DType.F32, h), h) : fresh(d.detach().to(DType.F32).reshape(h));
      return new Tensor[] {fresh(kN), dv};
    }
  }

  /** fb.setWeightsOnDevice from {@link #placed}'s kN and D (queued; the tensors are held until the call returns). */
  private static void setWeights(FlashButterflyConv fb, Tensor[] w, int taps0) {
    CudaStorage ks = (CudaStorage) w[0].storage(), ds = (CudaStorage) w[1].storage();
    try {
      fb.setWeightsOnDevice(ks.at(0), taps0, ds.at(0));
    } finally {
      Reference.reachabilityFence(ks);
      Reference.reachabilityFence(ds);
    }
  }

  /** Per FlashButterfly plan (held weakly: the backend's plan cache holds the plans): the spectrum's sources of its last set. */
  private static final java.util.Map<FlashButterflyConv, Kept> KEPT = java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

  /** x itself when it is contiguous from element 0 of its storage, else a fresh contiguous copy (FB takes whole buffers). */
  static Tensor fresh(Tensor x) {
    if (x.isContiguous() && x.offset() == 0) return x;
    Tensor c = x.contiguous();
    return c.offset() == 0 && c != x ? c : x.add(0.0);
  }
}

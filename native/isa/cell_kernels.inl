// Elementwise cell kernels written once over a vector type V, with VecScalar for the tail units.
// Included inside an ISA translation unit's anonymous namespace after vec_math.inl; see
// kernel_table.h for what each computes.

// Runs body(W{}, j) over [j0, j1): width-V steps, then one unit at a time.
template <class V, class Body>
inline void forUnits(int j0, int j1, Body body) {
  int j = j0;
  for (; j + V::width <= j1; j += V::width) body(V{}, j);
  for (; j < j1; j++) body(VecScalar{}, j);
}

// Zoneout's d for units j.. of a row: mask bytes (0 or 1) widened, or p throughout. The mixes below
// keep products and sums unfused, so a unit gets the same bits in a vector and in a scalar tail.
template <class V>
inline V zoneoutLanes(ZoneRow z, int j) {
  return z.mask ? V::fromBytes(z.mask + j) : V::set1(z.p);
}

// d ⊙ prev + (1 − d) ⊙ cand: exactly prev at d = 1 and cand at d = 0.
template <class V>
inline V zoneMix(V d, V prev, V cand) {
  return d * prev + (V::set1(1.0f) - d) * cand;
}

template <class V>
void lstmCellForward(float* gates, float* cCand, float* cNew, float* m, const float* cPrev, const float* peep, ZoneRow zc,
                 int H, int j0, int j1) {
  const bool zonesC = zc.on();
  forUnits<V>(j0, j1, [&](auto tag, int j) {
    using W = decltype(tag);
    const W cp = W::load(cPrev + j);
    W pi = W::load(gates + j);
    W pf = W::load(gates + H + j);
    W po = W::load(gates + 3 * H + j);
    if (peep) {
      pi = W::fmadd(W::load(peep + j), cp, pi);
      pf = W::fmadd(W::load(peep + H + j), cp, pf);
    }
    const W i = vsigmoid(pi);
    const W f = vsigmoid(pf);
    const W g = vtanh(W::load(gates + 2 * H + j));
    const W c = W::fmadd(f, cp, i * g);
    if (peep) po = W::fmadd(W::load(peep + 2 * H + j), c, po);
    const W o = vsigmoid(po);
    i.store(gates + j);
    f.store(gates + H + j);
    g.store(gates + 2 * H + j);
    o.store(gates + 3 * H + j);
    c.store(cCand + j);
    if (zonesC) zoneMix(zoneoutLanes<W>(zc, j), cp, c).store(cNew + j);
  });
  // tanh(c̃) waits for three gate activations; in a second pass the core overlaps it across units
  // instead.
  forUnits<V>(j0, j1, [&](auto tag, int j) {
    using W = decltype(tag);
    (W::load(gates + 3 * H + j) * vtanh(W::load(cCand + j))).store(m + j);
  });
}

template <class V>
void lstmCellBackward(float* dG, float* dcPrev, float* dPeep, const float* gates, const float* c, const float* cPrev,
                  const float* dm, const float* dc, const float* peep, ZoneRow zc, int H, int j0, int j1) {
  const bool zonesC = zc.on();
  forUnits<V>(j0, j1, [&](auto tag, int j) {
    using W = decltype(tag);
    const W one = W::set1(1.0f);
    const W i = W::load(gates + j);
    const W f = W::load(gates + H + j);
    const W g = W::load(gates + 2 * H + j);
    const W o = W::load(gates + 3 * H + j);
    const W cj = W::load(c + j);
    const W cp = W::load(cPrev + j);
    const W dmj = W::load(dm + j);
    const W tc = vtanh(cj);
    const W dpo = dmj * tc * o * (one - o);
    // With zoneout the carried gradient dc reaches c̃ as (1 − d) ⊙ dc and cPrev directly as d ⊙ dc.
    const W dcj = W::load(dc + j);
    const W d = zonesC ? zoneoutLanes<W>(zc, j) : W::set1(0.0f);
    W dcTotal = W::fmadd(dmj * o, one - tc * tc, zonesC ? (one - d) * dcj : dcj);
    if (peep) dcTotal = W::fmadd(dpo, W::load(peep + 2 * H + j), dcTotal);
    const W dpi = dcTotal * g * i * (one - i);
    const W dpf = dcTotal * cp * f * (one - f);
    const W dpg = dcTotal * i * (one - g * g);
    W dcp = dcTotal * f;
    if (peep) {
      dcp = W::fmadd(dpi, W::load(peep + j), dcp);
      dcp = W::fmadd(dpf, W::load(peep + H + j), dcp);
      W::fmadd(dpi, cp, W::load(dPeep + j)).store(dPeep + j);
      W::fmadd(dpf, cp, W::load(dPeep + H + j)).store(dPeep + H + j);
      W::fmadd(dpo, cj, W::load(dPeep + 2 * H + j)).store(dPeep + 2 * H + j);
    }
    dpi.store(dG + j);
    dpf.store(dG + H + j);
    dpg.store(dG + 2 * H + j);
    dpo.store(dG + 3 * H + j);
    (zonesC ? dcp + d * dcj : dcp).store(dcPrev + j);
  });
}

template <class V>
void gruCellForwardLbr(float* gates, float* h, float* ghn, const float* bhn, const float* hPrev, int H, int j0, int j1) {
  forUnits<V>(j0, j1, [&](auto tag, int j) {
    using W = decltype(tag);
    const W r = vsigmoid(W::load(gates + j));
    const W z = vsigmoid(W::load(gates + H + j));
    const W hn = bhn ? W::load(ghn + j) + W::load(bhn + j) : W::load(ghn + j);
    const W n = vtanh(W::fmadd(r, hn, W::load(gates + 2 * H + j)));
    r.store(gates + j);
    z.store(gates + H + j);
    n.store(gates + 2 * H + j);
    hn.store(ghn + j);
    // (1 − z) n + z h = n + z (h − n)
    W::fmadd(z, W::load(hPrev + j) - n, n).store(h + j);
  });
}

template <class V>
void gruCellBackwardLbr(float* dG, float* dGh, float* dhBefore, const float* gates, const float* ghn, const float* hPrev,
                    const float* dh, int H, int j0, int j1) {
  forUnits<V>(j0, j1, [&](auto tag, int j) {
    using W = decltype(tag);
    const W one = W::set1(1.0f);
    const W r = W::load(gates + j);
    const W z = W::load(gates + H + j);
    const W n = W::load(gates + 2 * H + j);
    const W d = W::load(dh + j);
    const W dpn = d * (one - z) * (one - n * n);
    const W dpz = d * (W::load(hPrev + j) - n) * z * (one - z);
    const W dpr = dpn * W::load(ghn + j) * r * (one - r);
    dpr.store(dG + j);
    dpz.store(dG + H + j);
    dpn.store(dG + 2 * H + j);
    dpr.store(dGh + j);
    dpz.store(dGh + H + j);
    (dpn * r).store(dGh + 2 * H + j);
    W::fmadd(d, z, W::load(dhBefore + j)).store(dhBefore + j);
  });
}

template <class V>
void gruCellForwardRzRbl(float* gates, float* rh, const float* hPrev, int H, int j0, int j1) {
  forUnits<V>(j0, j1, [&](auto tag, int j) {
    using W = decltype(tag);
    const W r = vsigmoid(W::load(gates + j));
    r.store(gates + j);
    vsigmoid(W::load(gates + H + j)).store(gates + H + j);
    (r * W::load(hPrev + j)).store(rh + j);
  });
}

template <class V>
void gruCellForwardNRbl(float* gates, float* h, const float* hPrev, int H, int j0, int j1) {
  forUnits<V>(j0, j1, [&](auto tag, int j) {
    using W = decltype(tag);
    const W n = vtanh(W::load(gates + 2 * H + j));
    n.store(gates + 2 * H + j);
    W::fmadd(W::load(gates + H + j), W::load(hPrev + j) - n, n).store(h + j);
  });
}

template <class V>
void gruCellBackwardZnRbl(float* dG, float* dhBefore, const float* gates, const float* hPrev, const float* dh, int H, int j0,
                   int j1) {
  forUnits<V>(j0, j1, [&](auto tag, int j) {
    using W = decltype(tag);
    const W one = W::set1(1.0f);
    const W z = W::load(gates + H + j);
    const W n = W::load(gates + 2 * H + j);
    const W d = W::load(dh + j);
    (d * (W::load(hPrev + j) - n) * z * (one - z)).store(dG + H + j);
    (d * (one - z) * (one - n * n)).store(dG + 2 * H + j);
    W::fmadd(d, z, W::load(dhBefore + j)).store(dhBefore + j);
  });
}

template <class V>
void gruCellBackwardRRbl(float* dG, float* dhBefore, const float* gates, const float* hPrev, const float* dRh, int H, int j0,
                  int j1) {
  forUnits<V>(j0, j1, [&](auto tag, int j) {
    using W = decltype(tag);
    const W r = W::load(gates + j);
    const W d = W::load(dRh + j);
    (d * W::load(hPrev + j) * r * (W::set1(1.0f) - r)).store(dG + j);
    W::fmadd(d, r, W::load(dhBefore + j)).store(dhBefore + j);
  });
}

template <class V>
void rnnCellForward(float* h, const float* pre, bool relu, int j0, int j1) {
  forUnits<V>(j0, j1, [&](auto tag, int j) {
    using W = decltype(tag);
    const W p = W::load(pre + j);
    (relu ? W::atLeast(W::set1(0.0f), p) : vtanh(p)).store(h + j);
  });
}

template <class V>
void rnnCellBackward(float* dPre, const float* h, const float* dh, bool relu, int j0, int j1) {
  forUnits<V>(j0, j1, [&](auto tag, int j) {
    using W = decltype(tag);
    const W hj = W::load(h + j);
    const W d = W::load(dh + j);
    (relu ? W::wherePositive(hj, d) : d * (W::set1(1.0f) - hj * hj)).store(dPre + j);
  });
}

// Zoneout over units [j0, j1) of one row: forward, state = zoneMix(d, prev, cand); backward, the
// gradient g on a zoned-out state splits into dPrev = d ⊙ g and g ← (1 − d) ⊙ g.
template <class V>
void zoneoutMix(float* state, const float* prev, const float* cand, ZoneRow z, int j0, int j1) {
  forUnits<V>(j0, j1, [&](auto tag, int j) {
    using W = decltype(tag);
    zoneMix(zoneoutLanes<W>(z, j), W::load(prev + j), W::load(cand + j)).store(state + j);
  });
}

template <class V>
void zoneoutSplit(float* dPrev, float* g, ZoneRow z, int j0, int j1) {
  forUnits<V>(j0, j1, [&](auto tag, int j) {
    using W = decltype(tag);
    const W d = zoneoutLanes<W>(z, j);
    const W gj = W::load(g + j);
    (d * gj).store(dPrev + j);
    ((W::set1(1.0f) - d) * gj).store(g + j);
  });
}

// The table for vector type V plus the GEMM kernels.
template <class V>
CpuKernels makeKernels(const char* name, F32GemmTile tile, F32GemmTile tileFewRows, F32Gemv gemv, int tileRows,
                       int tilePanels, int kc) {
  return CpuKernels{name,
                    tile,
                    tileFewRows,
                    gemv,
                    tileRows,
                    tilePanels,
                    kc,
                    lstmCellForward<V>,
                    lstmCellBackward<V>,
                    gruCellForwardLbr<V>,
                    gruCellBackwardLbr<V>,
                    gruCellForwardRzRbl<V>,
                    gruCellForwardNRbl<V>,
                    gruCellBackwardZnRbl<V>,
                    gruCellBackwardRRbl<V>,
                    rnnCellForward<V>,
                    rnnCellBackward<V>,
                    zoneoutMix<V>,
                    zoneoutSplit<V>};
}

#include "sequence_ops.h"

#include <algorithm>
#include <cstring>
#include <functional>

#include "../isa/kernel_table.h"

namespace cellscan {

SequenceIndex::SequenceIndex(int T, int B, bool reverse, const int* lengths)
    : T(T), B(B), reverse(reverse), lengths(lengths), sorted(lengths && B > 0 && std::is_sorted(lengths, lengths + B, std::greater<int>())) {}

int SequenceIndex::activeRows(int t) const {
  if (!sorted) return B;
  return static_cast<int>(std::partition_point(lengths, lengths + B, [t](int length) { return t < length; }) - lengths);
}

Range productRows(const SequenceIndex& seq, int t, Range rows) {
  const int running = std::clamp(seq.activeRows(t), rows.begin, rows.end) - rows.begin;
  if (running == 0) return {rows.begin, rows.begin};
  const int count = std::max(running, std::min(rows.end - rows.begin, CpuKernels::kFewRowsBelow));
  return {rows.begin, rows.begin + count};
}

namespace {

void projectRows(float* gates, const float* x, long rows, const Layer& layer) {
  const LayerSpec& s = layer.spec();
  const int gh = s.gateSize();
  const MatrixRef xs{x, s.inputSize, false};
  if (s.bias) {
    sgemmBias(static_cast<int>(rows), xs, layer.inputWeightsT(), layer.inputBias(), gates, gh);
  } else {
    sgemm(static_cast<int>(rows), xs, layer.inputWeightsT(), gates, gh, false);
  }
}

}  // namespace

void projectInputs(float* gates, const float* x, const SequenceIndex& seq, const Layer& layer) {
  const long gh = layer.spec().gateSize();
  const long in = layer.spec().inputSize;
  // The steps every row runs are one product; each later step is its own, of its running rows.
  const int full = seq.sorted ? std::min(seq.T, seq.lengths[seq.B - 1]) : seq.T;
  if (full > 0) projectRows(gates, x, static_cast<long>(full) * seq.B, layer);
  for (int t = full; t < seq.T; t++) {
    const Range rows = productRows(seq, t, {0, seq.B});
    const long at = static_cast<long>(t) * seq.B;
    if (rows.end > 0) projectRows(gates + at * gh, x + at * in, rows.end, layer);
  }
}

void projectStepInput(float* gates, const float* x, Range u, const Layer& layer) {
  const LayerSpec& s = layer.spec();
  const int H = s.hiddenSize;
  GroupOutput outs[4];
  for (int g = 0; g < s.gates(); g++) {
    const float* bias = layer.inputBias() + g * H;
    std::copy(bias + u.begin, bias + u.end, gates + g * H + u.begin);
    outs[g] = {gates + g * H, s.gateSize(), true};
  }
  gemmGroupColumnsPacked(1, x, layer.stepInputWeightsT(), Range{0, 1}, u.begin, u.end, outs);
}

void copyOrZero(float* dst, const float* src, long n) {
  if (src) {
    std::memcpy(dst, src, n * sizeof(float));
  } else {
    std::fill(dst, dst + n, 0.0f);
  }
}

void columnSums(float* out, const float* src, long rows, int cols, long ld) {
  std::fill(out, out + cols, 0.0f);
  for (long r = 0; r < rows; r++) {
    const float* row = src + r * ld;
    for (int c = 0; c < cols; c++) out[c] += row[c];
  }
}

void inputGradients(const BackwardIO& io, const Workspace& ws, const float* dG, const Layer& layer) {
  const LayerSpec& s = layer.spec();
  const int gh = s.gateSize();
  const int in = s.inputSize;
  const long rows = static_cast<long>(ws.T) * ws.B;
  sgemm(gh, in, static_cast<int>(rows), MatrixRef{dG, gh, true}, MatrixRef{ws.x.data(), in, false},
        io.grads.wIh, in, false);
  if (s.bias) columnSums(io.grads.bIh, dG, rows, gh, gh);
  sgemm(static_cast<int>(rows), MatrixRef{dG, gh, false}, layer.backwardWeights().wIh, io.dX, in, false);
}

int stepWorkers(const LayerSpec& s, int T, int B) {
  // Waking sleeping workers costs tens of microseconds and each step ends at a barrier: a loop
  // worth less than ~4 MFLOP in all (a tiny layer), or steps under ~1 MFLOP each, run faster on one
  // thread, unless every step streams large weights (a streaming step of a wide layer): see
  // gemmWorkers.
  const double stepFlops = 2.0 * B * s.gateSize() * s.outSize();
  const double stepWeights = 4.0 * s.gateSize() * (s.outSize() + (projectsInSteps(T, B) ? s.inputSize : 0));
  const bool streamsWeights = B <= 8 && stepWeights >= kStreamedWeightBytes;
  if ((stepFlops < 1e6 || stepFlops * T < 4e6) && !streamsWeights) return 1;
  const int unitBlocks = (s.hiddenSize + kShareBlock - 1) / kShareBlock;
  const int blocks = std::min(unitBlocks, BlockClaims::kMaxWorkers);
  return std::max(1, std::min(ThreadPool::instance().threads(), blocks));
}

BatchSplit::BatchSplit(const LayerSpec& s, int B, int workers) : B_(B), H_(s.hiddenSize) {
  if (workers < 2 || workers > OwnerClaims::kMaxWorkers) return;
  const CpuKernels& k = cpuKernels();
  const int tile = k.tileRows;
  // A worker streams all the recurrent weights every step: it needs a full tile of rows (up to 8)
  // to outrun them from L3, and more where they are beyond a core's share of L3 and come from memory.
  const double weightBytes = 4.0 * s.gateSize() * s.outSize();
  const int minRows = weightBytes > 8e6 ? 32 : std::min(8, tile);
  // Each boundary as near an even split as keeps every worker's last tile at 4 rows or more: a 1-3
  // row tile costs nearly what a full one does (its FMA chains wait on each other). B = 64 on 6-row
  // tiles: 30 + 34, not 32 + 32. Where no such boundary is near, the even one. Results do not
  // depend on the boundaries (CpuKernels::gemmTile).
  const auto wholeTiles = [tile](int rows) { return rows % tile == 0 || rows % tile >= 4; };
  for (int w = 1; w <= workers; w++) {
    const int begin = bounds_[w - 1];
    const auto fits = [&](int end) {
      return end > begin && end < B && wholeTiles(end - begin) && (w + 1 < workers || wholeTiles(B - end));
    };
    const int even = static_cast<int>((static_cast<long>(B) * w + workers / 2) / workers);
    int end = w == workers ? B : even;
    for (int d = 0; w < workers && d < tile; d++) {
      if (fits(even - d) || fits(even + d)) {
        end = fits(even - d) ? even - d : even + d;
        break;
      }
    }
    if (end - begin < minRows) return;
    bounds_[w] = end;
  }
  // Blocks of at least four tile widths: narrower ones interleave the gates' weight streams. At
  // least ~4 MFLOP each, since every block adds calls and a claim, and at most 8 a step.
  const int tileCols = k.tilePanels * kNr;
  const double unitFlops = 2.0 * B / workers * s.outSize() * s.gates();
  const int width = std::max({4 * tileCols, (H_ + 7) / 8, static_cast<int>(4e6 / unitFlops)});
  unitWidth_ = (width + tileCols - 1) / tileCols * tileCols;
  on_ = true;
}

StepPieces::StepPieces(const LayerSpec& s, int B) : B_(B), H_(s.hiddenSize) {
  // Pieces of all rows by four tile widths rather than one row tile by one tile width: each panel
  // of weights is read once for every row. A gemv piece (batch 1) streams each gate's panels from
  // L3, where twice the tile width means half the stream restarts.
  const CpuKernels& k = cpuKernels();
  unitWidth_ = k.tilePanels * kNr * (B == 1 ? 2 : 4);
}

void writeOutputRows(const ForwardIO& io, const SequenceIndex& seq, int t, const float* hNew, int n, Range c,
                     Range rows) {
  const size_t bytes = static_cast<size_t>(c.end - c.begin) * sizeof(float);
  for (int b = rows.begin; b < rows.end; b++) {
    float* y = io.y + (static_cast<long>(t) * seq.B + b) * io.ldy + c.begin;
    if (seq.active(t, b)) {
      std::memcpy(y, hNew + static_cast<long>(b) * n + c.begin, bytes);
    } else {
      std::fill(y, y + (c.end - c.begin), 0.0f);
    }
  }
}

void stepGradient(float* dht, const float* dh, const BackwardIO& io, const SequenceIndex& seq, int t, int n, Range c,
                  Range rows) {
  for (int b = rows.begin; b < rows.end; b++) {
    float* d = dht + static_cast<long>(b) * n;
    if (!seq.active(t, b)) {
      std::fill(d + c.begin, d + c.end, 0.0f);
      continue;
    }
    const float* carried = dh + static_cast<long>(b) * n;
    const float* dy = io.dY ? io.dY + (static_cast<long>(t) * seq.B + b) * io.ldDY : nullptr;
    if (dy) {
      for (int j = c.begin; j < c.end; j++) d[j] = carried[j] + dy[j];
    } else {
      std::memcpy(d + c.begin, carried + c.begin, static_cast<size_t>(c.end - c.begin) * sizeof(float));
    }
  }
}

void carryPaddedRows(float* dst, const float* carry, const SequenceIndex& seq, int t, int n, Range c, Range rows) {
  const size_t bytes = static_cast<size_t>(c.end - c.begin) * sizeof(float);
  for (int b = rows.begin; b < rows.end; b++) {
    const long r = static_cast<long>(b) * n + c.begin;
    if (!seq.active(t, b)) std::memcpy(dst + r, carry + r, bytes);
  }
}

void zeroPaddedRows(float* dst, const SequenceIndex& seq, int t, int n, Range c, Range rows) {
  for (int b = rows.begin; b < rows.end; b++) {
    float* r = dst + static_cast<long>(b) * n;
    if (!seq.active(t, b)) std::fill(r + c.begin, r + c.end, 0.0f);
  }
}

const float* packMaskedRows(int rows, const float* h, const float* mask, int n, const PackedMatrix& w) {
  // Apart from packRows' own scratch: a single row is "packed" by handing back its address.
  thread_local AlignedBuffer masked;
  const long count = static_cast<long>(rows) * n;
  float* m = masked.grow(count);
  for (long i = 0; i < count; i++) m[i] = h[i] * mask[i];
  return packRows(rows, MatrixRef{m, n, false}, w);
}

// The zoneout steps run per active row through the kernel table.

void zoneRows(float* state, const float* prev, const float* cand, const Zoneout& z, const SequenceIndex& seq, int t,
              int n, Range c, Range rows) {
  const CpuKernels& k = cpuKernels();
  for (int b = rows.begin; b < rows.end; b++) {
    if (!seq.active(t, b)) continue;
    const long r = static_cast<long>(b) * n;
    k.zoneoutMix(state + r, prev + r, cand + r, zoneoutRow(z, seq, t, b, n), c.begin, c.end);
  }
}

void beginPreviousGradient(float* dPrev, float* dht, const float* dh, const Zoneout& z, const SequenceIndex& seq,
                           int t, int n, Range c, Range rows) {
  const CpuKernels& k = cpuKernels();
  const size_t bytes = static_cast<size_t>(c.end - c.begin) * sizeof(float);
  for (int b = rows.begin; b < rows.end; b++) {
    const long r = static_cast<long>(b) * n;
    if (!seq.active(t, b)) {
      std::memcpy(dPrev + r + c.begin, dh + r + c.begin, bytes);
    } else if (!z.on()) {
      std::fill(dPrev + r + c.begin, dPrev + r + c.end, 0.0f);
    } else {
      k.zoneoutSplit(dPrev + r, dht + r, zoneoutRow(z, seq, t, b, n), c.begin, c.end);
    }
  }
}

void RecurrentGradient::add(float* dhBefore, const float* packed, const PackedMatrix& w, Range r, Range c) {
  const long r0 = r.begin;
  const int count = r.end - r.begin;
  const GroupOutput out = mask_ ? GroupOutput{product_.data() + r0 * n_, n_, false} : GroupOutput{dhBefore + r0 * n_, n_, true};
  gemmGroupColumnsPacked(count, packed, w, {0, count}, c.begin, c.end, &out);
  if (!mask_) return;
  for (int b = r.begin; b < r.end; b++) {
    const long row = static_cast<long>(b) * n_;
    for (int j = c.begin; j < c.end; j++) dhBefore[row + j] += mask_[row + j] * product_.data()[row + j];
  }
}

const float* recurrentInputs(AlignedBuffer& store, const Workspace& ws, const SequenceIndex& seq, int n) {
  const float* h = rowsAt(ws.h.data(), seq.firstSlotBefore(), ws.B, n);
  const float* mask = ws.recurrentMaskOrNull();
  if (mask == nullptr) return h;
  const long perStep = static_cast<long>(ws.B) * n;
  float* out = store.grow(static_cast<size_t>(ws.T) * perStep);
  for (long t = 0; t < ws.T; t++) {
    for (long i = 0; i < perStep; i++) out[t * perStep + i] = h[t * perStep + i] * mask[i];
  }
  return out;
}

}  // namespace cellscan

#pragma once
#include "../runtime/aligned_buffer.h"
#include "../runtime/range.h"

namespace cellscan {

// A row-major matrix operand as the caller holds it: op(X) is X, or Xᵀ when trans is set.
// Not transposed, op(X)[r, c] = data[r * ld + c]; transposed, op(X)[r, c] = data[c * ld + r].
struct MatrixRef {
  const float* data;
  long ld;
  bool trans;
};

// The right-hand operand packed once into the microkernel's panel layout, for weights reused across
// many products (every time step, every call until the parameters change).
//
// op(B) is [k, groups * groupCols]. Each group of columns (a gate, for recurrent weights) is padded
// to whole kNr-wide panels, so a range of columns inside a group (a range of hidden units) starts
// on a panel boundary and one thread can own the same units in every gate.
class PackedMatrix {
 public:
  PackedMatrix() = default;
  PackedMatrix(int k, int n, MatrixRef b, int groups = 1);
  int rows() const { return k_; }
  int cols() const { return n_; }
  int groups() const { return groups_; }
  int groupCols() const { return groupCols_; }
  size_t bytes() const { return panels_.size() * sizeof(float); }
  // Panels for K rows [k0, k0 + kc) of group g, from column c0 (a multiple of kNr) of that group on.
  const float* block(int k0, int kc, int g, int c0) const;

 private:
  int k_ = 0;
  int n_ = 0;
  int groups_ = 1;
  int groupCols_ = 0;
  int groupPadded_ = 0;
  int nPadded_ = 0;
  int kc_ = 0;  // the K blocking of the kernels that will read these panels
  AlignedBuffer panels_;
};

// Weights from this size on are worth splitting between cores even for a product of one row.
constexpr double kStreamedWeightBytes = 256 * 1024;

// How many of the pool's threads sgemm/sgemmBias use for an [m, k] x [k, n] product.
int gemmWorkers(int m, int n, int k, bool packedB);

// c[m, n] = (accumulate ? c : 0) + op(A)[m, k] · op(B)[k, n], with c's rows ldc apart; split among
// the pool's threads. The packed form requires a single-group PackedMatrix.
void sgemm(int m, int n, int k, MatrixRef a, MatrixRef b, float* c, long ldc, bool accumulate);
// The same as a call from outside (the addon's gemm), in a ComputeSession of its own.
void runGemm(int m, int n, int k, MatrixRef a, MatrixRef b, float* c, long ldc, bool accumulate);
void sgemm(int m, MatrixRef a, const PackedMatrix& b, float* c, long ldc, bool accumulate);
// c[m, n] = op(A) · op(B) + bias[n] on every row.
void sgemmBias(int m, MatrixRef a, const PackedMatrix& b, const float* bias, float* c, long ldc);

// Where one group's columns go in gemmGroupColumns.
struct GroupOutput {
  float* c;  // column 0 of the group
  long ldc;
  bool accumulate;
};

// One thread's share of a product against packed weights: for every group g, columns [j0, j1) of
// op(A)[m, k] · group g, into outs[g]. j0 is a multiple of kNr. Runs on the calling thread only.
void gemmGroupColumns(int m, MatrixRef a, const PackedMatrix& b, int j0, int j1, const GroupOutput* outs);

// The same in two parts, for one A against several pieces of the output (a time step whose pieces
// are handed out one by one): packRows packs op(A)[m, k] for `b` into this thread's scratch and
// returns it, valid until the thread's next packRows or GEMM call; gemmGroupColumnsPacked then
// computes rows [rows.begin, rows.end) (begin a multiple of the kernels' tileRows) of columns
// [j0, j1) of every group.
const float* packRows(int m, MatrixRef a, const PackedMatrix& b);
void gemmGroupColumnsPacked(int m, const float* aPacked, const PackedMatrix& b, Range rows, int j0, int j1,
                            const GroupOutput* outs);

}  // namespace cellscan

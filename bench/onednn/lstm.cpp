// oneDNN's LSTM inference on the Batcher's batch shape, the state of the art the batched native
// forward is held against (docs/PERFORMANCE.md, "Batcher"). Not part of the build: it needs a
// compiler and Debian's libdnnl-dev.
//
//   apt-get install -y libdnnl-dev
//   g++ -O2 -std=c++17 bench/onednn/lstm.cpp -o /tmp/onednn-lstm -ldnnl
//   OMP_NUM_THREADS=2 /tmp/onednn-lstm 48 64 64 256 2      # T N I H layers
//
// One lstm_forward primitive per layer (the first reads I features, the rest H), time-major (tnc)
// activations, weights reordered once into the layout the primitive asks for, zero initial states.
// Prints the fastest and the median of 70 timed runs after 10 untimed ones.
#include <dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>
#include <vector>

namespace {

using dnnl::memory;
using Tag = memory::format_tag;
using Type = memory::data_type;

struct Step {
  dnnl::lstm_forward primitive;
  std::unordered_map<int, memory> args;
};

void fill(memory& m, size_t n, int period, float scale) {
  float* p = static_cast<float*>(m.get_data_handle());
  for (size_t i = 0; i < n; i++) p[i] = static_cast<float>(static_cast<int>(i % period) - period / 2) * scale;
}

Step layer(const dnnl::engine& eng, dnnl::stream& s, memory src, int T, int N, int C, int H) {
  const memory::desc srcMd({T, N, C}, Type::f32, Tag::tnc);
  const memory::desc dstMd({T, N, H}, Type::f32, Tag::tnc);
  const memory::desc biasMd({1, 1, 4, H}, Type::f32, Tag::ldgo);
  const dnnl::lstm_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::rnn_direction::unidirectional_left2right,
                                   srcMd, memory::desc(), memory::desc(),
                                   memory::desc({1, 1, C, 4, H}, Type::f32, Tag::any),
                                   memory::desc({1, 1, H, 4, H}, Type::f32, Tag::any), biasMd, dstMd, memory::desc(),
                                   memory::desc());
  const dnnl::lstm_forward::primitive_desc pd(d, eng);
  memory wLayerUser({{1, 1, C, 4, H}, Type::f32, Tag::ldigo}, eng);
  memory wIterUser({{1, 1, H, 4, H}, Type::f32, Tag::ldigo}, eng);
  fill(wLayerUser, static_cast<size_t>(C) * 4 * H, 7, 0.01f);
  fill(wIterUser, static_cast<size_t>(H) * 4 * H, 5, 0.01f);
  memory wLayer(pd.weights_layer_desc(), eng), wIter(pd.weights_iter_desc(), eng);
  dnnl::reorder(wLayerUser, wLayer).execute(s, wLayerUser, wLayer);
  dnnl::reorder(wIterUser, wIter).execute(s, wIterUser, wIter);
  memory bias(biasMd, eng);
  fill(bias, static_cast<size_t>(4) * H, 3, 0.1f);
  return {dnnl::lstm_forward(pd),
          {{DNNL_ARG_SRC_LAYER, src},
           {DNNL_ARG_WEIGHTS_LAYER, wLayer},
           {DNNL_ARG_WEIGHTS_ITER, wIter},
           {DNNL_ARG_BIAS, bias},
           {DNNL_ARG_DST_LAYER, memory(dstMd, eng)},
           {DNNL_ARG_SCRATCHPAD, memory(pd.scratchpad_desc(), eng)}}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s T N I H layers\n", argv[0]);
    return 2;
  }
  const int T = std::atoi(argv[1]), N = std::atoi(argv[2]), I = std::atoi(argv[3]), H = std::atoi(argv[4]);
  const int L = std::atoi(argv[5]);
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream s(eng);
  memory x({{T, N, I}, Type::f32, Tag::tnc}, eng);
  fill(x, static_cast<size_t>(T) * N * I, 13, 0.01f);
  std::vector<Step> steps;
  for (int l = 0; l < L; l++) {
    steps.push_back(layer(eng, s, l == 0 ? x : steps.back().args.at(DNNL_ARG_DST_LAYER), T, N, l == 0 ? I : H, H));
  }
  std::vector<double> ms;
  for (int run = 0; run < 80; run++) {
    const auto t0 = std::chrono::steady_clock::now();
    for (Step& st : steps) st.primitive.execute(s, st.args);
    s.wait();
    if (run >= 10) ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  double flops = 0;
  for (int l = 0; l < L; l++) flops += 2.0 * T * N * 4 * H * ((l == 0 ? I : H) + H);
  const dnnl_version_t* v = dnnl_version();
  std::printf("oneDNN %d.%d.%d LSTM T=%d N=%d I=%d H=%d layers=%d: fastest %.2f ms, median %.2f ms (%.0f GFLOP/s)\n",
              v->major, v->minor, v->patch, T, N, I, H, L, ms.front(), ms[ms.size() / 2], flops / ms[ms.size() / 2] / 1e6);
}

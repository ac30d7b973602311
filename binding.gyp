{
  "target_defaults": {
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": [
      "NAPI_VERSION=8",
      "NODE_ADDON_API_CPP_EXCEPTIONS",
      "NODE_ADDON_API_CPP_EXCEPTIONS_ALL",
      "NODE_ADDON_API_DISABLE_DEPRECATED"
    ],
    "cflags!": ["-fno-exceptions", "-O2", "-O0"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-O2"],
    "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
    "cflags": ["-O3"],
    "xcode_settings": {
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "GCC_OPTIMIZATION_LEVEL": "3"
    },
    "msvs_settings": {"VCCLCompilerTool": {"ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17"]}}
  },
  "targets": [
    {
      "target_name": "cellscan",
      "sources": [
        "native/addon.cc",
        "native/js/args.cc",
        "native/js/gemm_wrap.cc",
        "native/js/layer_args.cc",
        "native/js/layer_wrap.cc",
        "native/js/workspace_wrap.cc",
        "native/cells/backward_loop.cc",
        "native/cells/forward_loop.cc",
        "native/cells/layer.cc",
        "native/cells/sequence_ops.cc",
        "native/cells/lstm.cc",
        "native/cells/gru.cc",
        "native/cells/rnn.cc",
        "native/gemm/gemm.cc",
        "native/gemm/pack.cc",
        "native/isa/kernel_table.cc",
        "native/isa/portable.cc",
        "native/runtime/buffer_pool.cc",
        "native/runtime/cpu_features.cc",
        "native/runtime/malloc_tuning.cc",
        "native/runtime/thread_pool.cc"
      ],
      "conditions": [
        ["target_arch=='x64'", {
          "dependencies": ["cellscan_avx2", "cellscan_avx512"],
          "defines": ["CELLSCAN_HAVE_AVX2"]
        }]
      ]
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "cellscan_avx2",
          "type": "static_library",
          "sources": ["native/isa/avx2.cc"],
          "cflags_cc": ["-mavx2", "-mfma"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma"]},
          "msvs_settings": {"VCCLCompilerTool": {"EnableEnhancedInstructionSet": "5"}}
        },
        {
          "target_name": "cellscan_avx512",
          "type": "static_library",
          "sources": ["native/isa/avx512.cc"],
          "cflags_cc": ["-mavx512f", "-mavx2", "-mfma", "-Wno-maybe-uninitialized"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx2", "-mfma"]},
          "msvs_settings": {"VCCLCompilerTool": {"AdditionalOptions": ["/arch:AVX512"]}}
        }
      ]
    }]
  ]
}

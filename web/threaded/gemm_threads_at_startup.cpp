// Linked only into the threaded playground (genlab_app_mt, Emscripten pthreads, loaded when the page is
// cross-origin isolated): large matrix products run on 2 threads from the start. The single-thread
// build does not contain this file. The playground's "threads" command can change it later.
#include "gemm.h"

namespace {

const bool g_two_gemm_threads = [] {
  genlab::set_gemm_threads(2);
  return true;
}();

}  // namespace

// Linked only into the threaded playground (genlab_app_mt, Emscripten pthreads, loaded when the page is
// cross-origin isolated): the engine runs on 2 threads from the start (training splits each batch in
// halves, large matrix products run in two strips; engine/parallel.h). The single-thread build does not
// contain this file. The playground's "threads" command can change it later.
#include "parallel.h"

namespace {

const bool g_two_threads = [] {
  genlab::set_threads(2);
  return true;
}();

}  // namespace

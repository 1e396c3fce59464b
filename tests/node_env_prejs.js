// --pre-js for wasm programs run under node (tests, CLI): exposes the process environment to
// getenv() (Emscripten otherwise shows a fixed default environment), e.g. GENLAB_DATA_DIR.
if (typeof process === 'object' && process.env) {
  Module['preRun'] = Module['preRun'] || [];
  Module['preRun'].push(function () {
    for (var k in process.env) ENV[k] = process.env[k];
  });
}

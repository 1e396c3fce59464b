// The one Playground instance of the page, shared by the ImGui main loop (web/main.cpp) and the
// Embind bindings (web/bindings.cpp) that window.genlab calls. Created on first use.
#pragma once
#include "playground.h"

genlab::Playground& web_playground();

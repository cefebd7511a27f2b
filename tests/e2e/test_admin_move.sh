#!/bin/bash
# The move program end to end (root, real BPF): every forwarded value of a
# store's meta slot moved in one run, checked value by value, entry by
# entry and count by count against the memory of the thread that
# registered it (tests/e2e/admin_move.c). ADMIN_MOVE_ROUNDS > 0 adds a
# timing of 1024 moves through the program and through UPTRKV_W_MOVE
# writes, printed and never checked.
set -euo pipefail
source "$(dirname "$0")/env.sh"
bin=$BUILD/tests/e2e/admin_move
need_built "$bin"
"$bin" "${ADMIN_MOVE_ROUNDS:-0}"

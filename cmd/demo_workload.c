// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
int main(void) { return 0; }

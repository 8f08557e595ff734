#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Fails when an object carries relocation types that the x86_64 module
# loader (apply_relocate_add() in arch/x86/kernel/module.c) rejects at
# insmod time with "Unknown rela relocation". Nothing else warns about
# them: rustc emits R_X86_64_GOTPCREL for position-independent targets,
# and the module links fine but cannot be loaded.
#
# Usage: check-relocs.sh OBJECT

set -eu
obj=$1
readelf=${READELF:-readelf}

# Accepted by the loader on 6.1 and 6.12.
allowed='R_X86_64_NONE R_X86_64_64 R_X86_64_32 R_X86_64_32S R_X86_64_PC32 R_X86_64_PLT32 R_X86_64_PC64'

bad=$("$readelf" -rW "$obj" | awk -v ok="$allowed" '
	BEGIN { n = split(ok, a, " "); for (i = 1; i <= n; i++) allow[a[i]] = 1 }
	$3 ~ /^R_/ && !($3 in allow) { print "  " $3 " -> " $5 }
' | sort | uniq -c)

if [ -n "$bad" ]; then
	echo "error: $obj has relocations the module loader rejects:" >&2
	echo "$bad" >&2
	echo "hint: build with relocation-model=static and code-model=kernel (see the target spec)" >&2
	exit 1
fi

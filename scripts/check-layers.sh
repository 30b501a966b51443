#!/usr/bin/env bash
# Fails when a product source includes a header of a folder that layers.txt does not let it
# use (an edge that climbs or crosses), naming the file, the line and the edge; also when
# layers.txt itself lists a folder above one that uses it, or a source folder is missing
# from it. tests/, tools/, bench/ and fuzz/ stand above every layer and are not read.
set -euo pipefail
cd "$(dirname "$0")/.."
layers=${1:-layers.txt}
git ls-files --cached --others --exclude-standard '*.c' '*.h' |
  grep -vE '^(tests|tools|bench|fuzz)/' |
  awk -v layers="$layers" '
    BEGIN {
      n = 0; bad = 0
      while ((getline line < layers) > 0) {
        sub(/#.*/, "", line)
        if (line !~ /:/) continue
        split(line, kv, ":"); name = kv[1]; gsub(/[ \t]/, "", name)
        if (name in pos) { printf "%s: %s is listed twice\n", layers, name; bad = 1 }
        pos[name] = ++n; order[n] = name
        closure[name] = " "
        m = split(kv[2], deps, /[ \t]+/)
        for (i = 1; i <= m; i++) {
          d = deps[i]; if (d == "") continue
          if (!(d in pos) || d == name) {
            printf "%s: %s uses %s, which does not stand below it\n", layers, name, d; bad = 1
            continue
          }
          closure[name] = closure[name] d " " substr(closure[d], 2)
        }
      }
      if (n == 0) { printf "%s: no layers read\n", layers; exit 2 }
    }
    {
      file = $0; slash = index(file, "/")
      if (slash == 0) { printf "%s: a source outside every folder\n", file; bad = 1; next }
      top = substr(file, 1, slash - 1)
      if (!(top in pos)) { printf "%s: folder %s/ is not in %s\n", file, top, layers; bad = 1; next }
      ln = 0
      while ((getline src < file) > 0) {
        ln++
        if (src !~ /^[ \t]*#[ \t]*include[ \t]*"/) continue
        inc = src; sub(/^[^"]*"/, "", inc); sub(/".*/, "", inc)
        s = index(inc, "/")
        if (s == 0) continue # a header beside the file
        to = substr(inc, 1, s - 1)
        if (to == top) continue
        if (to == ".." || !(to in pos)) {
          printf "%s:%d: includes \"%s\", which is no folder of %s\n", file, ln, inc, layers
          bad = 1; continue
        }
        if (index(closure[top], " " to " ") == 0) {
          printf "%s:%d: wrong-way include %s/ -> %s/ (\"%s\"); %s/ may use:%s\n", \
                 file, ln, top, to, inc, top, closure[top] == " " ? " nothing" : closure[top]
          bad = 1
        }
        files++
      }
      close(file); checked++
    }
    END {
      if (bad) exit 1
      printf "check-layers: %d sources, %d cross-folder includes, %d layers, none climbs\n", \
             checked, files, n
    }'

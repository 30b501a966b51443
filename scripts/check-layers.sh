#!/usr/bin/env bash
# Fails when a product source includes a header of a folder that layers.txt does not let it
# use (an edge that climbs or crosses), naming the file, the line and the edge; when it calls
# what an "only"/"never" line of layers.txt forbids it; when SQL text stands outside store/;
# and when layers.txt itself lists a folder above one that uses it, or a source folder is
# missing from it. tests/, tools/, bench/ and fuzz/ stand above every layer and are not read.
set -euo pipefail
cd "$(dirname "$0")/.."
layers=${1:-layers.txt}
git ls-files --cached --others --exclude-standard '*.c' '*.cc' '*.h' |
  grep -vE '^(tests|tools|bench|fuzz)/' |
  awk -v layers="$layers" '
    BEGIN {
      n = 0; bad = 0
      while ((getline line < layers) > 0) {
        sub(/#.*/, "", line)
        if (line ~ /^[ \t]*(only|never)[ \t]/) { # only|never FOLDER calls PREFIX
          nw = split(line, w, /[ \t]+/); k = 0
          for (i = 1; i <= nw; i++) if (w[i] != "") ww[++k] = w[i]
          if (k != 4 || ww[3] != "calls") { printf "%s: cannot read \"%s\"\n", layers, line; bad = 1; continue }
          nrule++; rkind[nrule] = ww[1]; rfolder[nrule] = ww[2]; rprefix[nrule] = ww[4]
          continue
        }
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
          m2 = split(d " " closure[d], add, " ")
          for (j = 1; j <= m2; j++)
            if (add[j] != "" && index(closure[name], " " add[j] " ") == 0)
              closure[name] = closure[name] add[j] " "
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
        if (top != "store" && src ~ /"(SELECT|INSERT INTO|UPDATE|DELETE FROM|REPLACE INTO) /) {
          printf "%s:%d: SQL outside store/\n", file, ln; bad = 1
        }
        for (k = 1; k <= nrule; k++) {
          if (index(src, rprefix[k]) == 0) continue
          code = src; sub(/\/\*.*/, "", code); sub(/^[ \t]*\*.*/, "", code)
          if (code !~ ("(^|[^A-Za-z0-9_])" rprefix[k] "[A-Za-z0-9_]*[ \t]*\\(")) continue
          if (rkind[k] == "only" && top != rfolder[k] && top != "store") {
            printf "%s:%d: calls %s…, which %s/ alone may call\n", file, ln, rprefix[k], rfolder[k]
            bad = 1
          }
          if (rkind[k] == "never" && top == rfolder[k]) {
            printf "%s:%d: %s/ calls %s…, which it must not\n", file, ln, top, rprefix[k]
            bad = 1
          }
        }
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
      printf "check-layers: %d sources, %d cross-folder includes, %d layers, none climbs; %d call rules kept\n", \
             checked, files, n, nrule
    }'

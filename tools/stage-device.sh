#!/usr/bin/env bash
# Stages what one sitting on the lent GPU machine needs (no Java, no Maven, no network there) into ONE folder:
#   jre.tar.xz   a jlinked Java 25 runtime           cp.tar.xz  the jars of the chosen modules and their deps
#                                                    (stored jars in one solid xz; unpacked on first use)
#   tests/       the chosen modules' test classes     tools/     the JUnit console launcher
#   run-java     run-java MAIN args...                run-tests  run-tests [JUnit console options]
#   fonts/       DejaVu Sans (the GPU machine has none; unpack writes a Java font configuration for it)
#   plus any extra files given with --add (copied flat into the folder).
# Works from any checkout (a git worktree too) and builds with ONE Maven reactor call, so sibling modules'
# jars resolve from the reactor (a separate dependency:copy-dependencies call cannot see them).
# run-tests lists the jars one by one (the JUnit console launcher does not expand cp/*).
#
#   tools/stage-device.sh [--out DIR] [--modules kernels-cuda,examples] [--tests kernels-cuda] [--add FILE]...
#                         [--drop GLOB,GLOB...] [--sm 90] [--lean-jre]
# --drop removes dependency jars the sitting does not load (default: the big jars of lib's table/plot/text stack,
# which the CUDA tests and CudaConvBench never touch; pass --drop '' to keep everything).
# --sm 90 keeps only the sm_90a cubins in the kernels-cuda jar's fatbins (about half its size; for the H200);
# --lean-jre links java.base, java.logging, jdk.unsupported, jdk.incubator.vector only (no java.desktop: no charts)
# and strips libjvm's symbol table. DIR defaults to <checkout>/.device (made git-ignored). The device tool sends the checkout it was started in:
# copy DIR into an ignored folder of that checkout and name it in carry. Prints the size (limit: 64 MiB).
# Maven runs offline (-o) unless MVN_OFFLINE= is set empty; EXTRA_MODULES adds JDK modules to the runtime
# (e.g. jdk.jshell,jdk.compiler,jdk.jdi,jdk.internal.le for the Jupyter kernel).
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
out="$root/.device"; modules=kernels-cuda,examples; tests=kernels-cuda; adds=()
drop="fastutil-*,icu4j-*,pdfbox-*,fontbox-*,guava-*,RoaringBitmap-*,univocity-*,classgraph-*,arpack_*"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --modules) modules=$2; shift 2 ;;
    --tests) tests=$2; shift 2 ;;
    --add) adds+=("$2"); shift 2 ;;
    --drop) drop=$2; shift 2 ;;
    --sm) sm=$2; shift 2 ;;
    --lean-jre) lean=1; shift ;;
    *) echo "stage-device.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$out" in /*) ;; *) out="$root/$out" ;; esac
exclude=$(git rev-parse --git-path info/exclude)   # in a worktree .git is a file: ask git where exclude lives
mkdir -p "$(dirname "$exclude")"
grep -qx '/.device/' "$exclude" 2>/dev/null || echo '/.device/' >> "$exclude"
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
jdk=$JAVA_HOME
modulesJ="java.base,java.logging,java.management,java.sql,java.xml,java.naming,java.desktop,jdk.unsupported,jdk.zipfs,jdk.incubator.vector${EXTRA_MODULES:+,$EXTRA_MODULES}"
[ -n "${lean:-}" ] && modulesJ="java.base,java.logging,jdk.unsupported,jdk.incubator.vector${EXTRA_MODULES:+,$EXTRA_MODULES}"
rm -rf "$out" && mkdir -p "$out/cp" "$out/tests" "$out/tools"
echo "building $modules (tests compiled, not run) ..."
mvn -q -B ${MVN_OFFLINE--o} -DskipTests -pl "$modules" -am package dependency:copy-dependencies -DincludeScope=test \
    -DexcludeGroupIds=ai.longconv4j -DoutputDirectory="$out/cp"
for m in ${modules//,/ } lib; do
  for j in "$m"/target/*.jar; do
    [ -f "$j" ] && case "$j" in *-sources.jar|*-javadoc.jar|*-tests.jar) ;; *) cp "$j" "$out/cp/" ;; esac
  done
done
for g in ${drop//,/ }; do rm -f "$out"/cp/$g; done
# JCuda's natives jar carries a 24 MB NVPTX compiler library that nothing here loads (we load cubins; NVRTC, cuBLAS and
# cuFFT go through FFM): without it a kernel + examples + kernels-cuda stage fits the device tool's 64 MiB.
for j in "$out"/cp/jcuda-natives-*.jar; do [ -f "$j" ] && zip -q -d "$j" 'lib/libJNvPTXCompiler*' >/dev/null || true; done
for m in ${tests//,/ }; do
  [ -d "$m/target/test-classes" ] && cp -r "$m/target/test-classes" "$out/tests/$(echo "$m" | tr / _)"
done
mvn -q -B ${MVN_OFFLINE--o} dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.14.4 \
    -DoutputDirectory="$out/tools" >/dev/null
for f in "${adds[@]+"${adds[@]}"}"; do cp "$f" "$out/"; done
echo "linking a Java runtime from $jdk ..."
"$jdk/bin/jlink" --add-modules "$modulesJ" --strip-debug --no-header-files --no-man-pages --output "$out/jre"
# --lean-jre: the JVM's own symbol table goes too (5 MB; .dynsym stays, which is all the JVM looks up)
[ -n "${lean:-}" ] && strip --strip-unneeded "$out/jre/lib/server/libjvm.so"
tar -C "$out" -cf - jre | xz -T2 -9 > "$out/jre.tar.xz" && rm -rf "$out/jre"
# The jars go as ONE solid xz archive of uncompressed (stored) jars: deflate compresses each class on its own,
# xz over all of them finds the repetition between classes (fastutil: 23.6 MB of jars -> 4.2 MB).
echo "packing the classpath ..."
mkdir -p "$out/stored"
for j in "$out"/cp/*.jar; do
  t=$(mktemp -d); (cd "$t" && unzip -q "$j")
  case "$(basename "$j")" in longconv4j-kernels-cuda-*)   # --sm 90: the sm_90a cubins alone (tools/fatbin_sm.py)
    [ -n "${sm:-}" ] && python3 "$root/tools/fatbin_sm.py" "$sm" "$t"/ai/longconv4j/cuda/*.fatbin > /dev/null ;; esac
  (cd "$t" && zip -q -0 -X "$out/stored/$(basename "$j")" META-INF/MANIFEST.MF 2>/dev/null; zip -q -0 -r -X "$out/stored/$(basename "$j")" .); rm -rf "$t"
done
tar -C "$out/stored" -cf - . | xz -T2 -6 > "$out/cp.tar.xz"
rm -rf "$out/cp" "$out/stored"
# The GPU machine has no fonts: charts (XChart titles, labels) need one. Ship DejaVu Sans and, at unpack time, a
# Java font configuration (jre/conf/fonts/fontconfig.properties) mapping every logical font to it.
[ -n "${lean:-}" ] || mkdir -p "$out/fonts"
[ -n "${lean:-}" ] || for f in DejaVuSans.ttf DejaVuSans-Bold.ttf; do
  [ -f "/usr/share/fonts/truetype/dejavu/$f" ] && cp "/usr/share/fonts/truetype/dejavu/$f" "$out/fonts/"
done
cat > "$out/unpack" <<'RUN'
# Sourced by run-java / run-tests on the device machine: unpack the runtime and the classpath once, next to this file.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ ! -x "$here/jre/bin/java" ]; then
  tar -C "$here" -xJf "$here/jre.tar.xz"
  if [ -f "$here/fonts/DejaVuSans.ttf" ]; then
    mkdir -p "$here/jre/conf/fonts"
    { echo "version=1"; echo "sequence.allfonts=latin-1"
      for f in serif sansserif monospaced dialog dialoginput; do
        for s in plain italic; do echo "$f.$s.latin-1=DejaVu Sans"; done
        for s in bold bolditalic; do echo "$f.$s.latin-1=DejaVu Sans Bold"; done
      done
      echo "filename.DejaVu_Sans=$here/fonts/DejaVuSans.ttf"; echo "filename.DejaVu_Sans_Bold=$here/fonts/DejaVuSans-Bold.ttf"
    } > "$here/jre/conf/fonts/fontconfig.properties"
  fi
fi
[ -d "$here/cp" ] || { mkdir -p "$here/cp.tmp" && tar -C "$here/cp.tmp" -xJf "$here/cp.tar.xz" && mv "$here/cp.tmp" "$here/cp"; }
RUN
cat > "$out/run-java" <<'RUN'
#!/usr/bin/env bash
# On the device machine: unpack the runtime once, then run a main class on the staged classpath.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/unpack"
cp=$(ls "$here"/cp/*.jar | tr '\n' ':')
exec "$here"/jre/bin/java --enable-native-access=ALL-UNNAMED ${JAVA_OPTS:-} -cp "$cp" "$@"
RUN
cat > "$out/run-tests" <<'RUN'
#!/usr/bin/env bash
# On the device machine: run the staged JUnit tests (JUnit console options, e.g. --include-tag gpu).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/unpack"
cp=$(ls -d "$here"/tests/* | tr '\n' ':')$(ls "$here"/cp/*.jar | tr '\n' ':')
exec "$here"/jre/bin/java --enable-native-access=ALL-UNNAMED ${JAVA_OPTS:-} -jar "$here"/tools/junit-platform-console-standalone-*.jar \
  execute --class-path "$cp" --scan-class-path --details=tree "$@"
RUN
chmod +x "$out/run-java" "$out/run-tests"
du -sh "$out/jre.tar.xz" "$out/cp.tar.xz" "$out/tests" "$out/tools"
total=$(du -sm "$out" | cut -f1)
echo "staged $out (${total} MiB; the device tool carries at most 64 MiB in all)"
[ "$total" -le 64 ] || { echo "stage-device.sh: over 64 MiB: stage fewer --modules" >&2; exit 1; }

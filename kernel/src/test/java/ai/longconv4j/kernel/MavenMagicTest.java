// %maven against a file-based repository laid out by the test (settings.xml mirror, local repo). No shapes.
package ai.longconv4j.kernel;

import org.dflib.jjava.jupyter.kernel.display.mime.MIMEType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.ToolProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import static org.junit.jupiter.api.Assertions.*;

class MavenMagicTest {
    @AfterEach
    void clear() {
        System.clearProperty("longconv4j.maven.settings");
    }

    /** Compiles {@code src} (one class) into {@code repo} as g:a:1.0 with the given pom dependencies. */
    static void publish(Path repo, Path work, String artifact, String className, String src, String deps) throws IOException {
        Path srcDir = work.resolve(artifact + "-src");
        Path file = srcDir.resolve(className.replace('.', '/') + ".java");
        Files.createDirectories(file.getParent());
        Files.writeString(file, src);
        Path classes = work.resolve(artifact + "-classes");
        String cp = System.getProperty("surefire.test.class.path", "") + java.io.File.pathSeparator + work.resolve("all-classes");
        assertEquals(0, ToolProvider.getSystemJavaCompiler().run(null, null, null, "-cp", cp, "-d", classes.toString(), file.toString()));
        copyTree(classes, work.resolve("all-classes"));
        Path dir = repo.resolve("org/example/" + artifact + "/1.0");
        Files.createDirectories(dir);
        try (var jar = new JarOutputStream(Files.newOutputStream(dir.resolve(artifact + "-1.0.jar")))) {
            try (var s = Files.walk(classes)) {
                for (Path p : s.filter(Files::isRegularFile).toList()) {
                    jar.putNextEntry(new JarEntry(classes.relativize(p).toString().replace('\\', '/')));
                    jar.write(Files.readAllBytes(p));
                    jar.closeEntry();
                }
            }
        }
        Files.writeString(dir.resolve(artifact + "-1.0.pom"), """
                <project><modelVersion>4.0.0</modelVersion><groupId>org.example</groupId><artifactId>%s</artifactId>
                <version>1.0</version><dependencies>%s</dependencies></project>""".formatted(artifact, deps));
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (var s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(t);
                else Files.copy(p, t, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    @Test
    void resolvesTransitivelyFromAMirrorAndAddsToTheClassPath(@TempDir Path tmp) throws Exception {
        Path repo = tmp.resolve("repo");
        publish(repo, tmp, "base", "org.example.base.Base", "package org.example.base; public class Base { public static int answer() { return 41; } }", "");
        publish(repo, tmp, "top", "org.example.top.Top", "package org.example.top; public class Top { public static int answer() { return org.example.base.Base.answer() + 1; } }",
                "<dependency><groupId>org.example</groupId><artifactId>base</artifactId><version>1.0</version></dependency>");
        Path settings = tmp.resolve("settings.xml");
        Files.writeString(settings, """
                <settings><localRepository>%s</localRepository>
                <mirrors><mirror><id>file-mirror</id><url>%s</url><mirrorOf>*</mirrorOf></mirror></mirrors></settings>"""
                .formatted(tmp.resolve("local"), repo.toUri()));
        System.setProperty("longconv4j.maven.settings", settings.toString());
        try (var session = new Session()) {
            var out = new Recorder();
            CellResult r = session.execute("%maven org.example:top:1.0\norg.example.top.Top.answer()", out);
            assertTrue(r.ok(), () -> r.error().text());
            assertEquals("42", r.value().getData(MIMEType.TEXT_PLAIN), "Top and its dependency Base are on the class path");
            assertTrue(out.stdout.toString().contains("added 2 jar(s)"), out.stdout.toString());
            assertTrue(Files.exists(tmp.resolve("local/org/example/base/1.0/base-1.0.jar")), "settings.xml's localRepository is used");

            Files.writeString(settings, "<settings><localRepository>%s</localRepository><offline>true</offline></settings>".formatted(tmp.resolve("empty-local")));
            CellResult offline = session.execute("%maven org.example:other:1.0", out);
            assertEquals("MagicError", offline.error().ename(), "offline with an empty local repository cannot resolve");
        }
    }
}

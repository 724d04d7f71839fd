// %maven: resolve artifacts with Maven Resolver, honouring settings.xml (local repo, offline, mirrors). No shapes.
package ai.longconv4j.kernel;

import org.eclipse.aether.RepositorySystem;
import org.eclipse.aether.artifact.DefaultArtifact;
import org.eclipse.aether.collection.CollectRequest;
import org.eclipse.aether.graph.Dependency;
import org.eclipse.aether.repository.RemoteRepository;
import org.eclipse.aether.resolution.ArtifactResult;
import org.eclipse.aether.resolution.DependencyRequest;
import org.eclipse.aether.supplier.RepositorySystemSupplier;
import org.eclipse.aether.supplier.SessionBuilderSupplier;
import org.eclipse.aether.util.artifact.JavaScopes;
import org.eclipse.aether.util.filter.DependencyFilterUtils;
import org.eclipse.aether.util.repository.DefaultMirrorSelector;
import org.w3c.dom.Element;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Resolves {@code group:artifact[:extension[:classifier]]:version} coordinates with their transitive
 * runtime dependencies. Settings come from {@code settings.xml} ({@code -Dlongconv4j.maven.settings},
 * else {@code ~/.m2/settings.xml}): {@code localRepository}, {@code offline} and {@code mirrors}
 * (mirrorOf {@code *}, {@code external:*}, or a comma list of ids such as {@code central}).
 * Only these elements are read; servers, proxies and profiles are not.
 */
final class MavenResolver {
    /** What settings.xml says (defaults when it is absent). */
    record Settings(Path localRepository, boolean offline, List<String[]> mirrors) { }

    private MavenResolver() { }

    static Settings settings() throws Exception {
        Path home = Path.of(System.getProperty("user.home"));
        Path file = Path.of(System.getProperty("longconv4j.maven.settings", home.resolve(".m2/settings.xml").toString()));
        Path local = home.resolve(".m2/repository");
        boolean offline = false;
        var mirrors = new ArrayList<String[]>();
        if (Files.isRegularFile(file)) {
            var f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            Element root = f.newDocumentBuilder().parse(file.toFile()).getDocumentElement();
            String lr = child(root, "localRepository");
            if (lr != null && !lr.isBlank()) local = Path.of(lr.replace("${user.home}", home.toString()));
            offline = "true".equalsIgnoreCase(child(root, "offline"));
            var ms = root.getElementsByTagName("mirror");
            for (int i = 0; i < ms.getLength(); i++) {
                Element m = (Element) ms.item(i);
                mirrors.add(new String[]{child(m, "id"), child(m, "url"), child(m, "mirrorOf")});
            }
        }
        return new Settings(local, offline, mirrors);
    }

    private static String child(Element e, String name) {
        var nl = e.getElementsByTagName(name);
        return nl.getLength() == 0 ? null : nl.item(0).getTextContent().strip();
    }

    /**
     * Resolves the coordinates and returns the jar files (the artifacts and their runtime dependencies).
     *
     * @param extraRepos repository URLs besides Maven Central (e.g. {@code file:///tmp/repo})
     */
    static List<Path> resolve(List<String> coords, List<String> extraRepos) throws Exception {
        Settings s = settings();
        RepositorySystem system = new RepositorySystemSupplier().get();
        var mirrorSelector = new DefaultMirrorSelector();
        for (String[] m : s.mirrors()) {
            if (m[1] != null && m[2] != null) mirrorSelector.add(m[0], m[1], "default", false, false, m[2], "*");
        }
        var builder = new SessionBuilderSupplier(system).get()
                .withLocalRepositoryBaseDirectories(s.localRepository())
                .setOffline(s.offline())
                .setMirrorSelector(mirrorSelector)
                .setSystemProperties(System.getProperties());
        try (var session = builder.build()) {
            var repos = new ArrayList<RemoteRepository>();
            repos.add(new RemoteRepository.Builder("central", "default", "https://repo.maven.apache.org/maven2/").build());
            int i = 0;
            for (String url : extraRepos) repos.add(new RemoteRepository.Builder("repo" + (i++), "default", url).build());
            repos = new ArrayList<>(system.newResolutionRepositories(session, repos));
            var collect = new CollectRequest();
            for (String c : coords) collect.addDependency(new Dependency(new DefaultArtifact(c), JavaScopes.RUNTIME));
            collect.setRepositories(repos);
            var request = new DependencyRequest(collect, DependencyFilterUtils.classpathFilter(JavaScopes.RUNTIME));
            var out = new ArrayList<Path>();
            for (ArtifactResult r : system.resolveDependencies(session, request).getArtifactResults()) {
                if (r.getArtifact() != null && r.getArtifact().getPath() != null) out.add(r.getArtifact().getPath());
            }
            return out;
        } finally {
            system.shutdown();
        }
    }
}

package dev.dinoj.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runtime's Akka settings hold whatever order the jars' reference.conf files come in. */
class ActorsConfigTest {

    /** A class loader that lists a reference.conf setting Akka's own 256 KiB frame before every other one. */
    static ClassLoader akkaRemoteFirst(Path dir) throws IOException {
        Files.writeString(
                dir.resolve("reference.conf"),
                "akka.remote.artery.advanced.maximum-frame-size = 256 KiB\nakka.actor.provider = local\n");
        URL first = dir.resolve("reference.conf").toUri().toURL();
        ClassLoader parent = ActorsConfigTest.class.getClassLoader();
        return new ClassLoader(parent) {
            @Override
            public Enumeration<URL> getResources(String name) throws IOException {
                List<URL> all = new ArrayList<>(Collections.list(parent.getResources(name)));
                if (name.equals("reference.conf")) {
                    all.add(0, first);
                }
                return Collections.enumeration(all);
            }
        };
    }

    @Test
    void shouldKeepTheFourMegabyteFrameWhateverTheClassPathOrder(@TempDir Path dir) throws IOException {
        ClassLoader loader = akkaRemoteFirst(dir);
        long plain = ConfigFactory.defaultReference(loader).getBytes("akka.remote.artery.advanced.maximum-frame-size");
        assertEquals(256 * 1024, plain, "the order problem this guards against");
        var c = ActorsConfig.load(ConfigFactory.empty(), loader);
        assertEquals(4 * 1024 * 1024, c.getBytes("akka.remote.artery.advanced.maximum-frame-size"));
        assertEquals("cluster", c.getString("akka.actor.provider"));
        var user = ActorsConfig.load(
                ConfigFactory.parseString("akka.remote.artery.advanced.maximum-frame-size = 8 MiB"), loader);
        assertEquals(
                8 * 1024 * 1024, user.getBytes("akka.remote.artery.advanced.maximum-frame-size"), "a node's own wins");
    }
}

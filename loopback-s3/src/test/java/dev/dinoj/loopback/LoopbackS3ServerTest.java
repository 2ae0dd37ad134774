package dev.dinoj.loopback;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The server's life cycle seen by a plain HTTP client: up, an outage, up again on the same port; a taken port. */
@Timeout(60)
class LoopbackS3ServerTest {
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static int status(String endpoint) throws IOException, InterruptedException {
        return HTTP.send(
                        HttpRequest.newBuilder(URI.create(endpoint + "/")).build(),
                        HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }

    @Test
    void shouldRefuseUnsignedRequestsAndComeBackAfterAnOutage(@TempDir Path tmp) throws Exception {
        try (LoopbackS3Server server = LoopbackS3Server.start(tmp.resolve("s3"), 0)) {
            assertTrue(server.port() > 0);
            assertEquals("http://127.0.0.1:" + server.port(), server.endpoint());
            assertEquals(403, status(server.endpoint()), "an unsigned request is refused (AccessDenied)");

            Thread resumer = server.stopFor(Duration.ofMillis(500));
            assertFalse(server.isRunning());
            assertThrows(ConnectException.class, () -> status(server.endpoint()));
            resumer.join();
            assertTrue(server.isRunning());
            assertEquals(403, status(server.endpoint()), "back on the same port");
        }
    }

    @Test
    void shouldNameThePortWhenItIsTaken(@TempDir Path tmp) {
        try (LoopbackS3Server first = LoopbackS3Server.start(tmp.resolve("a"), 0)) {
            UncheckedIOException e = assertThrows(
                    UncheckedIOException.class, () -> LoopbackS3Server.start(tmp.resolve("b"), first.port()));
            assertTrue(e.getMessage().contains("port " + first.port()), e.getMessage());
        }
    }
}

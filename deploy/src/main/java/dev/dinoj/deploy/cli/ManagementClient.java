package dev.dinoj.deploy.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.deploy.errors.UserError;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/**
 * The CLI side of a node's management HTTP ({@code /training/*}): one place for the URL, the bearer token, the
 * timeouts and how an answer or a refusal reaches the user (a refusal is a one-line {@link UserError}, exit 2).
 */
final class ManagementClient {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String base;

    ManagementClient(String management) {
        this.base = management.replaceAll("/+$", "");
    }

    /** The token given, else {@code $DINOJ_MANAGEMENT_TOKEN}; a UserError naming {@code what} when there is none. */
    static String token(String given, String what) {
        String bearer = given != null ? given : System.getenv().getOrDefault("DINOJ_MANAGEMENT_TOKEN", "");
        if (bearer.isBlank()) {
            throw new UserError(what + " needs the management token: pass --token or set DINOJ_MANAGEMENT_TOKEN");
        }
        return bearer;
    }

    /** The token given, else {@code $DINOJ_MANAGEMENT_TOKEN}, else null (a GET route may be open). */
    static String optionalToken(String given) {
        String bearer = given != null ? given : System.getenv().getOrDefault("DINOJ_MANAGEMENT_TOKEN", "");
        return bearer.isBlank() ? null : bearer;
    }

    /** GET {@code path}, with the token unless it is null: the body of a 200 answer. */
    String get(String path, String token) {
        HttpRequest.Builder request = HttpRequest.newBuilder().GET();
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> r = send(path, request);
        if (r.statusCode() != 200) {
            String hint = r.statusCode() == 401 && token == null ? " (pass --token or set DINOJ_MANAGEMENT_TOKEN)" : "";
            throw new UserError(
                    base + path + ": HTTP " + r.statusCode() + ": " + r.body().trim() + hint);
        }
        return r.body();
    }

    /** POST {@code body} (JSON; null = none) to {@code path} with the token: the coordinator's message when accepted. */
    String post(String path, String token, Map<String, ?> body) {
        String json;
        try {
            json = body == null ? "" : JSON.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        HttpResponse<String> r = send(
                path,
                HttpRequest.newBuilder()
                        .header("Content-Type", "application/json")
                        .header("Authorization", "Bearer " + token)
                        .POST(HttpRequest.BodyPublishers.ofString(json)));
        String message = r.body().trim();
        try {
            JsonNode n = JSON.readTree(r.body());
            if (n != null && n.has("message")) {
                message = n.get("message").asText();
            }
        } catch (JsonProcessingException e) {
            // plain-text answer (400, 401, 403, 503): shown as is
        }
        if (r.statusCode() != 200) {
            throw new UserError(base + path + ": HTTP " + r.statusCode() + ": " + message);
        }
        return message;
    }

    private HttpResponse<String> send(String path, HttpRequest.Builder request) {
        String uri = base + path;
        try {
            return HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(3))
                    .build()
                    .send(
                            request.uri(URI.create(uri))
                                    .timeout(Duration.ofSeconds(15))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
        } catch (IOException | IllegalArgumentException e) {
            throw new UserError(uri + ": no answer (" + e.getMessage()
                    + "); start a node (./dinoj node, ./dinoj cluster " + "up) or pass --management");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError(uri + ": interrupted");
        }
    }
}

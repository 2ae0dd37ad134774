package dev.dinoj.pipeline.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BackoffTest {
    static final Duration MS = Duration.ofMillis(1);

    @Test
    void shouldTryAgainAfterTransientFailuresAndStopAtOnceOnPermanentOnes() {
        AtomicInteger calls = new AtomicInteger();
        List<Integer> retried = new ArrayList<>();
        String v = Backoff.retry(
                5,
                MS,
                MS,
                () -> {
                    if (calls.incrementAndGet() < 3) {
                        throw new CompletionException(
                                new StorageException(StorageException.Kind.TRANSIENT, "503 Slow Down"));
                    }
                    return "listed";
                },
                (a, e) -> retried.add(a));
        assertEquals("listed", v);
        assertEquals(List.of(1, 2), retried);

        calls.set(0);
        StorageException denied = new StorageException(StorageException.Kind.PERMANENT, "403 AccessDenied");
        RuntimeException e = assertThrows(
                RuntimeException.class,
                () -> Backoff.retry(
                        5,
                        MS,
                        MS,
                        () -> {
                            calls.incrementAndGet();
                            throw denied;
                        },
                        (a, x) -> {}));
        assertSame(denied, e);
        assertEquals(1, calls.get(), "a 403 is not tried again");

        calls.set(0);
        assertThrows(
                CompletionException.class,
                () -> Backoff.retry(
                        3,
                        MS,
                        MS,
                        () -> {
                            calls.incrementAndGet();
                            throw new CompletionException(new StorageException(StorageException.Kind.TRANSIENT, "x"));
                        },
                        (a, x) -> {}));
        assertEquals(3, calls.get(), "all attempts, then the last failure");
    }
}

package dev.dinoj.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.PrintStream;
import org.junit.jupiter.api.Test;

class StdStreamsTest {

    @Test
    void shouldCaptureBothStreamsAndTheValue() {
        PrintStream out = System.out;
        PrintStream err = System.err;
        StdStreams.Captured<Integer> c = StdStreams.capture(() -> {
            System.out.println("to out é");
            System.err.print("to err");
            return 7;
        });
        assertEquals(7, c.value());
        assertEquals("to out é" + System.lineSeparator(), c.out());
        assertEquals("to err", c.err());
        assertSame(out, System.out);
        assertSame(err, System.err);
    }

    @Test
    void shouldPutTheStreamsBackWhenTheBodyThrows() {
        PrintStream out = System.out;
        PrintStream err = System.err;
        assertThrows(
                IllegalStateException.class,
                () -> StdStreams.capture(() -> {
                    throw new IllegalStateException("boom");
                }));
        assertSame(out, System.out);
        assertSame(err, System.err);
    }
}

package dev.dinoj.trainer.collective.transport;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import org.agrona.DirectBuffer;

/**
 * NIO views of Aeron's log buffers for the {@link Kernels}: float32 and bf16 views of the term buffers fragments are
 * read from, made once per term buffer (found again by identity), and bf16 views of the log buffers chunks are
 * claimed in, made once per log buffer. The views live as long as this object; a view is allocated only the first
 * time a buffer is seen.
 */
public final class BufferViews {
    private static final int TERM_SLOTS = 96;
    private static final int SEND_SLOTS = 8;

    private final DirectBuffer[] termKeys = new DirectBuffer[TERM_SLOTS];
    private final FloatBuffer[] termFloats = new FloatBuffer[TERM_SLOTS];
    private final ShortBuffer[] termShorts = new ShortBuffer[TERM_SLOTS];
    private int termCount;
    private int termEvict;
    private int lastTermSlot;
    private final ByteBuffer[] sendKeys = new ByteBuffer[SEND_SLOTS];
    private final ShortBuffer[] sendShorts = new ShortBuffer[SEND_SLOTS];
    private int sendCount;
    private int sendEvict;

    /**
     * A float32 view of a term buffer, indexed from the buffer's offset 0; its bf16 view is then
     * {@link #lastTermShorts()}.
     *
     * @param term the buffer a fragment was read from
     * @return the view, or null when the buffer wraps no {@link ByteBuffer} or is not 4-byte aligned
     */
    public FloatBuffer termFloats(final DirectBuffer term) {
        for (int i = 0; i < termCount; i++) {
            if (termKeys[i] == term) {
                lastTermSlot = i;
                return termFloats[i];
            }
        }

        final ByteBuffer bb = term.byteBuffer();
        if (null == bb || (term.wrapAdjustment() & 3) != 0) {
            return null;
        }

        final ByteBuffer d = bb.duplicate();
        d.clear();
        d.position(term.wrapAdjustment());
        d.limit(term.wrapAdjustment() + term.capacity());
        final ByteBuffer slice = d.slice().order(ByteOrder.nativeOrder());
        final int slot;
        if (termCount < TERM_SLOTS) {
            slot = termCount++;
        } else {
            slot = termEvict;
            termEvict = (termEvict + 1) % TERM_SLOTS;
        }
        termKeys[slot] = term;
        termFloats[slot] = slice.asFloatBuffer();
        termShorts[slot] = slice.asShortBuffer();
        lastTermSlot = slot;

        return termFloats[slot];
    }

    /**
     * The bf16 view of the term buffer of the last successful {@link #termFloats(DirectBuffer)}.
     *
     * @return the view, indexed from the buffer's offset 0
     */
    public ShortBuffer lastTermShorts() {
        return termShorts[lastTermSlot];
    }

    /**
     * A bf16 view of the whole log buffer behind a claimed frame, indexed from the log buffer's start (add the
     * frame buffer's {@link DirectBuffer#wrapAdjustment()} to its offsets).
     *
     * @param frame the buffer of a {@code BufferClaim}
     * @return the view, or null when the frame wraps no {@link ByteBuffer}
     */
    public ShortBuffer sendShorts(final DirectBuffer frame) {
        final ByteBuffer bb = frame.byteBuffer();
        if (null == bb) {
            return null;
        }

        for (int i = 0; i < sendCount; i++) {
            if (sendKeys[i] == bb) {
                return sendShorts[i];
            }
        }

        final ByteBuffer d = bb.duplicate();
        d.clear();
        final int slot;
        if (sendCount < SEND_SLOTS) {
            slot = sendCount++;
        } else {
            slot = sendEvict;
            sendEvict = (sendEvict + 1) % SEND_SLOTS;
        }
        sendKeys[slot] = bb;
        sendShorts[slot] = d.order(ByteOrder.nativeOrder()).asShortBuffer();

        return sendShorts[slot];
    }
}

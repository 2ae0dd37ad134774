package dev.dinoj.trainer.collective;

import dev.dinoj.trainer.collective.transport.Wire;
import java.util.Locale;

/** How float32 vectors travel: as float32, or rounded to bfloat16 (half the bytes; sums still accumulate in float32). */
public enum WireFormat {
    F32(Wire.FLOAT32),
    BF16(Wire.BFLOAT16);

    private final byte code;

    WireFormat(byte code) {
        this.code = code;
    }

    /** The byte written into each chunk header. */
    public byte code() {
        return code;
    }

    public static WireFormat parse(String s) {
        switch (s.toLowerCase(Locale.ROOT)) {
            case "f32":
            case "fp32":
            case "float32":
                return F32;
            case "bf16":
            case "bfloat16":
                return BF16;
            default:
                throw new IllegalArgumentException("unknown wire format '" + s + "': use f32 or bf16");
        }
    }
}

package dev.dinoj.actors.serialization;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.serializers.DefaultArraySerializers.ObjectArraySerializer;

/**
 * Kryo's object-array serializer with the length checked against the bytes left (see {@link BoundedInput}) before
 * the array is allocated.
 */
final class BoundedObjectArraySerializer extends ObjectArraySerializer {

    BoundedObjectArraySerializer(Kryo kryo, Class<?> type) {
        super(kryo, type);
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Object[] read(Kryo kryo, Input input, Class type) {
        if (input instanceof BoundedInput bounded) {
            int start = bounded.position();
            int length = bounded.readVarInt(true); // length + 1, 0 = null
            bounded.setPosition(start);
            if (length > 0) {
                bounded.checkLength(length - 1L, "array");
            }
        }
        return super.read(kryo, input, type);
    }
}

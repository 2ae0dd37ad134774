package dev.dinoj.actors.serialization;

import akka.actor.ExtendedActorSystem;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorRefResolver;
import akka.actor.typed.javadsl.Adapter;
import akka.serialization.SerializerWithStringManifest;
import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.Pool;
import java.io.NotSerializableException;

/**
 * Akka serializer for {@link dev.dinoj.actors.ClusterMessage}s: Kryo with {@code registrationRequired}. The manifest
 * is the class name, and it is looked up only among the {@link ClusterRegistry} classes: a message whose class (or
 * any class inside it) is not registered is refused when sent, and bytes that name an unregistered class are refused
 * when received, before anything is instantiated. Typed {@link ActorRef}s travel as their serialization format.
 */
public final class KryoClusterSerializer extends SerializerWithStringManifest {

    /** Akka serializer id (unique among the system's serializers). */
    public static final int IDENTIFIER = 0x64696e6f; // "dino"

    private final ClusterRegistry registry;
    private final Pool<Kryo> kryos;

    public KryoClusterSerializer(ExtendedActorSystem system) {
        this.registry = ClusterRegistry.of(
                system.settings().config().getStringList("dinoj.actors.serialization.extra-classes"),
                system.dynamicAccess().classLoader());
        ActorRefResolver resolver = ActorRefResolver.get(Adapter.toTyped(system));
        this.kryos = new Pool<>(true, false, 16) {
            @Override
            protected Kryo create() {
                Kryo k = new Kryo();
                k.setRegistrationRequired(true);
                k.setReferences(false);
                k.setClassLoader(system.dynamicAccess().classLoader());
                ActorRefSerializer refs = new ActorRefSerializer(resolver);
                k.addDefaultSerializer(ActorRef.class, refs);
                k.register(akka.actor.typed.internal.adapter.ActorRefAdapter.class, refs, ClusterRegistry.FIRST_ID - 1);
                int id = ClusterRegistry.FIRST_ID;
                for (Class<?> c : registry.classes()) {
                    if (c.isArray() && !c.getComponentType().isPrimitive()) {
                        k.register(c, new BoundedObjectArraySerializer(k, c), id++);
                    } else {
                        k.register(c, id++);
                    }
                }
                return k;
            }
        };
    }

    @Override
    public int identifier() {
        return IDENTIFIER;
    }

    @Override
    public String manifest(Object o) {
        return o.getClass().getName();
    }

    @Override
    public byte[] toBinary(Object o) {
        if (!registry.contains(o.getClass())) {
            throw new IllegalArgumentException(
                    "cluster message class " + o.getClass().getName() + " is not registered "
                            + "for the Kryo serializer; add it to ClusterRegistry.BUILT_IN or dinoj.actors.serialization.extra-classes");
        }
        Kryo k = kryos.obtain();
        try (Output out = new Output(256, -1)) {
            k.writeObject(out, o);
            return out.toBytes();
        } catch (KryoException e) {
            throw new IllegalArgumentException(
                    "cannot serialize " + o.getClass().getName() + ": " + e.getMessage(), e);
        } finally {
            kryos.free(k);
        }
    }

    @Override
    public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
        Class<?> c = registry.lookup(manifest);
        if (c == null) {
            throw new NotSerializableException("refused a cluster message of unregistered class " + manifest
                    + " (not in ClusterRegistry or dinoj.actors.serialization.extra-classes)");
        }
        Kryo k = kryos.obtain();
        try (Input in = new BoundedInput(bytes)) {
            return k.readObject(in, c);
        } catch (RuntimeException e) {
            // any failure of a received message (forged lengths, a record's checks, a truncated buffer) drops that
            // message: Artery logs it and carries on; nothing here may take the node down
            NotSerializableException n = new NotSerializableException(
                    "dropped a " + manifest + " of " + bytes.length + " bytes that cannot be read: " + e);
            n.initCause(e);
            throw n;
        } finally {
            kryos.free(k);
        }
    }

    /** A typed actor ref as its serialization format (address and path), resolved on the receiving system. */
    private static final class ActorRefSerializer extends Serializer<ActorRef<?>> {
        private final ActorRefResolver resolver;

        ActorRefSerializer(ActorRefResolver resolver) {
            this.resolver = resolver;
        }

        @Override
        public void write(Kryo kryo, Output output, ActorRef<?> ref) {
            output.writeString(resolver.toSerializationFormat(ref));
        }

        @Override
        public ActorRef<?> read(Kryo kryo, Input input, Class<? extends ActorRef<?>> type) {
            return resolver.resolveActorRef(input.readString());
        }
    }
}

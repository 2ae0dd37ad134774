package dev.dinoj.trainer.collective;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An ordered group of ranks and their Aeron endpoints, at one generation, with the world's secret. Whoever forms the
 * group (the test, the bench, the launcher of local ranks, the cluster's coordinator) gives every rank the same
 * world; rank {@code r} is {@code members().get(r)}. When the group changes, the new world gets a higher generation
 * and a new secret, and chunks of older generations are never accepted.
 *
 * <p><b>The secret</b> is a random 64-bit number ({@link #newSecret()}) that every chunk of the world's collectives
 * carries and every rank requires, so that someone who can reach a rank's inbox but cannot read the world's traffic
 * cannot add chunks to a collective. It is handed to the ranks apart from the spec, which may end up on a command
 * line or in a log: in the environment of a rank JVM ({@link #SECRET_ENV}), in the coordinator's message over Artery.
 * {@link #toString()} and {@link #spec()} never show it.
 */
public final class World {

    /**
     * The environment variable that hands a rank JVM its world's secret, in hex: not on its command line, which any
     * user sees in {@code ps}; a process's environment is readable by its own user and root only.
     */
    public static final String SECRET_ENV = "DINOJ_COLLECTIVE_SECRET";

    private static final SecureRandom RANDOM = new SecureRandom();

    private final List<Member> members;
    private final int generation;
    private final long secret;

    /**
     * @param members    in rank order
     * @param generation 0 to 65535
     * @param secret     the value every chunk of this world carries (the same on every rank)
     */
    public World(List<Member> members, int generation, long secret) {
        if (members.isEmpty()) {
            throw new IllegalArgumentException("a world needs at least one member");
        }
        if (members.size() > 1024) {
            throw new IllegalArgumentException("at most 1024 ranks: " + members.size());
        }
        if (generation < 0 || generation > 0xFFFF) {
            throw new IllegalArgumentException("generation must be in [0, 65535]: " + generation);
        }
        this.members = List.copyOf(members);
        this.generation = generation;
        this.secret = secret;
    }

    /** A fresh random secret for a new world (or generation), from {@link SecureRandom}. */
    public static long newSecret() {
        return RANDOM.nextLong();
    }

    /** {@code host:port[@driverDir],host:port[@driverDir],…} in rank order. */
    public static World parse(String spec, int generation, long secret) {
        List<Member> m = new ArrayList<>();
        for (String part : spec.split(",")) {
            if (!part.isBlank()) {
                m.add(Member.parse(part));
            }
        }
        return new World(m, generation, secret);
    }

    /**
     * The world of a rank JVM: {@link #parse} of {@code spec} with the secret its launcher put into
     * {@link #SECRET_ENV} ({@link #secretEnvironment()}).
     *
     * @throws IllegalStateException if the variable is missing or not a hex number
     */
    public static World fromEnvironment(String spec, int generation) {
        String hex = System.getenv(SECRET_ENV);
        if (hex == null || hex.isBlank()) {
            throw new IllegalStateException("no collective secret: a rank JVM gets it in the environment variable "
                    + SECRET_ENV + " from the JVM that starts it (LocalRanks)");
        }
        try {
            return parse(spec, generation, Long.parseUnsignedLong(hex.trim(), 16));
        } catch (NumberFormatException e) {
            throw new IllegalStateException(SECRET_ENV + " is not a 64-bit hex number");
        }
    }

    /** The environment that hands this world's secret to a rank JVM ({@link #fromEnvironment}). */
    public Map<String, String> secretEnvironment() {
        return Map.of(SECRET_ENV, Long.toHexString(secret));
    }

    /**
     * {@code n} ranks on this host sharing one media driver in {@code driverDir}: IPC between all of them (the UDP
     * ports, from {@code basePort}, are then only the ranks' identities); a fresh secret.
     */
    public static World localIpc(int n, String driverDir, int basePort, int generation) {
        List<Member> m = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            m.add(new Member("127.0.0.1", basePort + r, driverDir));
        }
        return new World(m, generation, newSecret());
    }

    /**
     * {@code n} ranks on loopback, each with a media driver of its own under {@code dirPrefix + r}: UDP between all;
     * a fresh secret.
     */
    public static World localUdp(int n, String dirPrefix, int basePort, int generation) {
        List<Member> m = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            m.add(new Member("127.0.0.1", basePort + r, dirPrefix + r));
        }
        return new World(m, generation, newSecret());
    }

    public int size() {
        return members.size();
    }

    public int generation() {
        return generation;
    }

    /** The value every chunk of this world carries; never logged. */
    public long secret() {
        return secret;
    }

    public Member member(int rank) {
        return members.get(rank);
    }

    public List<Member> members() {
        return members;
    }

    /**
     * The index of {@code rank} among the ranks on its host (members with the same host, in rank order): the GPU that
     * {@code dinoj.device = cuda} gives it.
     */
    public int localRank(int rank) {
        String host = members.get(rank).host();
        int local = 0;
        for (int r = 0; r < rank; r++) {
            if (members.get(r).host().equals(host)) {
                local++;
            }
        }
        return local;
    }

    /** Whether ranks {@code a} and {@code b} use the same media driver (and so talk over IPC). */
    public boolean sharesDriver(int a, int b) {
        Member x = members.get(a);
        Member y = members.get(b);
        return x.host().equals(y.host()) && x.driverDir().equals(y.driverDir());
    }

    /** The same members at the next generation, with a fresh secret (after a failure, before re-forming). */
    public World nextGeneration() {
        return new World(members, generation + 1, newSecret());
    }

    /** The spec {@link #parse} reads (without the secret). */
    public String spec() {
        StringBuilder sb = new StringBuilder();
        for (Member m : members) {
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(m);
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return "World(gen " + generation + ": " + spec() + ")";
    }
}

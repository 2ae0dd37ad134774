package dev.dinoj.trainer.collective;

import java.util.ArrayList;
import java.util.List;

/**
 * An ordered group of ranks and their Aeron endpoints, at one generation. Whoever forms the group (the test, the
 * bench, later the coordinator) gives every rank the same world; rank {@code r} is {@code members().get(r)}. When
 * the group changes, the new world gets a higher generation, and chunks of older generations are never accepted.
 */
public final class World {

    private final List<Member> members;
    private final int generation;

    public World(List<Member> members, int generation) {
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
    }

    /** {@code host:port[@driverDir],host:port[@driverDir],…} in rank order. */
    public static World parse(String spec, int generation) {
        List<Member> m = new ArrayList<>();
        for (String part : spec.split(",")) {
            if (!part.isBlank()) {
                m.add(Member.parse(part));
            }
        }
        return new World(m, generation);
    }

    /**
     * {@code n} ranks on this host sharing one media driver in {@code driverDir}: IPC between all of them (the UDP
     * ports, from {@code basePort}, are then only the ranks' identities).
     */
    public static World localIpc(int n, String driverDir, int basePort, int generation) {
        List<Member> m = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            m.add(new Member("127.0.0.1", basePort + r, driverDir));
        }
        return new World(m, generation);
    }

    /** {@code n} ranks on loopback, each with a media driver of its own under {@code dirPrefix + r}: UDP between all. */
    public static World localUdp(int n, String dirPrefix, int basePort, int generation) {
        List<Member> m = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            m.add(new Member("127.0.0.1", basePort + r, dirPrefix + r));
        }
        return new World(m, generation);
    }

    public int size() {
        return members.size();
    }

    public int generation() {
        return generation;
    }

    public Member member(int rank) {
        return members.get(rank);
    }

    public List<Member> members() {
        return members;
    }

    /** Whether ranks {@code a} and {@code b} use the same media driver (and so talk over IPC). */
    public boolean sharesDriver(int a, int b) {
        Member x = members.get(a);
        Member y = members.get(b);
        return x.host().equals(y.host()) && x.driverDir().equals(y.driverDir());
    }

    /** The same members at the next generation (after a failure, before re-forming). */
    public World nextGeneration() {
        return new World(members, generation + 1);
    }

    /** The spec {@link #parse} reads. */
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
